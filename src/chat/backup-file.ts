/**
 * The backup file's envelope: a fixed header, then the payload (backup-payload.ts) sealed under a key made from
 * the passphrase. Bytes in, bytes out; the app writes the file (0600, atomically).
 *
 *   offset  size  field
 *        0    15  magic "dhtchat-backup\n" (`head -1` names the file)
 *       15     1  version (1)
 *       16     1  key derivation (1 = scrypt)
 *       17     3  scrypt logN, r, p
 *       20    16  scrypt salt (random per file)
 *       36    12  nonce (random)
 *       48     …  ChaCha20-Poly1305(key, nonce, aad = "dhtchat/backup-file/v1" ‖ bytes 0-47, payload) ‖ tag(16)
 *
 * key = scrypt(NFC(passphrase), salt, N = 2^logN, r, p) — a fresh salt makes a fresh key for every file. The
 * whole header is authenticated, so lowering the cost or changing the version breaks the tag; the cost is also
 * checked against limits before scrypt runs (passphrase-key.ts). Wrong passphrase and altered file are one
 * error: the tag cannot tell them apart.
 */
import { chachaPolyDecrypt, chachaPolyEncrypt } from '../crypto/index.ts';
import { DhtchatError, type Random } from '../runtime/index.ts';
import { BackupError, backupCorrupt, MAX_BACKUP_BYTES } from './backup-errors.ts';
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, LABELS } from './labels.ts';
import {
  DEFAULT_SCRYPT,
  isScryptWithinLimits,
  passphraseKey,
  SCRYPT_SALT_BYTES,
  type ScryptParams,
} from './passphrase-key.ts';

export const BACKUP_MAGIC = Buffer.from('dhtchat-backup\n', 'ascii');
export const BACKUP_FILE_VERSION = 1;
const KDF_SCRYPT = 1;
const OFFSET = {
  version: BACKUP_MAGIC.length,
  kdf: BACKUP_MAGIC.length + 1,
  scrypt: BACKUP_MAGIC.length + 2,
  salt: BACKUP_MAGIC.length + 5,
  nonce: BACKUP_MAGIC.length + 5 + SCRYPT_SALT_BYTES,
} as const;
export const BACKUP_HEADER_BYTES = OFFSET.nonce + AEAD_NONCE_BYTES;

export interface SealBackupOptions {
  readonly passphrase: string;
  readonly random: Random;
  readonly scrypt?: ScryptParams;
}

/** The file's bytes. Throws CHAT_BACKUP_TOO_LARGE, or CHAT_IDENTITY_EMPTY_PASSPHRASE for an empty passphrase. */
export async function sealBackup(payload: Uint8Array, opts: SealBackupOptions): Promise<Buffer> {
  if (opts.passphrase.length === 0) {
    throw new DhtchatError('CHAT_IDENTITY_EMPTY_PASSPHRASE', 'the backup passphrase is empty');
  }
  if (BACKUP_HEADER_BYTES + payload.length + AEAD_TAG_BYTES > MAX_BACKUP_BYTES) {
    throw new DhtchatError(BackupError.tooLarge, `the backup would be over ${MAX_BACKUP_BYTES} bytes`);
  }
  const params = opts.scrypt ?? DEFAULT_SCRYPT;
  const header = Buffer.alloc(BACKUP_HEADER_BYTES);
  BACKUP_MAGIC.copy(header, 0);
  header[OFFSET.version] = BACKUP_FILE_VERSION;
  header[OFFSET.kdf] = KDF_SCRYPT;
  header[OFFSET.scrypt] = params.logN;
  header[OFFSET.scrypt + 1] = params.r;
  header[OFFSET.scrypt + 2] = params.p;
  const salt = opts.random.bytes(SCRYPT_SALT_BYTES);
  salt.copy(header, OFFSET.salt);
  const nonce = opts.random.bytes(AEAD_NONCE_BYTES);
  nonce.copy(header, OFFSET.nonce);
  const key = await passphraseKey(opts.passphrase, salt, params);
  try {
    return Buffer.concat([header, chachaPolyEncrypt(key, nonce, aad(header), payload)]);
  } finally {
    key.fill(0);
  }
}

/** True when the bytes start like a dhtchat backup (to tell "not a backup" from "damaged backup"). */
export function looksLikeBackup(bytes: Uint8Array): boolean {
  if (bytes.length < BACKUP_MAGIC.length) return false;
  return BACKUP_MAGIC.equals(Buffer.from(bytes.buffer, bytes.byteOffset, BACKUP_MAGIC.length));
}

/**
 * The payload. Throws CHAT_BACKUP_CORRUPT (not a backup, a bad header), CHAT_BACKUP_TOO_NEW,
 * CHAT_BACKUP_TOO_LARGE, or CHAT_BACKUP_WRONG_PASSPHRASE (wrong passphrase or altered file).
 */
export async function openBackup(bytes: Uint8Array, passphrase: string): Promise<Buffer> {
  if (bytes.length > MAX_BACKUP_BYTES) {
    throw new DhtchatError(BackupError.tooLarge, `the file is over ${MAX_BACKUP_BYTES} bytes: not a backup`);
  }
  const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!looksLikeBackup(file)) throw backupCorrupt('not a dhtchat backup file');
  if (file.length < BACKUP_HEADER_BYTES + AEAD_TAG_BYTES) throw backupCorrupt('the file is cut short');
  const version = file[OFFSET.version] ?? 0;
  if (version > BACKUP_FILE_VERSION) {
    throw new DhtchatError(BackupError.tooNew, `backup file version ${version}: made by a newer dhtchat`);
  }
  if (version !== BACKUP_FILE_VERSION) throw backupCorrupt(`file version ${version}`);
  if (file[OFFSET.kdf] !== KDF_SCRYPT) throw backupCorrupt('unknown key derivation');
  const params: ScryptParams = {
    logN: file[OFFSET.scrypt] ?? 0,
    r: file[OFFSET.scrypt + 1] ?? 0,
    p: file[OFFSET.scrypt + 2] ?? 0,
  };
  if (!isScryptWithinLimits(params)) throw backupCorrupt('scrypt parameters out of range');
  const header = file.subarray(0, BACKUP_HEADER_BYTES);
  const salt = file.subarray(OFFSET.salt, OFFSET.salt + SCRYPT_SALT_BYTES);
  const nonce = file.subarray(OFFSET.nonce, OFFSET.nonce + AEAD_NONCE_BYTES);
  const key = await passphraseKey(passphrase, Buffer.from(salt), params);
  const payload = chachaPolyDecrypt(key, Buffer.from(nonce), aad(header), file.subarray(BACKUP_HEADER_BYTES));
  key.fill(0);
  if (payload === undefined) {
    throw new DhtchatError(
      BackupError.wrongPassphrase,
      'wrong passphrase for the backup, or the file was altered or damaged',
    );
  }
  return payload;
}

function aad(header: Buffer): Buffer {
  return Buffer.concat([Buffer.from(LABELS.backupFile, 'ascii'), header]);
}
