/**
 * 160-bit node ids and the XOR metric of Kademlia (BEP 5: "distance(A,B) = |A xor B|, smaller values are closer").
 * https://www.bittorrent.org/beps/bep_0005.html
 */
import type { Random } from '../runtime/index.ts';

export const NODE_ID_BYTES = 20;
export const NODE_ID_BITS = NODE_ID_BYTES * 8;

/** a XOR b, byte by byte (both must be NODE_ID_BYTES long). */
export function xorDistance(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(NODE_ID_BYTES);
  for (let i = 0; i < NODE_ID_BYTES; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/** <0 if a is closer to target than b, >0 if b is closer, 0 if a and b are the same id. No allocation. */
export function compareDistance(target: Buffer, a: Buffer, b: Buffer): number {
  for (let i = 0; i < NODE_ID_BYTES; i++) {
    const t = target[i] ?? 0;
    const da = (a[i] ?? 0) ^ t;
    const db = (b[i] ?? 0) ^ t;
    if (da !== db) return da - db;
  }
  return 0;
}

/** Number of leading bits a and b share (160 when equal). */
export function commonPrefixBits(a: Buffer, b: Buffer): number {
  for (let i = 0; i < NODE_ID_BYTES; i++) {
    const x = (a[i] ?? 0) ^ (b[i] ?? 0);
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return NODE_ID_BITS;
}

/** A random id whose first prefixBits bits equal prefix's (used for bucket refresh targets). */
export function randomIdWithPrefix(prefix: Buffer, prefixBits: number, random: Random): Buffer {
  const id = random.bytes(NODE_ID_BYTES);
  const bits = Math.max(0, Math.min(NODE_ID_BITS, prefixBits));
  const fullBytes = bits >> 3;
  for (let i = 0; i < fullBytes; i++) id[i] = prefix[i] ?? 0;
  const rest = bits & 7;
  if (rest > 0) {
    const mask = (0xff << (8 - rest)) & 0xff;
    id[fullBytes] = ((prefix[fullBytes] ?? 0) & mask) | ((id[fullBytes] ?? 0) & ~mask & 0xff);
  }
  return id;
}

/** A fresh random id. */
export function randomNodeId(random: Random): Buffer {
  return random.bytes(NODE_ID_BYTES);
}

/** Full 40-hex form. */
export function idToHex(id: Buffer): string {
  return id.toString('hex');
}

/** 8-hex short form for logs. */
export function shortId(id: Buffer): string {
  return id.subarray(0, 4).toString('hex');
}

/** True when b is a Buffer of exactly NODE_ID_BYTES. */
export function isNodeId(b: unknown): b is Buffer {
  return Buffer.isBuffer(b) && b.length === NODE_ID_BYTES;
}
