/** The file hash tree against a deliberately naive RFC 6962 twin, and the layouts a sender picks or a receiver takes. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  DEFAULT_PIECE_BYTES,
  type FileLayout,
  layoutFor,
  layoutOf,
  MAX_LAYOUT_BYTES,
  MAX_PIECE_BYTES,
  MAX_PIECES,
  pieceLength,
} from '../../../src/chat/files/file-layout.ts';
import { fileRoot, hashAt, isHashListOf, pieceHash, treeHash } from '../../../src/chat/files/hash-tree.ts';

const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 6962 §2.1 MTH, recursively, exactly as written there. */
function naiveTreeHash(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.of(1), naiveTreeHash(leaves.slice(0, k)), naiveTreeHash(leaves.slice(k)));
}

describe('file hash tree', () => {
  test('matches the recursive RFC 6962 tree for 0..70 leaves', () => {
    for (let n = 0; n <= 70; n++) {
      const leaves = Array.from({ length: n }, (_, i) => pieceHash(Buffer.from(`piece ${i}`)));
      assert.deepEqual(treeHash(Buffer.concat(leaves)), naiveTreeHash(leaves), `${n} leaves`);
    }
  });

  test('a leaf is SHA-256(0x00 ‖ piece): it can never pass for an inner node', () => {
    const piece = Buffer.from('abc');
    assert.deepEqual(pieceHash(piece), sha256(Buffer.of(0), piece));
    const [a, b] = [pieceHash(Buffer.from('a')), pieceHash(Buffer.from('b'))];
    // Someone offering the inner node's preimage as a single piece gets another leaf, not the node.
    assert.notDeepEqual(pieceHash(Buffer.concat([a, b])), treeHash(Buffer.concat([a, b])));
  });

  test('the root binds size and piece size; a list verifies only whole, in order, for its layout', () => {
    const layout: FileLayout = { sizeBytes: 3 * 16384 - 5, pieceBytes: 16384, pieceCount: 3 };
    const hashes = Buffer.concat([0, 1, 2].map((i) => pieceHash(Buffer.from([i]))));
    const root = fileRoot(layout, hashes);
    assert.ok(isHashListOf(layout, hashes, root));
    assert.ok(!isHashListOf({ ...layout, sizeBytes: layout.sizeBytes + 1 }, hashes, root), 'size bound');
    const swapped = Buffer.concat([hashAt(hashes, 1), hashAt(hashes, 0), hashAt(hashes, 2)]);
    assert.ok(!isHashListOf(layout, swapped, root), 'order bound');
    assert.ok(!isHashListOf(layout, hashes.subarray(0, 64), root), 'whole list');
    const flipped = Buffer.from(hashes);
    flipped[40] = (flipped[40] as number) ^ 1;
    assert.ok(!isHashListOf(layout, flipped, root));
  });

  test('layouts: 256 KiB pieces until 65,536 of them, then doubling; an empty file has no piece', () => {
    assert.deepEqual(layoutFor(0), { sizeBytes: 0, pieceBytes: DEFAULT_PIECE_BYTES, pieceCount: 0 });
    assert.equal(layoutFor(1).pieceCount, 1);
    assert.equal(layoutFor(2 ** 30).pieceCount, 4096);
    assert.equal(layoutFor(16 * 2 ** 30).pieceBytes, DEFAULT_PIECE_BYTES);
    assert.equal(layoutFor(16 * 2 ** 30 + 1).pieceBytes, 2 * DEFAULT_PIECE_BYTES);
    assert.equal(layoutFor(MAX_LAYOUT_BYTES).pieceBytes, MAX_PIECE_BYTES);
    assert.throws(() => layoutFor(MAX_LAYOUT_BYTES + 1), RangeError);
    const layout = layoutFor(5 * 2 ** 20 + 7);
    assert.equal(pieceLength(layout, 0), DEFAULT_PIECE_BYTES);
    assert.equal(pieceLength(layout, layout.pieceCount - 1), 7);
    assert.equal(pieceLength(layout, layout.pieceCount), 0);
    assert.equal(pieceLength(layout, -1), 0);
  });

  test('an offered layout is taken only within limits (a value, never a throw)', () => {
    assert.deepEqual(layoutOf(100, 16384), { sizeBytes: 100, pieceBytes: 16384, pieceCount: 1 });
    for (const [size, piece] of [
      [100, 16383],
      [100, 3 * 16384],
      [100, 2 * MAX_PIECE_BYTES],
      [-1, 16384],
      [2 ** 53, 16384],
      [MAX_PIECES * 16384 + 1, 16384],
      [1.5, 16384],
    ] as const) {
      assert.equal(layoutOf(size, piece), undefined, `${size}/${piece}`);
    }
  });
});
