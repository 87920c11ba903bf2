/**
 * The identity file on disk: the only file-system code of the chat layer, kept to two functions taking a path
 * (the format is identity.ts's). The file holds the secret key, so it is created 0600, written in full to a
 * temporary file and fsynced before it appears under its name, and never silently overwritten: a second `init`
 * must not destroy the key that friends know.
 */
import { constants } from 'node:fs';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { DhtchatError } from '../runtime/index.ts';

export const IDENTITY_FILE_NAME = 'identity.dat';

export const IdentityFileError = {
  exists: 'CHAT_IDENTITY_EXISTS',
  notFound: 'CHAT_IDENTITY_NOT_FOUND',
  io: 'CHAT_IDENTITY_IO',
} as const;

export interface WriteIdentityOptions {
  /** Replace an existing file (a passphrase change). Default false: an existing file is CHAT_IDENTITY_EXISTS. */
  readonly isReplace?: boolean;
}

export async function writeIdentityFile(
  path: string,
  bytes: Uint8Array,
  opts: WriteIdentityOptions = {},
): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  let isLinking = false;
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // link() fails when the name exists, so creation is atomic and never clobbers; rename() replaces on purpose.
    isLinking = true;
    if (opts.isReplace === true) await rename(temp, path);
    else await link(temp, path);
  } catch (cause) {
    if (isLinking && (cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new DhtchatError(IdentityFileError.exists, `an identity already exists at ${path}`, { cause });
    }
    throw new DhtchatError(IdentityFileError.io, `cannot write the identity file ${path}`, { cause });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

export interface IdentityFileBytes {
  readonly bytes: Buffer;
  /** False when group or others may read the file: the caller should warn (we do not chmod behind the user). */
  readonly isPrivate: boolean;
}

export async function readIdentityFile(path: string): Promise<IdentityFileBytes> {
  try {
    const [bytes, info] = await Promise.all([readFile(path), stat(path)]);
    return { bytes, isPrivate: (info.mode & 0o077) === 0 };
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DhtchatError(IdentityFileError.notFound, `no identity at ${path} (run init first)`, {
        cause,
      });
    }
    throw new DhtchatError(IdentityFileError.io, `cannot read the identity file ${path}`, { cause });
  }
}
