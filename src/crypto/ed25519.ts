/**
 * Raw-key Ed25519 (RFC 8032) on node:crypto. Identities and BEP 44 signatures use 32-byte seeds and 32-byte
 * public keys; node:crypto wants KeyObjects: a seed is wrapped in a fixed PKCS#8 DER prefix, a public key goes in
 * as a JWK (RFC 8037 "x"), which OpenSSL 3 imports ~10× faster than the same key as SPKI DER (~15 vs ~200 µs).
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { DhtchatError } from '../runtime/index.ts';
import { ED25519_PKCS8_PREFIX } from './labels.ts';

export const ED25519_SEED_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

export interface Ed25519KeyPair {
  /** The 32-byte secret seed (RFC 8032 private key). Never log it. */
  readonly seed: Buffer;
  /** The 32-byte raw public key. */
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
}

/** Derives the key pair of a 32-byte seed. Throws CRYPTO_BAD_KEY_LENGTH on any other length (a local error). */
export function ed25519FromSeed(seed32: Uint8Array): Ed25519KeyPair {
  if (seed32.length !== ED25519_SEED_BYTES) {
    throw new DhtchatError('CRYPTO_BAD_KEY_LENGTH', `Ed25519 seed must be 32 bytes, got ${seed32.length}`);
  }
  const seed = Buffer.from(seed32);
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  // JWK export yields the raw 32-byte key (RFC 8037 "x"); much cheaper in OpenSSL 3 than a DER encode.
  const publicKey = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x ?? '', 'base64url');
  return { seed, publicKey, privateKey };
}

/** Signs msg with the key pair: a 64-byte signature (deterministic, per RFC 8032). */
export function ed25519Sign(kp: Ed25519KeyPair, msg: Uint8Array): Buffer {
  return sign(null, msg, kp.privateKey);
}

/**
 * Verifies a signature over msg. Remote input: returns false (never throws) on wrong lengths, keys that are not
 * valid curve points, or bad signatures.
 */
export function ed25519Verify(publicKey32: Uint8Array, msg: Uint8Array, sig64: Uint8Array): boolean {
  if (publicKey32.length !== ED25519_PUBLIC_KEY_BYTES || sig64.length !== ED25519_SIGNATURE_BYTES)
    return false;
  const key = publicKeyObject(publicKey32);
  if (key === undefined) return false;
  try {
    return verify(null, msg, key, sig64);
  } catch {
    return false;
  }
}

// Importing a public key costs more than a verification's hashing of a short message; DHT nodes verify the same
// few keys again and again (republished items), so a small bounded cache pays. Insertion order = eviction order.
const PUBLIC_KEY_CACHE_MAX = 256;
const publicKeyCache = new Map<string, KeyObject>();

function publicKeyObject(publicKey32: Uint8Array): KeyObject | undefined {
  const cacheKey = Buffer.from(publicKey32).toString('hex');
  const cached = publicKeyCache.get(cacheKey);
  if (cached !== undefined) return cached;
  let key: KeyObject;
  try {
    const x = Buffer.from(publicKey32).toString('base64url');
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  } catch {
    return undefined;
  }
  if (publicKeyCache.size >= PUBLIC_KEY_CACHE_MAX) {
    const oldest = publicKeyCache.keys().next().value;
    if (oldest !== undefined) publicKeyCache.delete(oldest);
  }
  publicKeyCache.set(cacheKey, key);
  return key;
}
