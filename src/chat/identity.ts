/**
 * A user's identity: one Ed25519 key pair made on their machine (the public key *is* the user), and its X25519
 * form for Diffie-Hellman and Noise. Also the identity file's format — bytes in, bytes out; the file system is
 * touched only by identity-file.ts.
 *
 * File (strict bencode, a dict):
 *   plain:     { f: "dhtchat-identity", v: 1, pk: <32>, seed: <32> }
 *   protected: { f, v, pk, kdf: { name: "scrypt", logN, r, p, salt: <16> }, nonce: <12>, sealed: <48> }
 * `sealed` is ChaCha20-Poly1305(scrypt(passphrase), nonce, aad = label ‖ bencode({f, v, pk, kdf}), seed): the
 * header is authenticated, so editing the public key or weakening the parameters makes the file fail to open.
 * The public key stays readable without the passphrase, so the friend code can be shown without unlocking.
 */
import { scrypt as scryptCallback } from 'node:crypto';
import {
  chachaPolyDecrypt,
  chachaPolyEncrypt,
  type Ed25519KeyPair,
  ed25519FromSeed,
  ed25519SeedToX25519,
  type X25519KeyPair,
  x25519FromPrivate,
} from '../crypto/index.ts';
import { DhtchatError, type Random } from '../runtime/index.ts';
import { type BDict, decodeBencode, encodeBencode } from '../wire/index.ts';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, LABELS } from './labels.ts';

export interface Identity {
  /** The 32-byte Ed25519 public key: the user. */
  readonly publicKey: Buffer;
  /** Signs (never logged; holds the seed). */
  readonly signing: Ed25519KeyPair;
  /** The X25519 form of the same key: pair secrets and the Noise static key. */
  readonly x25519: X25519KeyPair;
}

export const IDENTITY_FILE_FORMAT = 'dhtchat-identity';
export const IDENTITY_FILE_VERSION = 1;
const SCRYPT_SALT_BYTES = 16;

