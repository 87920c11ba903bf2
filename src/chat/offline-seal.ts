/**
 * Offline messages (docs/PROTOCOL.md "Offline messages"): queued messages for an unreachable friend, sealed into one
 * blob and split into immutable DHT items (offline-parts.ts); the head's target goes into the sender's record.
 *
 * Sealing, for sender S and recipient R with pair secret K and R's one-time prekey P (from R's record):
 *   e = fresh X25519 key pair
 *   key = HKDF-SHA-256(ikm = X25519(e, P), salt = K, info = label ‖ pkS ‖ pkR ‖ e.pub ‖ P)
 *   blob = e.pub ‖ ChaCha20-Poly1305(key, nonce 0, aad = label ‖ pkS ‖ pkR ‖ e.pub ‖ P, padded plaintext)
 * The nonce can be zero because each key is used once (e is fresh). K means only the friend can open it; the
 * prekey gives forward secrecy once R has used and deleted P. With no prekey known yet, the caller may pass R's
 * static X25519 key (identity.x25519.publicKey) as P: sealed to the friend all the same, without forward secrecy.
 *
 * Plaintext = u32 length ‖ bencode([{ i: 16-byte message id, b: body }, …]) ‖ zeros up to the parts' capacity.
 */
import {
  chachaPolyDecrypt,
  chachaPolyEncrypt,
  type X25519KeyPair,
  x25519Dh,
  x25519Generate,
} from '../crypto/index.ts';
import { DhtchatError, type Random } from '../runtime/index.ts';
import { type BDict, type BValue, decodeBencode, encodeBencode } from '../wire/index.ts';
import { hkdfSha256, labelledInfo } from './kdf.ts';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, LABELS, MESSAGE_ID_BYTES } from './labels.ts';
import {
  blobCapacity,
  joinParts,
  OFFLINE_MAX_PARTS,
  type OfflinePart,
  partsNeeded,
  splitBlob,
} from './offline-parts.ts';

export interface OfflineMessage {
  /** The chat message id (16 random bytes): the recipient deduplicates by it. */
  readonly id: Buffer;
  /** The message as the message protocol encodes it (opaque here). */
  readonly body: Buffer;
}

export interface OfflineParties {
  readonly pairSecret: Uint8Array;
  readonly senderPk: Uint8Array;
  readonly recipientPk: Uint8Array;
}

const EPHEMERAL_BYTES = 32;
const LENGTH_PREFIX_BYTES = 4;
const OVERHEAD_BYTES = EPHEMERAL_BYTES + AEAD_TAG_BYTES + LENGTH_PREFIX_BYTES;
/** The largest bencoded message list one sealed blob carries (about 20 KiB: a 16 KiB text fits with room). */
export const OFFLINE_MAX_PLAINTEXT_BYTES = blobCapacity(OFFLINE_MAX_PARTS) - OVERHEAD_BYTES;
export const OFFLINE_MAX_MESSAGES = 64;

export interface SealedOffline {
  /** The head item's target: what the sender lists in its record (pendingOffline). */
  readonly headTarget: Buffer;
  /** parts[0] is the head; put every part with DhtNode.putImmutable(part.v). */
  readonly parts: readonly OfflinePart[];
}

/** Seals messages to the recipient's prekey. Local: throws CHAT_OFFLINE_TOO_LARGE or CHAT_OFFLINE_BAD_PREKEY. */
export function sealOffline(
  parties: OfflineParties,
  prekey: Uint8Array,
  messages: readonly OfflineMessage[],
  random: Random,
): SealedOffline {
  if (messages.length === 0 || messages.length > OFFLINE_MAX_MESSAGES) {
    throw new DhtchatError('CHAT_OFFLINE_TOO_LARGE', `seal 1 to ${OFFLINE_MAX_MESSAGES} messages at a time`);
  }
  const list = messages.map((m) => {
    if (m.id.length !== MESSAGE_ID_BYTES) throw new DhtchatError('CHAT_OFFLINE_TOO_LARGE', 'bad message id');
    const entry: BDict = Object.create(null);
    entry['i'] = m.id;
    entry['b'] = m.body;
    return entry;
  });
  const encoded = encodeBencode(list);
  const count = partsNeeded(encoded.length + OVERHEAD_BYTES);
  if (count === undefined) {
    throw new DhtchatError(
      'CHAT_OFFLINE_TOO_LARGE',
      `offline messages of ${encoded.length} bytes exceed ${OFFLINE_MAX_PLAINTEXT_BYTES}`,
    );
  }
  const plaintext = Buffer.alloc(blobCapacity(count) - EPHEMERAL_BYTES - AEAD_TAG_BYTES);
  plaintext.writeUInt32BE(encoded.length, 0);
  encoded.copy(plaintext, LENGTH_PREFIX_BYTES);
  const ephemeral = x25519Generate(random);
  const key = blobKey(parties, x25519Dh(ephemeral, prekey), ephemeral.publicKey, prekey);
  if (key === undefined)
    throw new DhtchatError('CHAT_OFFLINE_BAD_PREKEY', 'the friend’s prekey is not usable');
  const { aeadKey, aad } = key;
  const sealed = chachaPolyEncrypt(aeadKey, Buffer.alloc(AEAD_NONCE_BYTES), aad, plaintext);
  aeadKey.fill(0);
  const parts = splitBlob(Buffer.concat([ephemeral.publicKey, sealed]), count);
  return { headTarget: (parts[0] as OfflinePart).target, parts };
}

