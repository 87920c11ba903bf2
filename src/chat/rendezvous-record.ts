/**
 * Rendezvous records (docs/PROTOCOL.md "Rendezvous records"): per friend pair, direction and day epoch, one BEP 44
 * mutable item that only the two friends can find, link or read.
 *
 * - Key and salt: derived from the pair secret K, the author's public key and the epoch. Storage nodes see an
 *   Ed25519 key, salt and target that look random and change every epoch; without K nobody can tell whose they
 *   are, or that two epochs' records belong together.
 * - Value `v`: one byte string, nonce(12) ‖ ChaCha20-Poly1305(key(K, author, epoch), nonce, aad, padded body),
 *   always RECORD_V_BYTES long encoded. The nonce is random (each record key seals a few hundred records a day at
 *   most). The AAD binds the label, target, epoch and both public keys (author first: the direction).
 * - Size: RECORD_V_BYTES is below BEP 44's 1000 so that a `put` and a `get` reply carrying it stay within
 *   BEP 32's 1024-byte packets (our own DHT drops larger replies), with a 20-byte token and an IPv6 `ip` field.
 *
 * sealRecord is local (throws CHAT_RECORD_LIMIT on an over-full record); openRecord takes remote input and
 * returns a value. Both friends hold K, so either could sign the other's record: that only fools itself.
 */
import {
  chachaPolyDecrypt,
  chachaPolyEncrypt,
  type Ed25519KeyPair,
  ed25519FromSeed,
  ed25519Sign,
  ed25519Verify,
} from '../crypto/index.ts';
import { mutableTarget, signableBuffer } from '../dht/index.ts';
import { DhtchatError, type Random } from '../runtime/index.ts';
import { type BValue, encodeBencode } from '../wire/index.ts';
import { deriveSubkey, u32 } from './kdf.ts';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, LABELS, RECORD_SALT_BYTES } from './labels.ts';
import {
  decodeRecordBody,
  encodeRecordBody,
  RECORD_PLAINTEXT_BYTES,
  type RendezvousRecord,
} from './record-body.ts';

/** The encoded size of every record's `v` ("756:" + nonce + ciphertext + tag). */
export const RECORD_V_BYTES = 760;
const RECORD_V_STRING_BYTES = AEAD_NONCE_BYTES + RECORD_PLAINTEXT_BYTES + AEAD_TAG_BYTES;

export interface RecordKey {
  /** Signs the BEP 44 item (k = keyPair.publicKey). */
  readonly keyPair: Ed25519KeyPair;
  readonly salt: Buffer;
  /** SHA-1(k ‖ salt): where the record lives in the DHT. */
  readonly target: Buffer;
  readonly encryptionKey: Buffer;
}

/** The keys of the record that authorPk publishes for its friend in `epoch` (a day number, epoch.ts). */
export function recordKeyFor(pairSecret: Uint8Array, authorPk: Uint8Array, epoch: number): RecordKey {
  const context = [authorPk, u32(epoch)];
  const keyPair = ed25519FromSeed(deriveSubkey(pairSecret, LABELS.recordSigning, context, 32));
  const salt = deriveSubkey(pairSecret, LABELS.recordSalt, context, RECORD_SALT_BYTES);
  return {
    keyPair,
    salt,
    target: mutableTarget(keyPair.publicKey, salt),
    encryptionKey: deriveSubkey(pairSecret, LABELS.recordEncryption, context, AEAD_KEY_BYTES),
  };
}

export interface RecordParties {
  readonly pairSecret: Uint8Array;
  readonly authorPk: Uint8Array;
  readonly readerPk: Uint8Array;
  readonly epoch: number;
}

export interface SealedRecord {
  readonly key: RecordKey;
  /** BEP 44 `v` (a byte string) for DhtNode.putMutable({ keyPair: key.keyPair, salt: key.salt, v, seq }). */
  readonly v: Buffer;
  /** encodeBencode(v): always RECORD_V_BYTES long. */
  readonly vBytes: Buffer;
}

