/**
 * Commit durability (store-context.ts): a 'process-crash' commit runs with synchronous=NORMAL for that commit
 * alone and the connection's mode is back afterwards, also when the write throws; nested in another transaction
 * it changes nothing (the outer commit decides). Surviving kill -9 is crash.test.ts's (its child mixes them in).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqlite, type SqliteDatabase } from '../../../src/chat/store/sqlite.ts';
import { StoreContext } from '../../../src/chat/store/store-context.ts';
import { ManualClock, SeededRandom } from '../../../src/runtime/index.ts';
import { ME, tempDir } from './store-harness.ts';

function withContext(mode: 'FULL' | 'NORMAL', body: (ctx: StoreContext, db: SqliteDatabase) => void): void {
  const dir = tempDir();
  const db = openSqlite(join(dir, 'chat.sqlite'), {});
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${mode}`);
    db.exec('CREATE TABLE t (x INTEGER)');
    body(new StoreContext(db, join(dir, 'chat.sqlite'), new ManualClock(), new SeededRandom('d'), ME), db);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const FULL = 2;
const NORMAL = 1;
const synchronous = (db: SqliteDatabase): number => Number(db.pragma('synchronous', { simple: true }));

test("a 'process-crash' commit is not fsync'd, and the store's FULL is back right after", () => {
  withContext('FULL', (ctx, db) => {
    let during = -1;
    ctx.write(
      'relaxed',
      () => {
        db.prepare('INSERT INTO t VALUES (1)').run();
        during = synchronous(db);
      },
      'process-crash',
    );
    assert.equal(during, NORMAL);
    assert.equal(synchronous(db), FULL);
    ctx.write('default', () => {
      during = synchronous(db);
    });
    assert.equal(during, FULL, "the default is 'power-loss'");
    assert.throws(() =>
      ctx.write(
        'failing',
        () => {
          throw new Error('rolled back');
        },
        'process-crash',
      ),
    );
    assert.equal(synchronous(db), FULL, 'restored after a failed write too');
    assert.equal(Number(db.prepare('SELECT count(*) AS n FROM t').get()?.['n']), 1);
  });
});

test("nested in an fsync'd transaction a 'process-crash' write changes nothing; a NORMAL store stays NORMAL", () => {
  withContext('FULL', (ctx, db) => {
    let during = -1;
    ctx.write('outer', () => {
      ctx.write(
        'inner',
        () => {
          during = synchronous(db);
        },
        'process-crash',
      );
    });
    assert.equal(during, FULL);
  });
  withContext('NORMAL', (ctx, db) => {
    ctx.write('relaxed', () => {}, 'process-crash');
    assert.equal(synchronous(db), NORMAL);
  });
});