/** scrypt cost: N = 2^logN, block size r, parallelism p (RFC 7914). */
export interface ScryptParams {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** N = 2^17, r = 8, p = 1: 128 MiB and roughly half a second — OWASP's recommendation for scrypt. */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 17, r: 8, p: 1 };
/** What a file may ask for: enough to refuse a file that would make us allocate gigabytes or spin for minutes. */
const SCRYPT_LIMITS = { minLogN: 10, maxLogN: 20, maxR: 32, maxP: 16, maxMemBytes: 1024 * 1024 * 1024 };

export const IdentityError = {
  corrupt: 'CHAT_IDENTITY_CORRUPT',
  wrongPassphrase: 'CHAT_IDENTITY_WRONG_PASSPHRASE',
  passphraseRequired: 'CHAT_IDENTITY_PASSPHRASE_REQUIRED',
  emptyPassphrase: 'CHAT_IDENTITY_EMPTY_PASSPHRASE',
} as const;

export function identityFromSeed(seed: Uint8Array): Identity {
  const signing = ed25519FromSeed(seed);
  return { publicKey: signing.publicKey, signing, x25519: x25519FromPrivate(ed25519SeedToX25519(seed)) };
}

export function generateIdentity(random: Random): Identity {
  return identityFromSeed(random.bytes(32));
}

export interface EncodeIdentityOptions {
  /** Protects the seed; undefined writes it in the clear (the file is still 0600). */
  readonly passphrase?: string | undefined;
  readonly scrypt?: ScryptParams;
  /** For the scrypt salt and the nonce. */
  readonly random: Random;
}

export async function encodeIdentityFile(identity: Identity, opts: EncodeIdentityOptions): Promise<Buffer> {
  const header: BDict = Object.create(null);
  header['f'] = Buffer.from(IDENTITY_FILE_FORMAT);
  header['v'] = IDENTITY_FILE_VERSION;
  header['pk'] = identity.publicKey;
  if (opts.passphrase === undefined) {
    header['seed'] = identity.signing.seed;
    return encodeBencode(header);
  }
  if (opts.passphrase.length === 0) {
    throw new DhtchatError(
      IdentityError.emptyPassphrase,
      'the passphrase is empty; give one, or none at all',
    );
  }
  const params = opts.scrypt ?? DEFAULT_SCRYPT;
  const kdf: BDict = Object.create(null);
  kdf['name'] = Buffer.from('scrypt');
  kdf['logN'] = params.logN;
  kdf['r'] = params.r;
  kdf['p'] = params.p;
  kdf['salt'] = opts.random.bytes(SCRYPT_SALT_BYTES);
  header['kdf'] = kdf;
  const key = await passphraseKey(opts.passphrase, kdf['salt'], params);
  const nonce = opts.random.bytes(AEAD_NONCE_BYTES);
  const sealed = chachaPolyEncrypt(key, nonce, headerAad(header), identity.signing.seed);
  key.fill(0);
  header['nonce'] = nonce;
  header['sealed'] = sealed;
  return encodeBencode(header);
}

export interface IdentityFileInfo {
  readonly publicKey: Buffer;
  readonly isProtected: boolean;
}

/** What can be read without the passphrase. Throws CHAT_IDENTITY_CORRUPT. */
export function inspectIdentityFile(bytes: Uint8Array): IdentityFileInfo {
  const file = parseFile(bytes);
  return { publicKey: file.pk, isProtected: file.kdf !== undefined };
}

/**
 * The identity in a file. A passphrase given for an unprotected file is ignored (inspectIdentityFile tells the
 * caller, who may want to say so). Throws CHAT_IDENTITY_CORRUPT, _PASSPHRASE_REQUIRED or _WRONG_PASSPHRASE.
 */
export async function decodeIdentityFile(bytes: Uint8Array, passphrase?: string): Promise<Identity> {
  const file = parseFile(bytes);
  let seed: Buffer;
  if (file.kdf === undefined) {
    seed = file.seed as Buffer;
  } else {
    if (passphrase === undefined) {
      throw new DhtchatError(IdentityError.passphraseRequired, 'the identity is protected by a passphrase');
    }
    const key = await passphraseKey(passphrase, file.kdf.salt, file.kdf.params);
    const opened = chachaPolyDecrypt(
      key,
      file.nonce as Buffer,
      headerAad(file.header),
      file.sealed as Buffer,
    );
    key.fill(0);
    if (opened === undefined) {
      throw new DhtchatError(
        IdentityError.wrongPassphrase,
        'wrong passphrase for the identity (or the identity file is damaged)',
      );
    }
    seed = opened;
  }
  const identity = identityFromSeed(seed);
  if (!identity.publicKey.equals(file.pk)) {
    throw corrupt('the secret key does not match the public key');
  }
  return identity;
}

interface ParsedFile {
  header: BDict;
  pk: Buffer;
  seed?: Buffer;
  kdf?: { params: ScryptParams; salt: Buffer };
  nonce?: Buffer;
  sealed?: Buffer;
}

function parseFile(bytes: Uint8Array): ParsedFile {
  const decoded = decodeBencode(Buffer.from(bytes), { maxBytes: 4096, maxDepth: 3, maxItems: 64 });
  if (!decoded.ok) throw corrupt(`not a bencoded file (${decoded.code} at byte ${decoded.offset})`);
  const d = decoded.value;
  if (!isDict(d)) throw corrupt('not a dictionary');
  if (!bytesEqual(d['f'], IDENTITY_FILE_FORMAT)) throw corrupt('not a dhtchat identity file');
  if (d['v'] !== IDENTITY_FILE_VERSION) throw corrupt(`unsupported version ${String(d['v'])}`);
  const pk = d['pk'];
  if (!Buffer.isBuffer(pk) || pk.length !== 32) throw corrupt('bad public key');
  const header: BDict = Object.create(null);
  header['f'] = d['f'] as Buffer;
  header['v'] = IDENTITY_FILE_VERSION;
  header['pk'] = pk;
  const rawKdf = d['kdf'];
  if (rawKdf === undefined) {
    const seed = d['seed'];
    if (!Buffer.isBuffer(seed) || seed.length !== 32) throw corrupt('bad secret key');
    if (Object.keys(d).length !== 4) throw corrupt('unexpected fields');
    return { header, pk, seed };
  }
  const { nonce, sealed } = d;
  if (!isDict(rawKdf) || !bytesEqual(rawKdf['name'], 'scrypt')) throw corrupt('unknown key derivation');
  const { logN, r, p, salt } = rawKdf;
  if (typeof logN !== 'number' || typeof r !== 'number' || typeof p !== 'number') throw corrupt('bad scrypt');
  if (!Buffer.isBuffer(salt) || salt.length !== SCRYPT_SALT_BYTES) throw corrupt('bad scrypt salt');
  const params = { logN, r, p };
  if (!isScryptWithinLimits(params)) throw corrupt('scrypt parameters out of range');
  if (!Buffer.isBuffer(nonce) || nonce.length !== AEAD_NONCE_BYTES) throw corrupt('bad nonce');
  if (!Buffer.isBuffer(sealed) || sealed.length !== 48) throw corrupt('bad sealed key');
  if (Object.keys(d).length !== 6 || Object.keys(rawKdf).length !== 5) throw corrupt('unexpected fields');
  header['kdf'] = rawKdf;
  return { header, pk, kdf: { params, salt }, nonce, sealed };
}

function isScryptWithinLimits({ logN, r, p }: ScryptParams): boolean {
  const l = SCRYPT_LIMITS;
  if (![logN, r, p].every(Number.isInteger)) return false;
  if (logN < l.minLogN || logN > l.maxLogN || r < 1 || r > l.maxR || p < 1 || p > l.maxP) return false;
  return 128 * 2 ** logN * r * p <= l.maxMemBytes;
}

async function passphraseKey(passphrase: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  if (!isScryptWithinLimits(params)) {
    throw new DhtchatError('CHAT_IDENTITY_SCRYPT_PARAMS', 'scrypt parameters out of range');
  }
  const N = 2 ** params.logN;
  // NFC: the same passphrase typed on two systems (composed or decomposed accents) gives the same key.
  const secret = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  return new Promise((resolve, reject) => {
    scryptCallback(
      secret,
      salt,
      AEAD_KEY_BYTES,
      { N, r: params.r, p: params.p, maxmem: 2 * 128 * N * params.r * params.p },
      (err, key) => {
        secret.fill(0);
        if (err) reject(new DhtchatError('CHAT_IDENTITY_SCRYPT_PARAMS', 'scrypt failed', { cause: err }));
        else resolve(key);
      },
    );
  });
}

function headerAad(header: BDict): Buffer {
  return Buffer.concat([Buffer.from(LABELS.identityFile, 'ascii'), encodeBencode(header)]);
}

function isDict(value: unknown): value is BDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function bytesEqual(value: unknown, text: string): boolean {
  return Buffer.isBuffer(value) && value.equals(Buffer.from(text));
}

function corrupt(why: string): DhtchatError {
  return new DhtchatError(IdentityError.corrupt, `the identity file is corrupt: ${why}`);
}
