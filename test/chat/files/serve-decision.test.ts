/** decideServe: a friend gets its own offer; a group's file goes to current members only, whole or in part. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RefuseReason } from '../../../src/chat/files/file-frames.ts';
import { decideServe } from '../../../src/chat/files/serve-decision.ts';
import { BOB, CAROL, ME, openStore, tempDir } from '../store/store-harness.ts';

const GROUP = Buffer.alloc(32, 0x61);
const DAVE = Buffer.alloc(32, 0xd0);
const PIECE = 256 * 1024;

test('whom we serve what', () => {
  const dir = tempDir();
  const store = openStore(join(dir, 'chat.sqlite'));
  try {
    const base = { sizeBytes: PIECE, pieceBytes: PIECE, root: Buffer.alloc(32, 1), name: 'x' };
    const hashes = Buffer.alloc(32, 2);
    const toBob = store.files.insert({
      ...base,
      id: Buffer.alloc(16, 1),
      peer: BOB,
      direction: 'outgoing',
      state: 'offered',
      path: '/x',
      sourceModifiedMs: 5,
      hashes,
    });
    const toGroup = store.files.insert({
      ...base,
      id: Buffer.alloc(16, 2),
      peer: ME,
      direction: 'outgoing',
      state: 'offered',
      path: '/y',
      sourceModifiedMs: 6,
      hashes,
      group: GROUP,
    });
    const fromCarol = store.files.insert({
      ...base,
      id: Buffer.alloc(16, 3),
      peer: CAROL,
      direction: 'incoming',
      state: 'offered',
      group: GROUP,
    });
    const members = new Set([BOB.toString('hex'), CAROL.toString('hex')]);
    const ctx = {
      rows: store.files,
      isCurrentMember: (group: Buffer, peer: Buffer) =>
        group.equals(GROUP) && members.has(peer.toString('hex')),
      downloadOf: () => undefined,
    };
    const refused = (reason: RefuseReason) => ({ decision: { ok: false, reason } });

    // A friend's offer: to that friend only.
    const forBob = decideServe(ctx, BOB, toBob.id);
    assert.equal(forBob.decision.ok, true);
    assert.equal(forBob.row?.localId, toBob.localId);
    assert.deepEqual(decideServe(ctx, CAROL, toBob.id), refused(RefuseReason.unknown));
    // Our group offer: to every current member, not to anyone else.
    assert.equal(decideServe(ctx, BOB, toGroup.id).row?.localId, toGroup.localId);
    assert.equal(decideServe(ctx, CAROL, toGroup.id).decision.ok, true);
    assert.deepEqual(decideServe(ctx, DAVE, toGroup.id), refused(RefuseReason.unknown));
    members.delete(BOB.toString('hex'));
    assert.deepEqual(decideServe(ctx, BOB, toGroup.id), refused(RefuseReason.unknown), 'removed: refused');
    // A group file we received: not before we hold something of it; whole once complete, with its mtime noted.
    members.add(DAVE.toString('hex'));
    assert.deepEqual(decideServe(ctx, DAVE, fromCarol.id), refused(RefuseReason.unknown));
    store.files.setAccepted(fromCarol.localId, { dir: '/d', partPath: '/d/x.part' });
    store.files.saveHashes(fromCarol.localId, hashes);
    store.files.setPath(fromCarol.localId, '/d/x', 9);
    store.files.setState(fromCarol.localId, 'complete');
    const whole = decideServe(ctx, DAVE, fromCarol.id).decision;
    assert.ok(whole.ok);
    assert.equal(whole.path, '/d/x');
    assert.equal(whole.has, undefined, 'the whole file');
    // Our canceled offer: the member hears it is over.
    store.files.setState(toGroup.localId, 'canceled');
    assert.deepEqual(decideServe(ctx, CAROL, toGroup.id), refused(RefuseReason.canceled));
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
