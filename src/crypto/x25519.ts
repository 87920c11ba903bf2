/**
 * Raw-key X25519 (RFC 7748) on node:crypto, and the maps from Ed25519 identities to X25519 keys, so one identity
 * key signs DHT items and authenticates Noise sessions (the libsodium crypto_sign_ed25519_*_to_curve25519 maps).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  KeyObject,
} from 'node:crypto';
import { cryptoRandom, DhtchatError, type Random } from '../runtime/index.ts';
import { CURVE25519_P, NOISE_DHLEN, X25519_PKCS8_PREFIX } from './labels.ts';

export interface X25519KeyPair {
  /** The 32-byte raw private key. Never log it. */
  readonly privateKey: Buffer;
  /** The 32-byte raw public key (Montgomery u, little-endian). */
  readonly publicKey: Buffer;
  readonly privateKeyObject: KeyObject;
}

/** The key pair of a 32-byte raw private key (any 32 bytes: X25519 clamps). */
export function x25519FromPrivate(private32: Uint8Array): X25519KeyPair {
  if (private32.length !== NOISE_DHLEN) {
    throw new DhtchatError(
      'CRYPTO_BAD_KEY_LENGTH',
      `X25519 private key must be 32 bytes, got ${private32.length}`,
    );
  }
  const privateKey = Buffer.from(private32);
  const privateKeyObject = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]),
    format: 'der',
    type: 'pkcs8',
  });
  // JWK export of the derived public key: the raw u-coordinate, and far cheaper in OpenSSL 3 than a DER encode.
  const jwk = createPublicKey(privateKeyObject).export({ format: 'jwk' });
  return { privateKey, publicKey: Buffer.from(jwk.x ?? '', 'base64url'), privateKeyObject };
}

/**
 * A fresh key pair from 32 bytes of the injected Random. With cryptoRandom (production) OpenSSL generates the key
 * itself: the same CSPRNG, and ~7× cheaper than importing raw bytes through PKCS#8 (OpenSSL 3's DER decoder is
 * slow), which is most of a handshake's cost. Any other Random (tests, vectors) goes through the import.
 */
export function x25519Generate(random: Random): X25519KeyPair {
  if (random !== cryptoRandom) return x25519FromPrivate(random.bytes(NOISE_DHLEN));
  const { privateKey: privateKeyObject } = generateKeyPairSync('x25519');
  const jwk = privateKeyObject.export({ format: 'jwk' });
  return {
    privateKey: Buffer.from(jwk.d ?? '', 'base64url'),
    publicKey: Buffer.from(jwk.x ?? '', 'base64url'),
    privateKeyObject,
  };
}

/**
 * Imports a raw 32-byte public key; undefined for a wrong length or a key OpenSSL refuses. As a JWK (RFC 8037):
 * OpenSSL 3 imports it ~10× faster than SPKI DER, and a handshake imports two of them per side.
 */
export function x25519PublicKeyObject(public32: Uint8Array): KeyObject | undefined {
  if (public32.length !== NOISE_DHLEN) return undefined;
  try {
    const x = Buffer.from(public32).toString('base64url');
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/**
 * DH(private, remotePublic) → 32-byte shared secret, or undefined when the remote key is not 32 bytes or is a
 * low-order point (OpenSSL refuses an all-zero result). The remote key may be given imported, to import it once
 * for several DHs. Remote input: never throws.
 */
export function x25519Dh(kp: X25519KeyPair, remotePublic: Uint8Array | KeyObject): Buffer | undefined {
  const publicKey = remotePublic instanceof KeyObject ? remotePublic : x25519PublicKeyObject(remotePublic);
  if (publicKey === undefined) return undefined;
  try {
    return diffieHellman({ privateKey: kp.privateKeyObject, publicKey });
  } catch {
    return undefined;
  }
}

/**
 * Ed25519 public key → X25519 public key: u = (1 + y) / (1 − y) mod p (RFC 7748 §4.1), y being the Edwards
 * y-coordinate with the sign bit of x cleared. Undefined for a wrong length or y = 1 (the identity, no u).
 * Sessions convert the same few identities again and again, so results are kept in a small bounded cache.
 */
export function ed25519PublicToX25519(edPublic32: Uint8Array): Buffer | undefined {
  if (edPublic32.length !== 32) return undefined;
  const cacheKey = Buffer.from(edPublic32).toString('hex');
  const cached = conversionCache.get(cacheKey);
  if (cached !== undefined) return Buffer.from(cached);
  const yBytes = Buffer.from(edPublic32);
  yBytes[31] = (yBytes[31] ?? 0) & 0x7f;
  const y = littleEndianToBigInt(yBytes) % CURVE25519_P;
  const denominator = mod(1n - y);
  if (denominator === 0n) return undefined;
  const u = bigIntToLittleEndian(mod((1n + y) * invert(denominator)));
  if (conversionCache.size >= CONVERSION_CACHE_MAX) {
    const oldest = conversionCache.keys().next().value;
    if (oldest !== undefined) conversionCache.delete(oldest);
  }
  conversionCache.set(cacheKey, u);
  return Buffer.from(u);
}

const CONVERSION_CACHE_MAX = 256;
const conversionCache = new Map<string, Buffer>();

/** Ed25519 seed → X25519 private key: the clamped first half of SHA-512(seed), the scalar Ed25519 itself uses. */
export function ed25519SeedToX25519(seed32: Uint8Array): Buffer {
  if (seed32.length !== 32) {
    throw new DhtchatError('CRYPTO_BAD_KEY_LENGTH', `Ed25519 seed must be 32 bytes, got ${seed32.length}`);
  }
  const scalar = createHash('sha512').update(seed32).digest().subarray(0, 32);
  scalar[0] = (scalar[0] ?? 0) & 248;
  scalar[31] = ((scalar[31] ?? 0) & 127) | 64;
  return Buffer.from(scalar);
}

function mod(a: bigint): bigint {
  const r = a % CURVE25519_P;
  return r < 0n ? r + CURVE25519_P : r;
}

/** a^−1 mod p by the extended Euclidean algorithm (4–5× faster in BigInt than Fermat's a^(p−2)). */
function invert(a: bigint): bigint {
  let [oldR, r] = [mod(a), CURVE25519_P];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS);
}

function littleEndianToBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).reverse().toString('hex') || '0'}`);
}

function bigIntToLittleEndian(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(64, '0'), 'hex').reverse();
}
