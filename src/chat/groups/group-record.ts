/**
 * A member's group record (docs/PROTOCOL.md "Groups", "DHT mailbox"): one BEP 44 mutable item per (epoch,
 * author, UTC day) that every holder of the epoch key can find and read, and nobody else can find, link or read.
 * It says where the author can be reached and which bundles of its entries wait in the DHT.
 *
 *   secret  = the epoch's mailbox secret (group-keys.ts: HKDF of the epoch key)
 *   k       = Ed25519 key from HKDF(secret, "dhtchat/group/record-signing/v1", author ‖ day)
 *   salt    = HKDF(secret, "dhtchat/group/record-salt/v1", author ‖ day)          16 bytes
 *   v       = nonce[12] ‖ ChaCha20-Poly1305(HKDF(secret, "dhtchat/group/record-encryption/v1", author ‖ day),
 *             nonce, aad = "dhtchat/group/record-aad/v1" ‖ target, body)             always 508 bytes
 *   body    = timestampMs u64 ‖ endpointCount u8 (≤ 4) ‖ (size u8 ‖ compact address) × n
 *             ‖ headCount u8 (≤ 16) ‖ bundle head targets[20 ×] ‖ zeros to 480 bytes
 *
 * Every member holding the epoch derives the same keys, so any of them could overwrite another's record (a
 * member can hide a member's bundles, never forge entries: those are signed by their authors).
 */
import {
  chachaPolyDecrypt,
  chachaPolyEncrypt,
  ed25519FromSeed,
  type Ed25519KeyPair,
} from '../../crypto/index.ts';
import { mutableTarget } from '../../dht/index.ts';
import type { Random, UdpAddress } from '../../runtime/index.ts';
import { COMPACT_ADDRESS_BYTES, decodeCompactAddress, encodeCompactAddress } from '../../wire/index.ts';
import { deriveSubkey, u32 } from '../kdf.ts';
import {
  AEAD_KEY_BYTES,
  AEAD_NONCE_BYTES,
  AEAD_TAG_BYTES,
  LABELS,
  RECORD_SALT_BYTES,
  TARGET_BYTES,
} from '../labels.ts';

export const GROUP_RECORD_BODY_BYTES = 480;
export const GROUP_RECORD_V_BYTES = AEAD_NONCE_BYTES + GROUP_RECORD_BODY_BYTES + AEAD_TAG_BYTES;
export const MAX_RECORD_ENDPOINTS = 4;
export const MAX_RECORD_BUNDLES = 16;

export interface GroupRecordKey {
  readonly keyPair: Ed25519KeyPair;
  readonly salt: Buffer;
  readonly target: Buffer;
  readonly encryptionKey: Buffer;
}

export interface GroupRecord {
  readonly timestampMs: number;
  readonly endpoints: readonly UdpAddress[];
  /** Head targets of the author's bundles in the DHT, newest first. */
  readonly bundles: readonly Buffer[];
}

export function groupRecordKey(mailboxSecret: Buffer, author: Buffer, day: number): GroupRecordKey {
  const context = [author, u32(day)];
  const keyPair = ed25519FromSeed(deriveSubkey(mailboxSecret, LABELS.groupRecordSigning, context, 32));
  const salt = deriveSubkey(mailboxSecret, LABELS.groupRecordSalt, context, RECORD_SALT_BYTES);
  return {
    keyPair,
    salt,
    target: mutableTarget(keyPair.publicKey, salt),
    encryptionKey: deriveSubkey(mailboxSecret, LABELS.groupRecordEncryption, context, AEAD_KEY_BYTES),
  };
}

/** The record's `v` (local: throws RangeError past the limits). */
export function sealGroupRecord(key: GroupRecordKey, record: GroupRecord, random: Random): Buffer {
  const body = encodeGroupRecordBody(record);
  const nonce = random.bytes(AEAD_NONCE_BYTES);
  return Buffer.concat([nonce, chachaPolyEncrypt(key.encryptionKey, nonce, aad(key), body)]);
}

/** The padded body of a record (local: throws RangeError past the limits). */
export function encodeGroupRecordBody(record: GroupRecord): Buffer {
  if (record.endpoints.length > MAX_RECORD_ENDPOINTS || record.bundles.length > MAX_RECORD_BUNDLES) {
    throw new RangeError('a group record lists at most 4 endpoints and 16 bundles');
  }
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(record.timestampMs));
  const endpoints = record.endpoints.map((a) => {
    const compact = encodeCompactAddress(a);
    return Buffer.concat([Buffer.of(compact.length), compact]);
  });
  for (const head of record.bundles)
    if (head.length !== TARGET_BYTES) throw new RangeError('a head target is 20 bytes');
  const content = Buffer.concat([
    time,
    Buffer.of(endpoints.length),
    ...endpoints,
    Buffer.of(record.bundles.length),
    ...record.bundles,
  ]);
  const body = Buffer.alloc(GROUP_RECORD_BODY_BYTES);
  content.copy(body);
  return body;
}

/** Opens a fetched record (remote input: undefined when it is not one of ours or does not open). */
export function openGroupRecord(
  key: GroupRecordKey,
  item: { v: unknown; k?: Buffer | undefined },
): GroupRecord | undefined {
  if (item.k !== undefined && !item.k.equals(key.keyPair.publicKey)) return undefined;
  const v = item.v;
  if (!Buffer.isBuffer(v) || v.length !== GROUP_RECORD_V_BYTES) return undefined;
  const nonce = v.subarray(0, AEAD_NONCE_BYTES);
  const body = chachaPolyDecrypt(key.encryptionKey, nonce, aad(key), v.subarray(AEAD_NONCE_BYTES));
  return body === undefined ? undefined : decodeGroupRecordBody(body);
}

/** The record inside an opened body (exported for its fuzz target): undefined when malformed. Never throws. */
export function decodeGroupRecordBody(body: Buffer): GroupRecord | undefined {
  if (body.length !== GROUP_RECORD_BODY_BYTES) return undefined;
  const time = body.readBigUInt64BE(0);
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  let at = 8;
  const endpointCount = body[at++] as number;
  if (endpointCount > MAX_RECORD_ENDPOINTS) return undefined;
  const endpoints: UdpAddress[] = [];
  for (let i = 0; i < endpointCount; i++) {
    const size = body[at++];
    if (size !== COMPACT_ADDRESS_BYTES[4] && size !== COMPACT_ADDRESS_BYTES[6]) return undefined;
    const address = decodeCompactAddress(body.subarray(at, at + size));
    if (address === undefined || address.port === 0) return undefined;
    endpoints.push(address);
    at += size;
  }
  const headCount = body[at++] as number;
  if (headCount > MAX_RECORD_BUNDLES || at + headCount * TARGET_BYTES > body.length) return undefined;
  const bundles: Buffer[] = [];
  for (let i = 0; i < headCount; i++) {
    bundles.push(Buffer.from(body.subarray(at, at + TARGET_BYTES)));
    at += TARGET_BYTES;
  }
  if (body.subarray(at).some((b) => b !== 0)) return undefined;
  return { timestampMs: Number(time), endpoints, bundles };
}

function aad(key: GroupRecordKey): Buffer {
  return Buffer.concat([Buffer.from(LABELS.groupRecordAad, 'ascii'), key.target]);
}
