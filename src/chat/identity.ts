/**
 * A user's identity: one Ed25519 key pair made on their machine (the public key *is* the user), and its X25519
 * form for Diffie-Hellman and Noise. Also the identity file's format — bytes in, bytes out; the file system is
 * touched only by identity-file.ts.
 *
 * File (strict bencode, a dict), version 2 (written now):
 *   plain:     { f: "dhtchat-identity", v: 2, pk: <32>, pkck: <32>, seed: <32> }
 *   protected: { f, v, pk, pkck, kdf: { name: "scrypt", logN, r, p, salt: <16> }, nonce: <12>, sealed: <48> }
 * Version 1 (still read) is the same without `pkck`.
 *
 * What binds the public key to the file, checked on every load (the friend code shown is the public key, so a
 * wrong one would send friends to a stranger's key):
 * - plain: the public key is derived from the seed and compared (constant time): any edit is caught.
 * - protected, with the passphrase (the daemon): `sealed` is ChaCha20-Poly1305(scrypt(passphrase), nonce,
 *   aad = label ‖ bencode({f, v, pk, pkck, kdf}), seed), so editing the public key or weakening the parameters
 *   makes the file fail to open, and the opened seed must give the public key.
 * - protected, without the passphrase (`id`): `pkck` = SHA-256(label ‖ pk) catches a damaged or naively edited
 *   key. It is a checksum, not a MAC: whoever can rewrite the file can recompute it (they could also replace
 *   the whole file); only the passphrase can prove the key is ours. Version 1 protected files have no `pkck`:
 *   without the passphrase nothing can be checked (`isPublicKeyVerified` false).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
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
import { AEAD_NONCE_BYTES, LABELS } from './labels.ts';
import {
  DEFAULT_SCRYPT,
  isScryptWithinLimits,
  passphraseKey,
  SCRYPT_SALT_BYTES,
  type ScryptParams,
} from './passphrase-key.ts';

export { DEFAULT_SCRYPT, type ScryptParams };

export interface Identity {
  /** The 32-byte Ed25519 public key: the user. */
  readonly publicKey: Buffer;
  /** Signs (never logged; holds the seed). */
  readonly signing: Ed25519KeyPair;
  /** The X25519 form of the same key: pair secrets and the Noise static key. */
  readonly x25519: X25519KeyPair;
}

export const IDENTITY_FILE_FORMAT = 'dhtchat-identity';
/** The version written; 1 (no public-key checksum) is still read. */
export const IDENTITY_FILE_VERSION = 2;
const PUBLIC_KEY_BYTES = 32;

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
  header['pkck'] = publicKeyCheck(identity.publicKey);
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
  /**
   * True when the public key was checked without the passphrase: derived from the seed (plain file) or against
   * its checksum (protected, version 2). False only for a version 1 protected file.
   */
  readonly isPublicKeyVerified: boolean;
}

/**
 * What can be read without the passphrase, with every check that needs none (see the top of this file).
 * Throws CHAT_IDENTITY_CORRUPT.
 */
export function inspectIdentityFile(bytes: Uint8Array): IdentityFileInfo {
  const file = parseFile(bytes);
  if (file.seed !== undefined) assertKeyPair(file.seed, file.pk);
  return {
    publicKey: file.pk,
    isProtected: file.kdf !== undefined,
    isPublicKeyVerified: file.seed !== undefined || file.hasChecksum,
  };
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
  assertKeyPair(seed, file.pk);
  return identityFromSeed(seed);
}

/** SHA-256(label ‖ pk): the identity file's public-key checksum. */
export function publicKeyCheck(publicKey: Uint8Array): Buffer {
  return createHash('sha256').update(LABELS.identityPublicKeyCheck, 'ascii').update(publicKey).digest();
}

interface ParsedFile {
  header: BDict;
  pk: Buffer;
  hasChecksum: boolean;
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
  const version = d['v'];
  if (version !== 1 && version !== IDENTITY_FILE_VERSION) {
    throw corrupt(`unsupported version ${String(version)}`);
  }
  const pk = d['pk'];
  if (!Buffer.isBuffer(pk) || pk.length !== PUBLIC_KEY_BYTES) throw corrupt('bad public key');
  const header: BDict = Object.create(null);
  header['f'] = d['f'] as Buffer;
  header['v'] = version;
  header['pk'] = pk;
  const hasChecksum = version >= 2;
  if (hasChecksum) {
    const check = d['pkck'];
    if (!Buffer.isBuffer(check) || check.length !== 32) throw corrupt('bad public key checksum');
    if (!timingSafeEqual(check, publicKeyCheck(pk))) {
      throw corrupt('the public key does not match its checksum (the file was altered or damaged)');
    }
    header['pkck'] = check;
  }
  const headerFields = hasChecksum ? 4 : 3;
  const rawKdf = d['kdf'];
  if (rawKdf === undefined) {
    const seed = d['seed'];
    if (!Buffer.isBuffer(seed) || seed.length !== 32) throw corrupt('bad secret key');
    if (Object.keys(d).length !== headerFields + 1) throw corrupt('unexpected fields');
    return { header, pk, hasChecksum, seed };
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
  if (Object.keys(d).length !== headerFields + 3 || Object.keys(rawKdf).length !== 5) {
    throw corrupt('unexpected fields');
  }
  header['kdf'] = rawKdf;
  return { header, pk, hasChecksum, kdf: { params, salt }, nonce, sealed };
}

/** The secret key must give the public key the file shows (compared in constant time: it is secret-derived). */
function assertKeyPair(seed: Buffer, publicKey: Buffer): void {
  if (!timingSafeEqual(ed25519FromSeed(seed).publicKey, publicKey)) {
    throw corrupt('the public key does not match the secret key (the file was altered or damaged)');
  }
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
