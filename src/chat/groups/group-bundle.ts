/**
 * A bundle of a member's own group entries, sealed for the DHT (docs/PROTOCOL.md "Groups", "DHT mailbox"), in
 * the same immutable parts as a friend's offline messages (offline-parts.ts: 880-byte items, ≤ 24 parts), so
 * storage nodes cannot tell the two apart.
 *
 *   blob      = nonce[16] ‖ ChaCha20-Poly1305(HKDF(secret, "dhtchat/group/bundle/v1", author ‖ nonce), nonce 0,
 *               aad = "dhtchat/group/bundle-aad/v1" ‖ author, plaintext)
 *   plaintext = count u16 ‖ (length u32 ‖ entry) × count ‖ zeros up to the parts' capacity
 *
 * `secret` is the mailbox secret of the epoch the bundle is filed under: only its holders can open it. The
 * entries inside are signed by their author and checked again on arrival like any other (group-replica.ts).
 */
import { chachaPolyDecrypt, chachaPolyEncrypt } from '../../crypto/index.ts';
import type { Random } from '../../runtime/index.ts';
import type { BValue } from '../../wire/index.ts';
import { deriveSubkey } from '../kdf.ts';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, LABELS } from '../labels.ts';
import {
  blobCapacity,
  joinParts,
  OFFLINE_MAX_PARTS,
  type OfflinePart,
  partsNeeded,
  splitBlob,
} from '../offline-parts.ts';
import { MAX_ENTRY_BYTES } from './group-entry.ts';

const NONCE_BYTES = 16;
const OVERHEAD_BYTES = NONCE_BYTES + AEAD_TAG_BYTES + 2;
/** The most entry bytes (with their length prefixes) one bundle carries. */
export const MAX_BUNDLE_CONTENT_BYTES = blobCapacity(OFFLINE_MAX_PARTS) - OVERHEAD_BYTES;
export const MAX_BUNDLE_ENTRIES = 256;

if (MAX_ENTRY_BYTES + 4 > MAX_BUNDLE_CONTENT_BYTES) throw new Error('a bundle must fit the largest entry');

export interface SealedBundle {
  readonly headTarget: Buffer;
  readonly parts: readonly OfflinePart[];
}

/** Entries that fit one bundle, oldest first: how many of `entries` (at least one). */
export function bundleFits(entries: readonly Buffer[]): number {
  let bytes = 0;
  let count = 0;
  for (const entry of entries) {
    if (count >= MAX_BUNDLE_ENTRIES || bytes + 4 + entry.length > MAX_BUNDLE_CONTENT_BYTES) break;
    bytes += 4 + entry.length;
    count++;
  }
  return Math.max(1, count);
}

/** Seals entries (they must fit: bundleFits) into immutable parts. Local: throws RangeError when they do not. */
export function sealGroupBundle(
  secret: Buffer,
  author: Buffer,
  entries: readonly Buffer[],
  random: Random,
): SealedBundle {
  if (entries.length < 1 || bundleFits(entries) < entries.length)
    throw new RangeError('entries do not fit a bundle');
  const content = Buffer.concat([u16(entries.length), ...entries.flatMap((e) => [u32be(e.length), e])]);
  const count = partsNeeded(content.length + NONCE_BYTES + AEAD_TAG_BYTES) as number;
  const plaintext = Buffer.alloc(blobCapacity(count) - NONCE_BYTES - AEAD_TAG_BYTES);
  content.copy(plaintext);
  const nonce = random.bytes(NONCE_BYTES);
  const key = deriveSubkey(secret, LABELS.groupBundle, [author, nonce], AEAD_KEY_BYTES);
  const sealed = chachaPolyEncrypt(key, Buffer.alloc(AEAD_NONCE_BYTES), aad(author), plaintext);
  key.fill(0);
  const parts = splitBlob(Buffer.concat([nonce, sealed]), count);
  return { headTarget: (parts[0] as OfflinePart).target, parts };
}

export type BundleOpenResult =
  | { ok: true; entries: Buffer[] }
  | { ok: false; code: 'CHAT_GROUP_BUNDLE_MISSING_PART'; missing: Buffer[] }
  | { ok: false; code: 'CHAT_GROUP_BUNDLE_MALFORMED' | 'CHAT_GROUP_BUNDLE_DECRYPT_FAILED' };

/** Opens a bundle from its head and tails (remote input: never throws). */
export function openGroupBundle(
  secret: Buffer,
  author: Buffer,
  headTarget: Buffer,
  head: BValue,
  tails: readonly BValue[],
): BundleOpenResult {
  const joined = joinParts(headTarget, head, tails);
  if (!joined.ok) {
    return joined.code === 'CHAT_OFFLINE_MISSING_PART'
      ? { ok: false, code: 'CHAT_GROUP_BUNDLE_MISSING_PART', missing: joined.missing }
      : { ok: false, code: 'CHAT_GROUP_BUNDLE_MALFORMED' };
  }
  const blob = joined.blob;
  const nonce = blob.subarray(0, NONCE_BYTES);
  const key = deriveSubkey(secret, LABELS.groupBundle, [author, nonce], AEAD_KEY_BYTES);
  const plaintext = chachaPolyDecrypt(
    key,
    Buffer.alloc(AEAD_NONCE_BYTES),
    aad(author),
    blob.subarray(NONCE_BYTES),
  );
  key.fill(0);
  if (plaintext === undefined) return { ok: false, code: 'CHAT_GROUP_BUNDLE_DECRYPT_FAILED' };
  const entries = decodeBundlePlaintext(plaintext);
  return entries === undefined ? { ok: false, code: 'CHAT_GROUP_BUNDLE_MALFORMED' } : { ok: true, entries };
}

/** The entries inside an opened plaintext (exported for its fuzz target): undefined when malformed. */
export function decodeBundlePlaintext(plaintext: Buffer): Buffer[] | undefined {
  if (plaintext.length < 2) return undefined;
  const count = plaintext.readUInt16BE(0);
  if (count < 1 || count > MAX_BUNDLE_ENTRIES) return undefined;
  const entries: Buffer[] = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    if (at + 4 > plaintext.length) return undefined;
    const length = plaintext.readUInt32BE(at);
    at += 4;
    if (length < 1 || length > MAX_ENTRY_BYTES || at + length > plaintext.length) return undefined;
    entries.push(Buffer.from(plaintext.subarray(at, at + length)));
    at += length;
  }
  return plaintext.subarray(at).some((b) => b !== 0) ? undefined : entries;
}

function aad(author: Buffer): Buffer {
  return Buffer.concat([Buffer.from(LABELS.groupBundleAad, 'ascii'), author]);
}

function u16(n: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(n);
  return out;
}

function u32be(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n);
  return out;
}
