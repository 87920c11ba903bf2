/** Migration 5 (group files): a database from before it keeps its transfers and messages readable, as before. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../../../src/chat/store/migrations.ts';
import { openSqlite } from '../../../src/chat/store/sqlite.ts';
import { openStore, tempDir } from './store-harness.ts';

test('a version-4 database: its transfers are friends’ (no group), its group messages texts (no file)', () => {
  const dir = tempDir();
  const path = join(dir, 'chat.sqlite');
  const db = openSqlite(path, {});
  migrate(db, path, MIGRATIONS.slice(0, 4));
  const peer = Buffer.alloc(32, 5);
  db.prepare(
    `INSERT INTO file_transfers (id, peer, direction, name, size_bytes, piece_bytes, root, state, created_ms,
       updated_ms) VALUES (?, ?, 'incoming', 'a.txt', 10, 262144, ?, 'offered', 1, 1)`,
  ).run(Buffer.alloc(16, 1), peer, Buffer.alloc(32, 2));
  const groupId = Buffer.alloc(32, 9);
  db.prepare(`INSERT INTO groups (group_id, state, created_ms, updated_ms) VALUES (?, 'member', 1, 1)`).run(
    groupId,
  );
  db.prepare(
    `INSERT INTO group_entries (hash, group_id, kind, author, seq, lamport, created_ms, received_ms, parents, bytes,
       text, status, is_read) VALUES (?, ?, 'message', ?, 1, 1, 1, 1, ?, ?, 'hello', 'ok', 0)`,
  ).run(Buffer.alloc(32, 3), groupId, peer, Buffer.alloc(0), Buffer.alloc(10));
  db.close();
  const store = openStore(path);
  try {
    assert.equal(store.schemaVersion(), SCHEMA_VERSION);
    const [row] = store.files.list();
    assert.equal(row?.name, 'a.txt');
    assert.equal(row?.group, undefined);
    const [message] = store.groups.messages(groupId, {});
    assert.equal(message?.text, 'hello');
    assert.equal(message?.fileId, undefined);
    // And a group's transfer is stored and found by id.
    const own = store.files.insert({
      id: Buffer.alloc(16, 7),
      peer: Buffer.alloc(32, 6),
      direction: 'outgoing',
      name: 'b.bin',
      sizeBytes: 1,
      pieceBytes: 262144,
      root: Buffer.alloc(32, 8),
      state: 'offered',
      group: groupId,
    });
    assert.deepEqual(own.group, groupId);
    assert.deepEqual(
      store.files.groupTransfers(Buffer.alloc(16, 7)).map((t) => t.localId),
      [own.localId],
    );
    assert.deepEqual(
      store.files.groupTransfers(Buffer.alloc(16, 1)),
      [],
      'a friend’s transfer is no group’s',
    );
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
