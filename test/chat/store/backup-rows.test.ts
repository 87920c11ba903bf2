/**
 * The chat store as backup rows: a store with a row in every carried table survives export → encode → decode →
 * restore into a fresh store with every carried row equal, and without the machine-local settings or presence.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { decodeBackupStore, encodeBackupStore } from '../../../src/chat/index.ts';
import { BACKUP_TABLES } from '../../../src/chat/store/backup-rows.ts';
import { KvKey } from '../../../src/chat/store/kv.ts';
import { BOB, CAROL, codeOf, makeHarness, ME, openStore } from './store-harness.ts';

const DAVE = Buffer.alloc(32, 0xd0);
const EVE = Buffer.alloc(32, 0xe0);
const cleanups: Array<() => void> = [];

/** A store with at least one row in every table a backup carries (and the settings it must leave behind). */
function fullStore() {
  const h = makeHarness('backup-rows');
  cleanups.push(() => h.cleanup());
  const { store, clock } = h;
  clock.advance(1_000);
  store.contacts.upsert(DAVE, 'pending-outgoing', 'dave');
  store.contacts.upsert(EVE, 'blocked');
  store.contacts.setPresence(BOB, 'online');
  store.contacts.noteEndpoint(BOB, { host: '192.0.2.7', port: 4000 }, 'session');
  store.contacts.noteEndpoint(BOB, { host: '2001:db8::1', port: 4001 }, 'record');
  store.requests.saveOutgoing(DAVE, 'hi Dave, it is me');
  store.requests.receiveIncoming(EVE, 'let me in');
  store.requests.setState(EVE, 'incoming', 'declined');
  const first = store.messages.enqueue(BOB, 'hello Bob ✓');
  clock.advance(10);
  store.messages.advance(first.id, 'delivered');
  store.messages.receive({
    id: Buffer.alloc(16, 7),
    conversation: BOB,
    text: 'hi!',
    createdMs: 900,
    via: 'session',
  });
  const waiting = store.messages.enqueue(CAROL, 'for Carol, while she is away');
  store.messages.advance(waiting.id, 'stored');
  store.offline.saveBundle(
    CAROL,
    [
      { target: Buffer.alloc(20, 1), v: Buffer.alloc(880, 0x11) },
      { target: Buffer.alloc(20, 2), v: Buffer.alloc(880, 0x22) },
    ],
    [waiting.id],
  );
  store.offline.noteFetched(BOB, Buffer.alloc(20, 9));
  store.prekeys.rotate(BOB, 1, Buffer.alloc(32, 0x31));
  store.prekeys.rotate(BOB, 2, Buffer.alloc(32, 0x32));
  store.recordSeqs.nextOwnSeq(BOB, 20_000);
  store.recordSeqs.noteTheirs(BOB, 20_000, 77);
  store.kv.set('friend-prekey-test', Buffer.from('{"t":1}'));
  store.kv.set(KvKey.routingTable, Buffer.alloc(5000, 1));
  store.kv.set('app-daemon-udp-port', Buffer.from('4000'));
  return h;
}

describe('backup rows of the chat store', () => {
  after(() => {
    for (const cleanup of cleanups) cleanup();
  });

  test('every carried table has a row, and a restored store reads back the same rows', () => {
    const h = fullStore();
    const rows = h.store.backupRows();
    for (const table of BACKUP_TABLES) {
      assert.ok(
        rows.some((r) => r.table === table.name),
        `no ${table.name} row in the test store`,
      );
    }
    const bytes = encodeBackupStore({ owner: ME, rows });
    const decoded = decodeBackupStore(bytes);
    assert.deepEqual(decoded.owner, ME);
    assert.deepEqual(decoded.rows, rows);

    const restored = openStore(join(h.dir, 'restored.sqlite'));
    cleanups.push(() => restored.close());
    assert.equal(restored.restoreBackupRows(decoded.rows), rows.length);
    assert.deepEqual(restored.backupRows(), rows);
    assert.deepEqual(restored.integrityCheck(), ['ok']);

    // What the rest of the store sees: the same conversation, outbox, bundle, prekeys; presence starts offline.
    assert.deepEqual(restored.messages.listForCli(BOB), h.store.messages.listForCli(BOB));
    assert.equal(restored.messages.outbox(CAROL).length, 1);
    assert.equal(restored.offline.pending(CAROL)[0]?.parts.length, 2);
    assert.deepEqual(restored.prekeys.list(BOB), h.store.prekeys.list(BOB));
    assert.equal(restored.contacts.get(BOB)?.presence, 'offline');
    assert.equal(restored.contacts.get(BOB)?.lastSeenMs, h.store.contacts.get(BOB)?.lastSeenMs);
    assert.equal(restored.requests.isDeclined(EVE), true);
    // Machine-local settings stay behind; the owner key is the new store's own.
    assert.equal(restored.kv.get(KvKey.routingTable), undefined);
    assert.equal(restored.kv.get('app-daemon-udp-port'), undefined);
    assert.deepEqual(restored.kv.get('friend-prekey-test'), Buffer.from('{"t":1}'));
    // Names are carried, their keys computed again here: a look-alike of a restored name is still refused.
    assert.equal(
      codeOf(() => restored.contacts.upsert(EVE, 'blocked', 'DAVE')),
      'CHAT_CONTACT_NAME_TAKEN',
    );
    // The next message continues the conversation's sequence.
    const next = restored.messages.enqueue(BOB, 'after the restore');
    assert.equal(next.seq, 3);
  });

  test('a restore goes only into an empty store, and all or nothing', () => {
    const h = fullStore();
    const rows = h.store.backupRows();
    assert.equal(
      codeOf(() => h.store.restoreBackupRows(rows)),
      'CHAT_STORE_BAD_ARGUMENT',
    );
    const target = openStore(join(h.dir, 'partial.sqlite'));
    cleanups.push(() => target.close());
    // A message naming a conversation that is not a contact: the foreign key refuses it, nothing is kept.
    const orphan = rows.filter((r) => r.table !== 'contacts');
    assert.ok(codeOf(() => target.restoreBackupRows(orphan))?.startsWith('CHAT_'));
    assert.deepEqual(target.backupRows(), []);
  });
});
