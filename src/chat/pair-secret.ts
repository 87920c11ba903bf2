/**
 * The pair secret of two friends, and every key derived from it (docs/PROTOCOL.md "Pair secret"):
 *
 *   K = HKDF-SHA-256(ikm = X25519(a, B), salt = "dhtchat/pair/v1", info = sorted(pkA, pkB))
 *
 * a is my identity seed's X25519 scalar, B the friend's Ed25519 public key mapped to X25519, pkA/pkB the two
 * Ed25519 public keys (sorted bytewise, so both sides compute the same info). Binding the Ed25519 keys matters:
 * two Ed25519 keys differing in the sign bit map to one X25519 key, and the info keeps their pair secrets apart.
 * The raw DH output is never used as a key. Every subkey comes from K through deriveSubkey with its own label.
 */
import { ed25519PublicToX25519, x25519Dh } from '../crypto/index.ts';
import type { Identity } from './identity.ts';
import { deriveSubkey, hkdfSha256 } from './kdf.ts';
import { AEAD_KEY_BYTES, LABELS, PAIR_SECRET_BYTES } from './labels.ts';

export const PairSecretError = {
  /** The friend's key is not 32 bytes, is not an Ed25519 point we can map, or gives a low-order DH result. */
  badKey: 'CHAT_PAIR_BAD_KEY',
  /** The "friend" is ourselves. */
  self: 'CHAT_PAIR_SELF',
} as const;
export type PairSecretErrorCode = (typeof PairSecretError)[keyof typeof PairSecretError];

export type PairSecretResult = { ok: true; secret: Buffer } | { ok: false; code: PairSecretErrorCode };

/**
 * K for (my identity, friend's Ed25519 public key). The friend's key may come off the network (a friend request):
 * a bad key is a value, never a throw.
 */
export function derivePairSecret(me: Identity, friendPublicKey: Uint8Array): PairSecretResult {
  if (friendPublicKey.length !== 32) return { ok: false, code: PairSecretError.badKey };
  if (me.publicKey.equals(friendPublicKey)) return { ok: false, code: PairSecretError.self };
  const friendX25519 = ed25519PublicToX25519(friendPublicKey);
  if (friendX25519 === undefined) return { ok: false, code: PairSecretError.badKey };
  const shared = x25519Dh(me.x25519, friendX25519);
  if (shared === undefined) return { ok: false, code: PairSecretError.badKey };
  const secret = hkdfSha256(
    shared,
    Buffer.from(LABELS.pair, 'ascii'),
    sortedPair(me.publicKey, friendPublicKey),
    PAIR_SECRET_BYTES,
  );
  shared.fill(0);
  return { ok: true, secret };
}

/** The two public keys in ascending byte order, concatenated. */
export function sortedPair(pkA: Uint8Array, pkB: Uint8Array): Buffer {
  return Buffer.compare(Buffer.from(pkA), Buffer.from(pkB)) <= 0
    ? Buffer.concat([pkA, pkB])
    : Buffer.concat([pkB, pkA]);
}

/**
 * The key that seals the "punch to me" notes `senderPk` sends through an introducer to the other friend (one key
 * per direction; the note format belongs to the session code).
 */
export function punchNoteKey(pairSecret: Uint8Array, senderPk: Uint8Array): Buffer {
  return deriveSubkey(pairSecret, LABELS.punchNote, [senderPk], AEAD_KEY_BYTES);
}
