/**
 * The hash tree of a file (docs/PROTOCOL.md "Files"): SHA-256 over each piece, a Merkle tree over those piece
 * hashes with RFC 6962's shape and leaf/node prefixes (a leaf can never pass for an inner node), and a root that
 * also binds the size and piece size under a versioned label:
 *
 *   leaf(i)    = SHA-256(0x00 ‖ piece i)
 *   node(l, r) = SHA-256(0x01 ‖ l ‖ r)          MTH(n leaves): split at the largest power of two below n
 *   root       = SHA-256("dhtchat/file-root/v1" ‖ 0x00 ‖ size u64 BE ‖ pieceBytes u32 BE ‖ MTH(leaves))
 *
 * The offer carries the root; a receiver fetches the piece-hash list from any source and keeps it only if it
 * hashes to the root, then checks every piece against its leaf. Nothing here knows who sent what, so pieces
 * may come from as many sources as there are (groups).
 */
import { createHash } from 'node:crypto';
import { LABELS } from '../labels.ts';
import { type FileLayout, HASH_BYTES } from './file-layout.ts';

const LEAF_PREFIX = Buffer.of(0x00);
const NODE_PREFIX = Buffer.of(0x01);
const ROOT_LABEL = Buffer.concat([Buffer.from(LABELS.fileRoot, 'ascii'), Buffer.of(0)]);

/** The hash of one piece, as the piece-hash list holds it. */
export function pieceHash(piece: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(piece).digest();
}

/** The Merkle tree hash over a list of piece hashes (concatenated, HASH_BYTES each). */
export function treeHash(hashes: Buffer): Buffer {
  const count = hashes.length / HASH_BYTES;
  if (!Number.isInteger(count)) throw new RangeError('a hash list is a multiple of 32 bytes');
  if (count === 0) return createHash('sha256').digest();
  let level: Buffer[] = [];
  for (let i = 0; i < count; i++) level.push(hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
  // Bottom-up pairing with the odd node carried up unchanged gives exactly RFC 6962's split-at-power-of-two tree.
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      next.push(
        createHash('sha256')
          .update(NODE_PREFIX)
          .update(level[i] as Buffer)
          .update(level[i + 1] as Buffer)
          .digest(),
      );
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Buffer);
    level = next;
  }
  return level[0] as Buffer;
}

/** The root an offer carries. */
export function fileRoot(layout: FileLayout, hashes: Buffer): Buffer {
  const sizes = Buffer.alloc(12);
  sizes.writeBigUInt64BE(BigInt(layout.sizeBytes), 0);
  sizes.writeUInt32BE(layout.pieceBytes, 8);
  return createHash('sha256').update(ROOT_LABEL).update(sizes).update(treeHash(hashes)).digest();
}

/** True when hashes is a whole piece-hash list for layout that hashes to root. */
export function isHashListOf(layout: FileLayout, hashes: Buffer, root: Uint8Array): boolean {
  if (hashes.length !== layout.pieceCount * HASH_BYTES) return false;
  return fileRoot(layout, hashes).equals(root);
}

/** The list's entry for piece index. */
export function hashAt(hashes: Buffer, index: number): Buffer {
  return hashes.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES);
}
