/**
 * Opening the chat database: WAL, file mode, one process at a time (CHAT_STORE_LOCKED), corrupt files refused
 * and left byte-for-byte as they were (CHAT_STORE_CORRUPT), another identity's database refused.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ChatStore } from '../../../src/chat/store/chat-store.ts';
import { ManualClock, SeededRandom } from '../../../src/runtime/index.ts';
import { startChild } from './child-runner.ts';
import { BOB, codeOf, makeHarness, openStore, tempDir } from './store-harness.ts';

function errorOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  assert.fail('expected a throw');
}

describe('opening the chat store', () => {
  test('the database is WAL, readable only by its owner, and refuses use after close', () => {
    const h = makeHarness();
    try {
      assert.equal(statSync(h.path).mode & 0o777, 0o600);
      h.store.messages.enqueue(BOB, 'x');
      assert.equal(statSync(`${h.path}-wal`).mode & 0o777, 0o600);
      h.store.close();
      assert.equal(
        codeOf(() => h.store.messages.outbox()),
        'CHAT_STORE_CLOSED',
      );
    } finally {
      h.cleanup();
    }
  });

  test('a second open in the same process is CHAT_STORE_LOCKED, one line; the first keeps working', () => {
    const h = makeHarness();
    try {
      const startMs = performance.now();
      const err = errorOf(() => openStore(h.path));
      assert.equal(err.code, 'CHAT_STORE_LOCKED');
      assert.ok(!err.message.includes('\n'));
      assert.match(err.message, /in use by another process/);
      assert.ok(performance.now() - startMs < 2000);
      const m = h.store.messages.enqueue(BOB, 'still works');
      assert.equal(h.store.messages.get(m.id)?.text, 'still works');
      const reopened = h.reopen();
      assert.equal(reopened.messages.count(), 1);
    } finally {
      h.cleanup();
    }
  });

  test('a second daemon (another process) is refused; the first keeps writing; the lock dies with it', async () => {
    const dir = tempDir();
    const path = join(dir, 'chat.sqlite');
    const holder = startChild('hold', path);
    try {
      await Promise.race([holder.ready, holder.exited]);
      assert.equal(
        codeOf(() => openStore(path)),
        'CHAT_STORE_LOCKED',
      );
      holder.child.stdin?.write('insert\n');
      for (let i = 0; i < 200 && holder.ids.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(holder.ids.length, 1);
      holder.child.kill('SIGKILL');
      await holder.exited;
      const store = openStore(path);
      try {
        assert.equal(store.messages.get(Buffer.from(holder.ids[0] as string, 'hex'))?.text, 'from holder');
      } finally {
        store.close();
      }
    } finally {
      holder.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('garbage bytes are CHAT_STORE_CORRUPT and the file is untouched', () => {
    const dir = tempDir();
    const path = join(dir, 'chat.sqlite');
    try {
      const garbage = new SeededRandom('garbage').bytes(16_384);
      writeFileSync(path, garbage);
      const err = errorOf(() => openStore(path));
      assert.equal(err.code, 'CHAT_STORE_CORRUPT');
      assert.ok(!err.message.includes('\n'));
      assert.deepEqual(readFileSync(path), garbage);
      assert.equal(existsSync(`${path}-wal`), false);
      // Garbage behind a valid header gets past the magic check and is caught by SQLite itself.
      const disguised = Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), garbage.subarray(16)]);
      writeFileSync(path, disguised);
      assert.equal(
        codeOf(() => openStore(path)),
        'CHAT_STORE_CORRUPT',
      );
      assert.deepEqual(readFileSync(path), disguised);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a damaged page in a real database fails quick_check: CHAT_STORE_CORRUPT, file untouched', () => {
    const h = makeHarness();
    try {
      for (let i = 0; i < 300; i++) h.store.messages.enqueue(BOB, `message ${i} ${'y'.repeat(200)}`);
      h.store.close(); // Checkpoints: everything is in the main file, no WAL left.
      const bytes = readFileSync(h.path);
      const pageSize = bytes.readUInt16BE(16);
      const pages = bytes.length / pageSize;
      assert.ok(pages > 10);
      // Scribble over the middle of a late page (an interior or leaf page of the messages table).
      const damaged = Buffer.from(bytes);
      damaged.fill(0x5a, (pages - 3) * pageSize + 8, (pages - 2) * pageSize - 8);
      writeFileSync(h.path, damaged);
      const err = errorOf(() => openStore(h.path));
      assert.equal(err.code, 'CHAT_STORE_CORRUPT');
      assert.deepEqual(readFileSync(h.path), damaged);
    } finally {
      h.cleanup();
    }
  });

  test('a database made for another identity is CHAT_STORE_IDENTITY_MISMATCH; a missing directory CHAT_STORE_OPEN', () => {
    const h = makeHarness();
    try {
      h.store.close();
      const other = { clock: new ManualClock(), random: new SeededRandom(1), lockWaitMs: 50 };
      assert.equal(
        codeOf(() => ChatStore.open({ path: h.path, ownPublicKey: Buffer.alloc(32, 1), ...other })),
        'CHAT_STORE_IDENTITY_MISMATCH',
      );
      assert.equal(
        codeOf(() => ChatStore.open({ path: join(h.dir, 'no/such/dir/db'), ownPublicKey: BOB, ...other })),
        'CHAT_STORE_OPEN',
      );
      assert.equal(h.reopen().contacts.list().length, 2);
    } finally {
      h.cleanup();
    }
  });
});