export type OfflineOpenResult =
  | { ok: true; messages: OfflineMessage[]; prekey: Buffer }
  | { ok: false; code: 'CHAT_OFFLINE_MALFORMED_PART' | 'CHAT_OFFLINE_HASH_MISMATCH' }
  | { ok: false; code: 'CHAT_OFFLINE_MISSING_PART'; missing: Buffer[] }
  | { ok: false; code: 'CHAT_OFFLINE_DECRYPT_FAILED' | 'CHAT_OFFLINE_BAD_PLAINTEXT' };

/**
 * Opens a sealed blob from its head (fetched at headTarget) and tail values (any order). `prekeys` are the key
 * pairs whose public halves we have published (current first, then recent ones, then the static key); the result
 * says which one opened it, so the caller can retire it. Remote input: never throws.
 */
export function openOffline(
  parties: OfflineParties,
  prekeys: readonly X25519KeyPair[],
  headTarget: Buffer,
  head: BValue,
  tails: readonly BValue[],
): OfflineOpenResult {
  const joined = joinParts(headTarget, head, tails);
  if (!joined.ok) return joined;
  const blob = joined.blob;
  const ephemeralPk = blob.subarray(0, EPHEMERAL_BYTES);
  for (const prekey of prekeys) {
    const key = blobKey(parties, x25519Dh(prekey, ephemeralPk), ephemeralPk, prekey.publicKey);
    if (key === undefined) continue;
    const nonce = Buffer.alloc(AEAD_NONCE_BYTES);
    const plaintext = chachaPolyDecrypt(key.aeadKey, nonce, key.aad, blob.subarray(EPHEMERAL_BYTES));
    key.aeadKey.fill(0);
    if (plaintext === undefined) continue;
    const messages = decodeOfflinePlaintext(plaintext);
    if (messages === undefined) return { ok: false, code: 'CHAT_OFFLINE_BAD_PLAINTEXT' };
    return { ok: true, messages, prekey: prekey.publicKey };
  }
  return { ok: false, code: 'CHAT_OFFLINE_DECRYPT_FAILED' };
}

/** The AEAD key and associated data from X25519(ephemeral, prekey) (undefined: a low-order or bad key). */
function blobKey(
  parties: OfflineParties,
  shared: Buffer | undefined,
  ephemeralPk: Uint8Array,
  prekeyPk: Uint8Array,
): { aeadKey: Buffer; aad: Buffer } | undefined {
  if (shared === undefined) return undefined;
  const context = [parties.senderPk, parties.recipientPk, ephemeralPk, prekeyPk];
  const aeadKey = hkdfSha256(
    shared,
    parties.pairSecret,
    labelledInfo(LABELS.offlineKey, context),
    AEAD_KEY_BYTES,
  );
  shared.fill(0);
  const aad = Buffer.concat([Buffer.from(LABELS.offlineAad, 'ascii'), ...context]);
  return { aeadKey, aad };
}

/** The message list inside an opened blob (exported for its fuzz target); undefined when malformed. Never throws. */
export function decodeOfflinePlaintext(plaintext: Buffer): OfflineMessage[] | undefined {
  if (plaintext.length < LENGTH_PREFIX_BYTES) return undefined;
  const length = plaintext.readUInt32BE(0);
  const end = LENGTH_PREFIX_BYTES + length;
  if (end > plaintext.length || plaintext.subarray(end).some((b) => b !== 0)) return undefined;
  const decoded = decodeBencode(plaintext.subarray(LENGTH_PREFIX_BYTES, end), {
    maxDepth: 3,
    maxItems: 4 * OFFLINE_MAX_MESSAGES,
    maxBytes: OFFLINE_MAX_PLAINTEXT_BYTES,
  });
  if (!decoded.ok || !Array.isArray(decoded.value)) return undefined;
  const list = decoded.value;
  if (list.length === 0 || list.length > OFFLINE_MAX_MESSAGES) return undefined;
  const messages: OfflineMessage[] = [];
  for (const entry of list) {
    if (typeof entry !== 'object' || Array.isArray(entry) || Buffer.isBuffer(entry)) return undefined;
    const { i, b } = entry;
    if (!Buffer.isBuffer(i) || i.length !== MESSAGE_ID_BYTES || !Buffer.isBuffer(b)) return undefined;
    messages.push({ id: Buffer.from(i), body: Buffer.from(b) });
  }
  return messages;
}
