/**
 * The identity backup as a download from the web client's settings (POST /v1/backup/export): the daemon, which
 * holds the unlocked identity, seals the same backup file `dhtchat export` writes (backup-export.ts) under the
 * passphrase typed in the browser, and answers it as an attachment. The secret key leaves the daemon only inside
 * that sealed file.
 *
 * With identity.dat protected, the current passphrase is needed too: an open tab alone must not be enough to
 * carry the key away under a passphrase of its own choosing (as for changing the passphrase,
 * passphrase-change.ts). An empty backup passphrase is refused (CHAT_IDENTITY_EMPTY_PASSPHRASE).
 */
import type { Identity } from '../../chat/index.ts';
import { sealBackupFile } from '../backup-export.ts';
import { readProfile } from '../chat-data-dir.ts';
import { checkCurrentPassphrase } from './passphrase-change.ts';

export interface BackupDownloadParts {
  readonly dataDir: string;
  readonly identity: Identity;
  /** The store's backup section (src/chat/backup-store-codec.ts), read in one synchronous pass. */
  readonly storeSection: () => Buffer;
  readonly now: () => number;
}

export interface BackupDownload {
  readonly fileName: string;
  readonly bytes: Buffer;
}

export async function backupDownload(
  parts: BackupDownloadParts,
  request: { passphrase: string; current: string | undefined },
): Promise<BackupDownload> {
  const { wasProtected } = await checkCurrentPassphrase(parts.dataDir, parts.identity, request.current);
  const { name } = await readProfile(parts.dataDir);
  const nowMs = parts.now();
  const bytes = await sealBackupFile({
    identity: parts.identity,
    wasProtected,
    name,
    section: parts.storeSection(),
    passphrase: request.passphrase,
    nowMs,
  });
  return { fileName: `dhtchat-backup-${new Date(nowMs).toISOString().slice(0, 10)}.dat`, bytes };
}
