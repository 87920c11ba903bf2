/**
 * HKDF-SHA-256 (RFC 5869) with dhtchat's info encoding: label ‖ 0x00 ‖ each context part prefixed by its one-byte
 * length. The length prefixes make the encoding injective: no two (label, parts) lists give the same info, so keys
 * for different purposes or parties never coincide.
 */
import { hkdfSync } from 'node:crypto';
import { DhtchatError } from '../runtime/index.ts';
import type { Label } from './labels.ts';

export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, lengthBytes: number): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, lengthBytes));
}

/** The info bytes of (label, parts). Parts are at most 255 bytes (keys, targets, epoch numbers). */
export function labelledInfo(label: Label, parts: readonly Uint8Array[]): Buffer {
  const chunks: Buffer[] = [Buffer.from(label, 'ascii'), Buffer.from([0])];
  for (const part of parts) {
    if (part.length > 255) throw new DhtchatError('CHAT_KDF_CONTEXT', 'a KDF context part exceeds 255 bytes');
    chunks.push(Buffer.from([part.length]), Buffer.from(part));
  }
  return Buffer.concat(chunks);
}

/** A subkey of the uniformly random secret `key` for (label, parts): HKDF with an empty salt. */
export function deriveSubkey(
  key: Uint8Array,
  label: Label,
  parts: readonly Uint8Array[],
  lengthBytes: number,
): Buffer {
  return hkdfSha256(key, Buffer.alloc(0), labelledInfo(label, parts), lengthBytes);
}

/** A 32-bit big-endian number as a context part (epochs). */
export function u32(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new DhtchatError('CHAT_KDF_CONTEXT', `not a 32-bit unsigned number: ${value}`);
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}
