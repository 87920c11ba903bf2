/**
 * An epoch key sealed to each member who may hold it (docs/PROTOCOL.md "Groups", "Epoch keys"): the key block
 * that create, add, remove and rekey ops carry. One fresh X25519 key e per block; for each recipient R
 * (an Ed25519 identity key, mapped to X25519):
 *
 *   sealKey = HKDF-SHA-256(ikm = X25519(e, R), salt = groupId,
 *                          info = "dhtchat/group/key-seal/v1" ‖ groupId ‖ opAuthor ‖ R ‖ e.pub)
 *   sealed  = ChaCha20-Poly1305(sealKey, nonce 0, aad = "dhtchat/group/key-seal-aad/v1" ‖ groupId ‖ R, epochKey)
 *
 *   keyBlock = e.pub[32] ‖ count u8 (1..MAX_GROUP_MEMBERS) ‖ count × (R[32] ‖ sealed[48])   (R ascending)
 *
 * Each sealKey is used once (e is fresh), so a zero nonce is safe; whoever is not listed learns nothing of the
 * key, and the op's signature says which admin handed it out. The recipients are in clear: they are the epoch's
 * holders, which the membership fold compares with the members (membership.ts).
 */
import {
  chachaPolyDecrypt,
  chachaPolyEncrypt,
  ed25519PublicToX25519,
  type X25519KeyPair,
  x25519Dh,
  x25519Generate,
} from '../../crypto/index.ts';
import type { Random } from '../../runtime/index.ts';
import { hkdfSha256, labelledInfo } from '../kdf.ts';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, LABELS } from '../labels.ts';

/** Members a group may have (issue 15): also the most recipients one key block seals to. */
export const MAX_GROUP_MEMBERS = 100;
export const EPOCH_KEY_BYTES = 32;
const RECIPIENT_BYTES = 32;
const SEALED_BYTES = EPOCH_KEY_BYTES + AEAD_TAG_BYTES;
const SLOT_BYTES = RECIPIENT_BYTES + SEALED_BYTES;

export interface KeyBlock {
  readonly ephemeral: Buffer;
  /** Recipients ascending, each with its sealed copy of the epoch key. */
  readonly slots: readonly { readonly recipient: Buffer; readonly sealed: Buffer }[];
}

/** Seals `epochKey` to each recipient (local: throws RangeError for none, too many, or an unusable key). */
export function sealKeyBlock(
  groupId: Buffer,
  opAuthor: Buffer,
  recipients: readonly Buffer[],
  epochKey: Buffer,
  random: Random,
): KeyBlock {
  const sorted = [...new Map(recipients.map((r) => [r.toString('hex'), r])).values()].sort(Buffer.compare);
  if (sorted.length < 1 || sorted.length > MAX_GROUP_MEMBERS) throw new RangeError('1-100 recipients');
  if (epochKey.length !== EPOCH_KEY_BYTES) throw new RangeError('an epoch key is 32 bytes');
  const ephemeral = x25519Generate(random);
  const slots = sorted.map((recipient) => {
    const x25519 = ed25519PublicToX25519(recipient);
    const shared = x25519 === undefined ? undefined : x25519Dh(ephemeral, x25519);
    if (shared === undefined) throw new RangeError('a recipient key is not usable');
    const key = sealKey(shared, groupId, opAuthor, recipient, ephemeral.publicKey);
    const sealed = chachaPolyEncrypt(
      key,
      Buffer.alloc(AEAD_NONCE_BYTES),
      sealAad(groupId, recipient),
      epochKey,
    );
    key.fill(0);
    return { recipient: Buffer.from(recipient), sealed };
  });
  return { ephemeral: ephemeral.publicKey, slots };
}

/** Our copy of the epoch key, or undefined when we are not a recipient or it does not open. Never throws. */
export function openKeyBlock(
  block: KeyBlock,
  groupId: Buffer,
  opAuthor: Buffer,
  ownPublicKey: Buffer,
  ownX25519: X25519KeyPair,
): Buffer | undefined {
  const slot = block.slots.find((s) => s.recipient.equals(ownPublicKey));
  if (slot === undefined) return undefined;
  const shared = x25519Dh(ownX25519, block.ephemeral);
  if (shared === undefined) return undefined;
  const key = sealKey(shared, groupId, opAuthor, ownPublicKey, block.ephemeral);
  const epochKey = chachaPolyDecrypt(
    key,
    Buffer.alloc(AEAD_NONCE_BYTES),
    sealAad(groupId, ownPublicKey),
    slot.sealed,
  );
  key.fill(0);
  return epochKey;
}

export function encodeKeyBlock(block: KeyBlock): Buffer {
  const out = Buffer.alloc(32 + 1 + block.slots.length * SLOT_BYTES);
  block.ephemeral.copy(out, 0);
  out[32] = block.slots.length;
  block.slots.forEach((slot, i) => {
    const at = 33 + i * SLOT_BYTES;
    slot.recipient.copy(out, at);
    slot.sealed.copy(out, at + RECIPIENT_BYTES);
  });
  return out;
}

/** A key block at the start of `bytes`: the block and its length, or undefined when malformed. Never throws. */
export function decodeKeyBlock(bytes: Buffer): { block: KeyBlock; length: number } | undefined {
  if (bytes.length < 33) return undefined;
  const count = bytes[32] as number;
  const length = 33 + count * SLOT_BYTES;
  if (count < 1 || count > MAX_GROUP_MEMBERS || bytes.length < length) return undefined;
  const slots: { recipient: Buffer; sealed: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    const at = 33 + i * SLOT_BYTES;
    const recipient = Buffer.from(bytes.subarray(at, at + RECIPIENT_BYTES));
    const previous = slots[slots.length - 1];
    if (previous !== undefined && Buffer.compare(previous.recipient, recipient) >= 0) return undefined;
    slots.push({ recipient, sealed: Buffer.from(bytes.subarray(at + RECIPIENT_BYTES, at + SLOT_BYTES)) });
  }
  return { block: { ephemeral: Buffer.from(bytes.subarray(0, 32)), slots }, length };
}

function sealKey(
  shared: Buffer,
  groupId: Buffer,
  opAuthor: Buffer,
  recipient: Buffer,
  ephemeral: Buffer,
): Buffer {
  const info = labelledInfo(LABELS.groupKeySeal, [groupId, opAuthor, recipient, ephemeral]);
  const key = hkdfSha256(shared, groupId, info, AEAD_KEY_BYTES);
  shared.fill(0);
  return key;
}

function sealAad(groupId: Buffer, recipient: Buffer): Buffer {
  return Buffer.concat([Buffer.from(LABELS.groupKeySealAad, 'ascii'), groupId, recipient]);
}
