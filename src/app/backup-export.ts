/**
 * `dhtchat export <file>`: the identity, the profile name and the chat store, sealed into one backup file
 * (src/chat/backup-file.ts) written 0600 and atomically, never over an existing file.
 *
 * The store is read where it can be read consistently: a running daemon holds the database's exclusive lock, so
 * then the daemon serves the rows (GET /v1/backup, one synchronous pass inside its process); otherwise the
 * export opens the database itself, which also keeps a daemon from starting halfway through. The secret key
 * never comes from the daemon: the export unlocks identity.dat itself (its passphrase, if it has one).
 */
import { constants, existsSync } from 'node:fs';
import { link, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupStore, Identity } from '../chat/index.ts';
import { cryptoRandom, DhtchatError, systemClock } from '../runtime/index.ts';
import { callDaemon } from './chat-api-client.ts';
import {
  backupPassphrase,
  ChatAppErrorCode,
  identityPath,
  loadChat,
  loadIdentity,
  readApiFile,
  readProfile,
} from './chat-data-dir.ts';

export const BackupAppError = {
  file: 'APP_BACKUP_FILE',
  targetNotEmpty: 'APP_BACKUP_TARGET_NOT_EMPTY',
} as const;

export interface ExportSummary {
  readonly file: string;
  readonly bytes: number;
  /** Rows per table, e.g. { contacts: 3, messages: 120, ... }. */
  readonly rows: Readonly<Record<string, number>>;
  /** True when the running daemon served the store. */
  readonly isFromDaemon: boolean;
}

export async function exportBackup(dataDir: string, file: string): Promise<ExportSummary> {
  refuseExisting(file);
  const chat = await loadChat();
  // Every question first (identity passphrase, then the backup's), so nothing is read while the user types.
  const identityFile = await chat.readIdentityFile(await identityPath(dataDir));
  const wasProtected = chat.inspectIdentityFile(identityFile.bytes).isProtected;
  const { identity } = await loadIdentity(dataDir);
  const passphrase = await backupPassphrase(true, 'export');
  const { section, isFromDaemon } = await storeSection(dataDir, identity);
  const store = chat.decodeBackupStore(section);
  const { name } = await readProfile(dataDir);
  const bytes = await sealBackupFile({
    identity,
    wasProtected,
    name,
    section,
    passphrase,
    nowMs: Date.now(),
  });
  await writeNewPrivateFile(file, bytes);
  return { file, bytes: bytes.length, rows: countRows(store), isFromDaemon };
}

/**
 * A backup file's bytes: the identity's seed, its name and the store section, sealed under the passphrase (the
 * one format, for `export` and for the web client's download, web-client/backup-download.ts). An empty
 * passphrase is refused (CHAT_IDENTITY_EMPTY_PASSPHRASE); the plaintext is wiped once sealed.
 */
export async function sealBackupFile(opts: {
  identity: Identity;
  /** Whether identity.dat had a passphrase (an import then never leaves the key unprotected). */
  wasProtected: boolean;
  name: string | undefined;
  section: Buffer;
  passphrase: string;
  nowMs: number;
}): Promise<Buffer> {
  const chat = await loadChat();
  const payload = chat.encodeBackupPayload({
    seed: opts.identity.signing.seed,
    wasProtected: opts.wasProtected,
    name: opts.name,
    exportedMs: opts.nowMs,
    store: opts.section,
  });
  try {
    return await chat.sealBackup(payload, { passphrase: opts.passphrase, random: cryptoRandom });
  } finally {
    payload.fill(0);
  }
}

/** The store section, from the running daemon or from the database file; empty when there is no database. */
async function storeSection(
  dataDir: string,
  identity: Identity,
): Promise<{ section: Buffer; isFromDaemon: boolean }> {
  const chat = await loadChat();
  if ((await readApiFile(dataDir)) !== undefined) {
    try {
      const answer = (await callDaemon(dataDir, 'GET', '/v1/backup')) as { owner?: unknown; store?: unknown };
      if (answer.owner !== identity.publicKey.toString('hex') || typeof answer.store !== 'string') {
        throw new DhtchatError(
          'CHAT_STORE_IDENTITY_MISMATCH',
          `the daemon running for ${dataDir} holds another identity than its identity.dat`,
        );
      }
      return { section: Buffer.from(answer.store, 'base64'), isFromDaemon: true };
    } catch (error) {
      // A stale api.json (the daemon was killed): the database is free, read it below.
      if (!(error instanceof DhtchatError) || error.code !== ChatAppErrorCode.noDaemon) throw error;
    }
  }
  const path = join(dataDir, chat.CHAT_DATABASE_FILE);
  if (!existsSync(path)) {
    return { section: chat.encodeBackupStore({ owner: identity.publicKey, rows: [] }), isFromDaemon: false };
  }
  const store = chat.ChatStore.open({
    path,
    ownPublicKey: identity.publicKey,
    clock: systemClock,
    random: cryptoRandom,
  });
  try {
    const section = chat.encodeBackupStore({ owner: identity.publicKey, rows: store.backupRows() });
    return { section, isFromDaemon: false };
  } finally {
    store.close();
  }
}

export function countRows(store: BackupStore): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of store.rows) counts[row.table] = (counts[row.table] ?? 0) + 1;
  return counts;
}

function refuseExisting(file: string): void {
  if (existsSync(file)) {
    throw new DhtchatError(
      BackupAppError.file,
      `${file} already exists (a backup is never written over a file)`,
    );
  }
}

/** Written in full and fsynced under a temporary name, then linked into place: no torn file, no clobbering. */
async function writeNewPrivateFile(path: string, bytes: Uint8Array): Promise<void> {
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
    isLinking = true;
    await link(temp, path);
  } catch (cause) {
    const why = isLinking && (cause as NodeJS.ErrnoException).code === 'EEXIST' ? 'it already exists' : 'I/O';
    throw new DhtchatError(BackupAppError.file, `cannot write the backup ${path} (${why})`, { cause });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
