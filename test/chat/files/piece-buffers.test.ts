import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIN_POOLED_BYTES, PieceBuffers } from '../../../src/chat/files/piece-buffers.ts';

test('a buffer given back is handed out again for the same length, and only once', () => {
  const pool = new PieceBuffers(1024 * 1024);
  const first = pool.take(256 * 1024);
  assert.equal(first.length, 256 * 1024);
  pool.give(first.subarray(5)); // a view of it (a piece's data after its frame head) gives the whole back
  assert.equal(pool.spareBytes, 256 * 1024);
  pool.give(first);
  assert.equal(pool.spareBytes, 256 * 1024, 'given twice, held once');
  const again = pool.take(256 * 1024);
  assert.equal(again.buffer, first.buffer);
  assert.equal(pool.spareBytes, 0);
  const other = pool.take(256 * 1024);
  assert.notEqual(other.buffer, first.buffer, 'not handed out twice');
});

test('a spare of another length is not used; small lengths are not pooled', () => {
  const pool = new PieceBuffers(1024 * 1024);
  const piece = pool.take(256 * 1024);
  pool.give(piece);
  const last = pool.take(100_000);
  assert.equal(last.length, 100_000);
  assert.notEqual(last.buffer, piece.buffer);
  const small = pool.take(MIN_POOLED_BYTES - 1);
  pool.give(small);
  assert.equal(pool.spareBytes, 256 * 1024);
});

test('buffers it did not hand out are never taken in; what it keeps is bounded', () => {
  const pool = new PieceBuffers(512 * 1024);
  const foreign = Buffer.allocUnsafeSlow(256 * 1024);
  pool.give(foreign);
  assert.equal(pool.spareBytes, 0, 'a view into someone else memory must never be written over');
  const taken = [pool.take(256 * 1024), pool.take(256 * 1024), pool.take(256 * 1024)];
  for (const buffer of taken) pool.give(buffer);
  assert.equal(pool.spareBytes, 512 * 1024);
  // The oldest make room: spares of a size nobody asks for any more cannot block the pool.
  const odd = pool.take(100_000);
  pool.give(odd);
  assert.equal(pool.take(100_000).buffer, odd.buffer);
  assert.equal(pool.take(256 * 1024).buffer, taken[2]?.buffer, 'the newest spare was kept');
  assert.ok(pool.spareBytes <= 512 * 1024);
});
