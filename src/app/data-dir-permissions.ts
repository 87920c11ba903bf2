/**
 * The data dir holds the identity key, every message and the API token: it must be the user's own and private.
 * Checked when the daemon starts, before any of it is read:
 *
 * - The directory, or a file of ours in it, owned by another user: refused (APP_DATA_DIR_OWNER). That user can
 *   read or replace the key, the messages and the token whatever the modes say, and a dir prepared by someone
 *   else is a trap. Skipped where the platform has no uids (process.getuid missing: Windows).
 * - The directory, or a file of ours in it, open to the group or others: a warning per path, and the mode is
 *   tightened (0700 for the directory, 0600 for files) where we can; a mode we cannot change is still reported.
 *
 * tightenProcessUmask then makes everything the daemon creates afterwards private from its first byte: SQLite
 * creates chat.sqlite with 0644 minus the umask (the store narrows it to 0600 only after creating it), and its
 * WAL and journal files take the database's mode.
 */
import { chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { CHAT_DATABASE_FILE, IDENTITY_FILE_NAME } from '../chat/index.ts';
import { DhtchatError } from '../runtime/index.ts';
import { API_FILE } from './chat-api-types.ts';
import { PROFILE_FILE } from './chat-data-dir.ts';

export const DataDirErrorCode = {
  owner: 'APP_DATA_DIR_OWNER',
} as const;

/** Every file of ours that may be in the data dir (the daemon's, the store's and the identity commands'). */
export const PRIVATE_DATA_FILES: readonly string[] = [
  IDENTITY_FILE_NAME,
  PROFILE_FILE,
  API_FILE,
  CHAT_DATABASE_FILE,
  ...['-wal', '-shm', '-journal'].map((suffix) => `${CHAT_DATABASE_FILE}${suffix}`),
];

const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;
/** S_ISVTX (node:fs constants do not name it). */
const STICKY_BIT = 0o1000;
/** Group and other permission bits. */
const SHARED_BITS = 0o077;

/** A path that was open to the group or others. */
export interface LooseMode {
  readonly path: string;
  /** The permission bits found, e.g. 0o644. */
  readonly mode: number;
  /** False when chmod failed (a read-only file system, say): the mode is still loose. */
  readonly isFixed: boolean;
}

/**
 * Refuses a data dir owned by someone else (DhtchatError APP_DATA_DIR_OWNER) and tightens loose modes, returning
 * each one found so the caller can warn. A missing file is skipped; the directory must exist.
 */
export async function secureDataDir(
  dataDir: string,
  uid: number | undefined = process.getuid?.(),
): Promise<LooseMode[]> {
  const loose: LooseMode[] = [];
  const check = async (path: string, privateMode: number): Promise<void> => {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new DhtchatError('APP_DATA_DIR', `cannot inspect ${path}`, { cause });
    }
    if (uid !== undefined && info.uid !== uid) {
      throw new DhtchatError(
        DataDirErrorCode.owner,
        `${path} belongs to another user (uid ${info.uid}, you are ${uid}): refusing to use it, ` +
          'as that user can read or replace your key and messages',
      );
    }
    const mode = info.mode & 0o777;
    if ((mode & SHARED_BITS) === 0) return;
    // A sticky directory is a shared scratch space (`--data-dir /tmp` by mistake): reported, never narrowed.
    const isShared = info.isDirectory() && (info.mode & STICKY_BIT) !== 0;
    const isFixed =
      !isShared &&
      (await chmod(path, privateMode).then(
        () => true,
        () => false,
      ));
    loose.push({ path, mode, isFixed });
  };
  await check(dataDir, PRIVATE_DIR_MODE);
  for (const name of PRIVATE_DATA_FILES) await check(join(dataDir, name), PRIVATE_FILE_MODE);
  return loose;
}

/**
 * Sets the process umask to 0o077 (see the top of the file), for the daemon's process only: a worker thread
 * cannot change it, and there the files stay as the store and the writers make them (0600 each).
 */
export function tightenProcessUmask(): void {
  if (isMainThread) process.umask(0o077);
}

/** 0o644 as "0644", as people read modes. */
export function modeText(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
