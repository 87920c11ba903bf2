/**
 * Splitting a sealed offline blob into BEP 44 immutable items and joining them back (offline-seal.ts seals).
 *
 * Every part's `v` is one byte string of exactly OFFLINE_PART_STRING_BYTES (the blob is padded to fill its parts),
 * so all offline items look alike to storage nodes; only the part count says roughly how long a blob is.
 *   head: 0x01 ‖ 0x00 ‖ count(1) ‖ (count − 1) × 20-byte targets of the tail parts ‖ chunk 0
 *   tail: 0x01 ‖ 0x01 ‖ index(1) ‖ chunk index
 * The record lists only the head's target (one per sealed blob, however long); the head lists the tails. Each part
 * is checked against its SHA-1 target when joined, and the blob as a whole by its AEAD tag.
 */
import { immutableTarget } from '../dht/index.ts';
import { type BValue, encodeBencode } from '../wire/index.ts';
import { TARGET_BYTES } from './labels.ts';

/** Encoded `v` ≤ 880 bytes: a get reply (IPv6 `ip`, 20-byte token) stays within BEP 32's 1024-byte packets. */
export const OFFLINE_PART_V_BYTES = 880;
export const OFFLINE_PART_STRING_BYTES = OFFLINE_PART_V_BYTES - 4; // "876:"
export const OFFLINE_MAX_PARTS = 24;
const FORMAT_VERSION = 1;
const HEAD = 0;
const TAIL = 1;
const HEADER_BYTES = 3;
const TAIL_CAPACITY = OFFLINE_PART_STRING_BYTES - HEADER_BYTES;

/** Blob bytes that `count` parts carry. */
export function blobCapacity(count: number): number {
  return count * TAIL_CAPACITY - (count - 1) * TARGET_BYTES;
}

/** The fewest parts that carry blobBytes, or undefined if more than OFFLINE_MAX_PARTS would be needed. */
export function partsNeeded(blobBytes: number): number | undefined {
  for (let count = 1; count <= OFFLINE_MAX_PARTS; count++) if (blobCapacity(count) >= blobBytes) return count;
  return undefined;
}

export interface OfflinePart {
  /** SHA-1 of the encoded v: where the item lives (BEP 44 immutable). */
  readonly target: Buffer;
  /** The item's `v` (a byte string) for DhtNode.putImmutable. */
  readonly v: Buffer;
}

/** Splits a blob of exactly blobCapacity(count) bytes; parts[0] is the head. */
export function splitBlob(blob: Buffer, count: number): OfflinePart[] {
  const tails: OfflinePart[] = [];
  const headChunkBytes = TAIL_CAPACITY - (count - 1) * TARGET_BYTES;
  for (let index = 1; index < count; index++) {
    const start = headChunkBytes + (index - 1) * TAIL_CAPACITY;
    const v = Buffer.concat([
      Buffer.from([FORMAT_VERSION, TAIL, index]),
      blob.subarray(start, start + TAIL_CAPACITY),
    ]);
    tails.push({ target: immutableTarget(encodeBencode(v)), v });
  }
  const head = Buffer.concat([
    Buffer.from([FORMAT_VERSION, HEAD, count]),
    ...tails.map((t) => t.target),
    blob.subarray(0, headChunkBytes),
  ]);
  return [{ target: immutableTarget(encodeBencode(head)), v: head }, ...tails];
}

export type HeadResult =
  | { ok: true; tailTargets: Buffer[]; chunk: Buffer }
  | { ok: false; code: 'CHAT_OFFLINE_MALFORMED_PART' | 'CHAT_OFFLINE_HASH_MISMATCH' };

/** Reads a fetched head item (remote input: never throws); the tail targets tell the caller what to fetch. */
export function parseHead(headTarget: Buffer, v: BValue): HeadResult {
  if (!isPart(v) || v[1] !== HEAD) return { ok: false, code: 'CHAT_OFFLINE_MALFORMED_PART' };
  if (!immutableTarget(encodeBencode(v)).equals(headTarget)) {
    return { ok: false, code: 'CHAT_OFFLINE_HASH_MISMATCH' };
  }
  const count = v[2] ?? 0;
  if (count < 1 || count > OFFLINE_MAX_PARTS) return { ok: false, code: 'CHAT_OFFLINE_MALFORMED_PART' };
  const tailTargets: Buffer[] = [];
  for (let i = 0; i < count - 1; i++) {
    const at = HEADER_BYTES + i * TARGET_BYTES;
    tailTargets.push(Buffer.from(v.subarray(at, at + TARGET_BYTES)));
  }
  return { ok: true, tailTargets, chunk: v.subarray(HEADER_BYTES + (count - 1) * TARGET_BYTES) };
}

export type JoinResult =
  | { ok: true; blob: Buffer }
  | { ok: false; code: 'CHAT_OFFLINE_MALFORMED_PART' | 'CHAT_OFFLINE_HASH_MISMATCH' }
  | { ok: false; code: 'CHAT_OFFLINE_MISSING_PART'; missing: Buffer[] };

/** Joins a head with fetched tail values given in any order (extra or duplicate values are ignored). */
export function joinParts(headTarget: Buffer, head: BValue, tails: readonly BValue[]): JoinResult {
  const parsed = parseHead(headTarget, head);
  if (!parsed.ok) return parsed;
  const byTarget = new Map<string, Buffer>();
  for (const tail of tails) {
    if (isPart(tail)) byTarget.set(immutableTarget(encodeBencode(tail)).toString('hex'), tail);
  }
  const chunks = [parsed.chunk];
  const missing: Buffer[] = [];
  parsed.tailTargets.forEach((target, i) => {
    const tail = byTarget.get(target.toString('hex'));
    if (tail === undefined) missing.push(target);
    else if (tail[1] === TAIL && tail[2] === i + 1) chunks.push(tail.subarray(HEADER_BYTES));
  });
  if (missing.length > 0) return { ok: false, code: 'CHAT_OFFLINE_MISSING_PART', missing };
  // A tail whose hash matched but whose header is wrong can only be one we never wrote.
  if (chunks.length !== parsed.tailTargets.length + 1)
    return { ok: false, code: 'CHAT_OFFLINE_MALFORMED_PART' };
  return { ok: true, blob: Buffer.concat(chunks) };
}

function isPart(v: BValue): v is Buffer {
  return Buffer.isBuffer(v) && v.length === OFFLINE_PART_STRING_BYTES && v[0] === FORMAT_VERSION;
}
