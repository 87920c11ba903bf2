/**
 * `dhtchat import <file>`: a backup (src/chat/backup-file.ts) restored into an empty data dir — identity.dat,
 * profile.json and chat.sqlite — after the whole file was authenticated and every row checked.
 *
 * Empty means no identity.dat (CHAT_IDENTITY_EXISTS: an import never replaces a key friends know) and no
 * chat.sqlite (APP_BACKUP_TARGET_NOT_EMPTY). The store is filled under a temporary name in one transaction and
 * linked into place only after identity.dat was written, so a failure at any step leaves the data dir as empty
 * as it was.
 *
 * The restored identity.dat: protected with the passphrase `--passphrase` asks for (or DHTCHAT_PASSPHRASE) when
 * given; otherwise, if the exported key was protected, with the backup's passphrase — a protected key never
 * comes back unprotected by accident —; otherwise plain, as it was.
 */
import { existsSync } from 'node:fs';
import { link, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { cryptoRandom, DhtchatError, systemClock } from '../runtime/index.ts';
import { BackupAppError, countRows } from './backup-export.ts';
import {
  backupPassphrase,
  identityPath,
  loadChat,
  newPassphrase,
  passphraseFromEnv,
  writeProfile,
} from './chat-data-dir.ts';
import { ensureDataDir } from './data-dir.ts';

export interface ImportSummary {
  readonly code: string;
  readonly name: string | undefined;
  readonly isProtected: boolean;
  readonly rows: Readonly<Record<string, number>>;
}

export async function importBackup(
  dataDir: string,
  file: string,
  opts: { isPassphraseAsked: boolean },
): Promise<ImportSummary> {
  const chat = await loadChat();
  const keyPath = await identityPath(dataDir);
  const storePath = join(dataDir, chat.CHAT_DATABASE_FILE);
  refuseNonEmpty(keyPath, storePath);
  const bytes = await readBackupFile(file);
  if (!chat.looksLikeBackup(bytes))
    throw new DhtchatError(chat.BackupError.corrupt, `${file} is not a dhtchat backup`);
  const passphrase = await backupPassphrase(false, 'import');
  const payload = chat.decodeBackupPayload(await chat.openBackup(bytes, passphrase));
  const keyPassphrase = opts.isPassphraseAsked
    ? await newPassphrase('New passphrase for your key', 'import --passphrase')
    : (passphraseFromEnv() ?? (payload.wasProtected ? passphrase : undefined));

  const identity = chat.identityFromSeed(payload.seed);
  const keyFile = await chat.encodeIdentityFile(identity, {
    passphrase: keyPassphrase,
    random: cryptoRandom,
  });
  await ensureDataDir(dataDir);
  const tempStore = `${storePath}.import-${process.pid}`;
  const store = chat.ChatStore.open({
    path: tempStore,
    ownPublicKey: identity.publicKey,
    clock: systemClock,
    random: cryptoRandom,
  });
  let isKeyWritten = false;
  try {
    try {
      store.restoreBackupRows(payload.decodedStore.rows);
    } finally {
      store.close();
    }
    await chat.writeIdentityFile(keyPath, keyFile);
    isKeyWritten = true;
    await linkStore(tempStore, storePath);
    if (payload.name !== undefined) await writeProfile(dataDir, { name: payload.name });
  } catch (error) {
    if (isKeyWritten) await unlink(keyPath).catch(() => undefined);
    throw error;
  } finally {
    for (const suffix of ['', '-wal', '-shm', '-journal'])
      await unlink(tempStore + suffix).catch(() => undefined);
  }
  return {
    code: chat.encodeFriendCode(identity.publicKey),
    name: payload.name,
    isProtected: keyPassphrase !== undefined,
    rows: countRows(payload.decodedStore),
  };
}

function refuseNonEmpty(keyPath: string, storePath: string): void {
  if (existsSync(keyPath)) {
    throw new DhtchatError(
      'CHAT_IDENTITY_EXISTS',
      `an identity already exists at ${keyPath} (import needs an empty data dir)`,
    );
  }
  if (existsSync(storePath)) {
    throw new DhtchatError(
      BackupAppError.targetNotEmpty,
      `${storePath} already exists (import needs an empty data dir)`,
    );
  }
}

async function readBackupFile(file: string): Promise<Buffer> {
  const { MAX_BACKUP_BYTES, BackupError } = await loadChat();
  try {
    // The size first: a huge file (the wrong path) is refused without reading it into memory.
    if ((await stat(file)).size > MAX_BACKUP_BYTES) {
      throw new DhtchatError(BackupError.tooLarge, `${file} is over ${MAX_BACKUP_BYTES} bytes: not a backup`);
    }
    return await readFile(file);
  } catch (cause) {
    if (cause instanceof DhtchatError) throw cause;
    throw new DhtchatError(BackupAppError.file, `cannot read the backup ${file}`, { cause });
  }
}

/** link(), not rename(): a chat.sqlite that appeared meanwhile is never replaced. */
async function linkStore(temp: string, path: string): Promise<void> {
  try {
    await link(temp, path);
  } catch (cause) {
    throw new DhtchatError(BackupAppError.targetNotEmpty, `cannot put the restored store at ${path}`, {
      cause,
    });
  }
}