export function sealRecord(parties: RecordParties, record: RendezvousRecord, random: Random): SealedRecord {
  const body = encodeRecordBody(record);
  if (typeof body === 'string')
    throw new DhtchatError('CHAT_RECORD_LIMIT', `cannot seal the record: ${body}`);
  const key = recordKeyFor(parties.pairSecret, parties.authorPk, parties.epoch);
  const nonce = random.bytes(AEAD_NONCE_BYTES);
  const sealed = chachaPolyEncrypt(key.encryptionKey, nonce, recordAad(parties, key.target), body);
  const v = Buffer.concat([nonce, sealed]);
  return { key, v, vBytes: encodeBencode(v) };
}

/** What a BEP 44 get returns (the dht layer's FoundItem fits). */
export interface MutableItemLike {
  readonly v: BValue;
  readonly k?: Buffer | undefined;
  readonly salt?: Buffer | undefined;
  readonly seq?: number | undefined;
  readonly sig?: Buffer | undefined;
}

export const RecordOpenError = {
  /** The item's key or salt is not the one derived for this pair, author and epoch. */
  wrongKey: 'CHAT_RECORD_WRONG_KEY',
  /** The item's signature does not verify. */
  badSignature: 'CHAT_RECORD_BAD_SIGNATURE',
  /** `v` is not a byte string of the record size. */
  malformed: 'CHAT_RECORD_MALFORMED',
  /** Authentication failed: wrong pair secret, epoch or direction, or tampered bytes. */
  decryptFailed: 'CHAT_RECORD_DECRYPT_FAILED',
  /** Decrypted, but the body is not a valid record (bad encoding, types or limits). */
  badBody: 'CHAT_RECORD_BAD_BODY',
} as const;
export type RecordOpenErrorCode = (typeof RecordOpenError)[keyof typeof RecordOpenError];

export type RecordOpenResult =
  | { ok: true; record: RendezvousRecord }
  | { ok: false; code: RecordOpenErrorCode };

/**
 * Opens a record fetched from the DHT. Remote input: never throws. A poller may pass the key it derived for the
 * get (recordKeyFor of the same parties) to skip deriving it again.
 */
export function openRecord(
  parties: RecordParties,
  item: MutableItemLike,
  key: RecordKey = recordKeyFor(parties.pairSecret, parties.authorPk, parties.epoch),
): RecordOpenResult {
  if (item.k !== undefined && !item.k.equals(key.keyPair.publicKey)) return fail('wrongKey');
  if (item.salt !== undefined && !item.salt.equals(key.salt)) return fail('wrongKey');
  const { v } = item;
  if (!Buffer.isBuffer(v) || v.length !== RECORD_V_STRING_BYTES) return fail('malformed');
  if (item.sig !== undefined) {
    // The DHT lookup verified it already; checking again costs little and keeps this function self-contained.
    if (item.seq === undefined || !Number.isSafeInteger(item.seq) || item.seq < 0)
      return fail('badSignature');
    const signable = signableBuffer({ salt: key.salt, seq: item.seq, vBytes: encodeBencode(v) });
    if (!ed25519Verify(key.keyPair.publicKey, signable, item.sig)) return fail('badSignature');
  }
  const nonce = v.subarray(0, AEAD_NONCE_BYTES);
  const plaintext = chachaPolyDecrypt(
    key.encryptionKey,
    nonce,
    recordAad(parties, key.target),
    v.subarray(AEAD_NONCE_BYTES),
  );
  if (plaintext === undefined) return fail('decryptFailed');
  const record = decodeRecordBody(plaintext);
  return record === undefined ? fail('badBody') : { ok: true, record };
}

/** Signs a sealed record the way DhtNode.putMutable does (for tests and callers that put by hand). */
export function signRecord(sealed: SealedRecord, seq: number): Buffer {
  const signable = signableBuffer({ salt: sealed.key.salt, seq, vBytes: sealed.vBytes });
  return ed25519Sign(sealed.key.keyPair, signable);
}

function recordAad(parties: RecordParties, target: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(LABELS.recordAad, 'ascii'),
    target,
    u32(parties.epoch),
    parties.authorPk,
    parties.readerPk,
  ]);
}

function fail(kind: keyof typeof RecordOpenError): RecordOpenResult {
  return { ok: false, code: RecordOpenError[kind] };
}
