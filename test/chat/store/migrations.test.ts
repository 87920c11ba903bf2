import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../../../src/chat/store/migrations.ts';
import { openSqlite } from '../../../src/chat/store/sqlite.ts';
import { codeOf, makeHarness, openStore, tempDir } from './store-harness.ts';

describe('chat store schema and migrations', () => {
  test('migrations are numbered 1..N with no gaps', () => {
    assert.deepEqual(
      MIGRATIONS.map((m) => m.version),
      MIGRATIONS.map((_m, i) => i + 1),
    );
    assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
  });

  test('a new database is at the latest version, in WAL mode, with every table', () => {
    const h = makeHarness();
    try {
      assert.equal(h.store.schemaVersion(), SCHEMA_VERSION);
      h.store.kv.set('wal', Buffer.from('1'));
      assert.ok(existsSync(`${h.path}-wal`), 'WAL journal in use');
      const db = openSqlite(':memory:', {});
      migrate(db, ':memory:');
      const tables = db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
        .all()
        .map((r) => r['name']);
      assert.deepEqual(tables, [
        'contact_endpoints',
        'contacts',
        'file_hash_lists',
        'file_transfers',
        'friend_requests',
        'group_boundaries',
        'group_bundle_entries',
        'group_bundle_parts',
        'group_bundles',
        'group_entries',
        'group_fetched',
        'group_frontiers',
        'group_heads',
        'group_invites_sent',
        'group_keys',
        'group_member_endpoints',
        'groups',
        'kv',
        'messages',
        'offline_bundle_messages',
        'offline_bundle_parts',
        'offline_bundles',
        'offline_fetched',
        'prekeys',
        'record_seqs',
        'request_rate',
      ]);
      db.close();
    } finally {
      h.cleanup();
    }
  });

  test('reopening applies nothing and keeps the data', () => {
    const h = makeHarness();
    try {
      h.store.kv.set('x', Buffer.from('y'));
      const store = h.reopen();
      assert.equal(store.schemaVersion(), SCHEMA_VERSION);
      assert.equal(store.kv.get('x')?.toString(), 'y');
      assert.equal(store.contacts.list().length, 2);
    } finally {
      h.cleanup();
    }
  });

  test('a later migration applies on top of an existing database; a failing one rolls back whole', () => {
    const db = openSqlite(':memory:', {});
    const v1 = [{ version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER);' }];
    assert.deepEqual(migrate(db, 'mem', v1), [1]);
    db.exec('INSERT INTO a VALUES (1)');
    const v2 = [...v1, { version: 2, name: 'two', sql: 'ALTER TABLE a ADD COLUMN y TEXT;' }];
    assert.deepEqual(migrate(db, 'mem', v2), [2]);
    const broken = [
      ...v2,
      { version: 3, name: 'bad', sql: 'CREATE TABLE b (z INTEGER); SELECT * FROM nowhere;' },
    ];
    assert.throws(() => migrate(db, 'mem', broken));
    assert.equal(db.pragma('user_version', { simple: true }), 2);
    assert.equal(db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'b'`).get()?.['n'], 0);
    assert.deepEqual(db.prepare('SELECT x, y FROM a').all(), [{ x: 1, y: null }]);
    db.close();
  });

  test('a database from a newer build is refused with CHAT_STORE_TOO_NEW and left as it was', () => {
    const dir = tempDir();
    const path = join(dir, 'chat.sqlite');
    try {
      openStore(path).close();
      const raw = openSqlite(path, {});
      raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      raw.close();
      assert.equal(
        codeOf(() => openStore(path)),
        'CHAT_STORE_TOO_NEW',
      );
      const check = openSqlite(path, {});
      assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
      check.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
