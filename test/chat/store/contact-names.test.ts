/**
 * Contact names under their keys in the store: one contact per name that reads alike (case, look-alikes), the
 * clash named in the error; keys filled in for a database from before them and recomputed when the rule
 * changes; friends' own profile names kept apart.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encodeFriendCode } from '../../../src/chat/friend-code.ts';
import { MIGRATIONS, migrate } from '../../../src/chat/store/migrations.ts';
import { openSqlite } from '../../../src/chat/store/sqlite.ts';
import { DhtchatError } from '../../../src/runtime/index.ts';
import { BOB, CAROL, codeOf, makeHarness, openStore, tempDir } from './store-harness.ts';

const ALICE = Buffer.alloc(32, 0xa1);
const MALLORY = Buffer.alloc(32, 0x66);

function errorOf(fn: () => unknown): DhtchatError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DhtchatError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('contact names under their keys', () => {
  test('with "Alice" a contact, "alice", "Аlice" (Cyrillic) and "a1ice" are refused, naming her', () => {
    const h = makeHarness();
    try {
      h.store.contacts.upsert(ALICE, 'accepted', 'Alice');
      for (const impostor of ['alice', '\u0410lice', 'a1ice', 'ALICE']) {
        const error = errorOf(() => h.store.contacts.upsert(MALLORY, 'pending-incoming', impostor));
        assert.equal(error.code, 'CHAT_CONTACT_NAME_TAKEN', impostor);
        assert.ok(error.message.includes(`"Alice" (${encodeFriendCode(ALICE)})`), error.message);
        assert.equal(
          codeOf(() => h.store.contacts.rename(BOB, impostor)),
          'CHAT_CONTACT_NAME_TAKEN',
        );
      }
      assert.equal(h.store.contacts.get(MALLORY), undefined, 'nothing was written');
      assert.equal(h.store.contacts.get(BOB)?.name, 'bob');
      // Her own name in another case is hers to take.
      assert.equal(h.store.contacts.rename(ALICE, 'ALICE').name, 'ALICE');
      assert.match(
        errorOf(() => h.store.contacts.rename(BOB, 'ALICE')).message,
        /already have a contact named/,
      );
    } finally {
      h.cleanup();
    }
  });

  test('findConfusable finds every contact whose name reads alike, and only those', () => {
    const h = makeHarness();
    try {
      h.store.contacts.upsert(ALICE, 'accepted', 'Ian');
      const names = (typed: string) => h.store.contacts.findConfusable(typed).map((c) => c.name);
      assert.deepEqual(names('ian'), ['Ian']);
      assert.deepEqual(names('lan'), ['Ian'], 'a capital I reads as a small L');
      assert.deepEqual(names('B0B'), ['bob']);
      assert.deepEqual(names('carol'), ['carol']);
      assert.deepEqual(names('dave'), []);
      h.store.contacts.rename(ALICE, undefined);
      assert.deepEqual(names('ian'), [], 'an unnamed contact has no keys');
    } finally {
      h.cleanup();
    }
  });

  test('a database from before name keys gets them at open, clashes and all; a new rule recomputes them', () => {
    const dir = tempDir();
    const path = join(dir, 'chat.sqlite');
    const db = openSqlite(path, {});
    migrate(db, path, MIGRATIONS.slice(0, 1));
    const insert = db.prepare(
      `INSERT INTO contacts (public_key, name, state, created_ms, updated_ms) VALUES (?, ?, 'accepted', 0, 0)`,
    );
    insert.run(ALICE, 'Alice');
    insert.run(MALLORY, 'alice'); // allowed before keys existed
    db.close();

    let store = openStore(path);
    try {
      assert.deepEqual(
        store.contacts.findConfusable('ALICE').map((c) => c.name),
        ['Alice', 'alice'],
      );
      assert.equal(store.contacts.refreshNameKeys(store.kv), 0, 'done once per rule');
      store.kv.set('contacts/name-key-version', Buffer.from('an older rule'));
      assert.equal(store.contacts.refreshNameKeys(store.kv), 2);
      store.close();
      store = openStore(path);
      assert.equal(store.contacts.findConfusable('a1ice').length, 2);
    } finally {
      store.close();
    }
  });

  test("a friend's own name is kept apart: it never picks a contact and never blocks a name", () => {
    const h = makeHarness();
    try {
      assert.equal(h.store.contacts.setProfileName(BOB, 'Robert'), true);
      assert.equal(h.store.contacts.setProfileName(BOB, 'Robert'), false, 'unchanged: nothing written');
      assert.equal(h.reopen().contacts.get(BOB)?.profileName, 'Robert');
      assert.deepEqual(h.store.contacts.findConfusable('Robert'), []);
      h.store.contacts.upsert(ALICE, 'accepted', 'Robert');
      assert.equal(
        codeOf(() => h.store.contacts.setProfileName(CAROL, 'x\u001by')),
        'CHAT_NAME_INVALID',
      );
    } finally {
      h.cleanup();
    }
  });
});
