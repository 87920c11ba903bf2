/** Sizes and progress as the Files screen shows them (ui/src/lib/format-bytes.ts), worded as the CLI words them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, percentOf } from '../../../ui/src/lib/format-bytes.ts';

test('bytes below 1 KiB as bytes, then KiB, MiB, GiB, TiB with one decimal', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.0 KiB');
  assert.equal(formatBytes(3 * 1024 * 1024 + 17), '3.0 MiB');
  assert.equal(formatBytes(4 * 1024 ** 3), '4.0 GiB');
  assert.equal(formatBytes(2048 * 1024 ** 4), '2048.0 TiB', 'past the last unit the number grows');
});

test('whole percent, never over 100; an empty file is done', () => {
  assert.equal(percentOf(0, 1000), 0);
  assert.equal(percentOf(999, 1000), 99, 'floored: 100 only when complete');
  assert.equal(percentOf(1000, 1000), 100);
  assert.equal(percentOf(2000, 1000), 100);
  assert.equal(percentOf(0, 0), 100);
});
