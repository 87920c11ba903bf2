/**
 * A key from a passphrase: scrypt (RFC 7914), shared by the identity file and the backup file. Both files carry
 * their parameters, so a file may ask for any cost — and a file is input: parameters are checked against limits
 * before any work, so a damaged or hostile file cannot make us allocate gigabytes or spin for minutes.
 */
import { scrypt as scryptCallback } from 'node:crypto';
import { DhtchatError } from '../runtime/index.ts';
import { AEAD_KEY_BYTES } from './labels.ts';

/** scrypt cost: N = 2^logN, block size r, parallelism p. */
export interface ScryptParams {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** N = 2^17, r = 8, p = 1: 128 MiB and roughly half a second — OWASP's recommendation for scrypt. */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 17, r: 8, p: 1 };

export const SCRYPT_SALT_BYTES = 16;

/** What a file may ask for. */
const SCRYPT_LIMITS = { minLogN: 10, maxLogN: 20, maxR: 32, maxP: 16, maxMemBytes: 1024 * 1024 * 1024 };

export const PassphraseKeyError = {
  /** Kept under the identity's name: it was documented there first and callers match on it. */
  scryptParams: 'CHAT_IDENTITY_SCRYPT_PARAMS',
} as const;

export function isScryptWithinLimits({ logN, r, p }: ScryptParams): boolean {
  const l = SCRYPT_LIMITS;
  if (![logN, r, p].every(Number.isInteger)) return false;
  if (logN < l.minLogN || logN > l.maxLogN || r < 1 || r > l.maxR || p < 1 || p > l.maxP) return false;
  return 128 * 2 ** logN * r * p <= l.maxMemBytes;
}

/** A 32-byte AEAD key; the caller wipes it after use. Throws CHAT_IDENTITY_SCRYPT_PARAMS. */
export async function passphraseKey(passphrase: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  if (!isScryptWithinLimits(params)) {
    throw new DhtchatError(PassphraseKeyError.scryptParams, 'scrypt parameters out of range');
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
        if (err) reject(new DhtchatError(PassphraseKeyError.scryptParams, 'scrypt failed', { cause: err }));
        else resolve(key);
      },
    );
  });
}
