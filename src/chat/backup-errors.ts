/**
 * The backup file's error codes (docs/ERRORS.md, "## chat backup"). A backup is local input, but it may have
 * been damaged on the way or edited: every check that fails throws one of these, never anything else.
 */
import { DhtchatError } from '../runtime/index.ts';

export const BackupError = {
  /** Not a dhtchat backup, or its content is malformed (after it was authenticated: a bug or a forger). */
  corrupt: 'CHAT_BACKUP_CORRUPT',
  /** The passphrase does not open it, or the file was altered (the two cannot be told apart). */
  wrongPassphrase: 'CHAT_BACKUP_WRONG_PASSPHRASE',
  /** Over MAX_BACKUP_BYTES, to write or to read. */
  tooLarge: 'CHAT_BACKUP_TOO_LARGE',
  /** Made by a newer dhtchat (a version this one does not know). */
  tooNew: 'CHAT_BACKUP_TOO_NEW',
} as const;

/** The largest backup file written or read: the whole file is held in memory, twice, while it is opened. */
export const MAX_BACKUP_BYTES = 128 * 1024 * 1024;

export function backupCorrupt(why: string): DhtchatError {
  return new DhtchatError(BackupError.corrupt, `the backup is corrupt: ${why}`);
}
