/**
 * The chat layer's durable store: one SQLite database in the data dir (better-sqlite3, WAL).
 *
 * Durability: `synchronous = FULL`. In WAL mode NORMAL syncs only at checkpoints, so a power cut or OS crash
 * can roll back the last commits even though the API had returned; FULL syncs the WAL at every commit, so what
 * a call committed survives any crash, which is the promise "nothing a user wrote is lost". Chat writes are
 * human-paced and tiny; docs/BENCHMARKS.md ("## Chat store") shows the fsync costs far less than a network
 * round trip.
 *
 * One process per database: `locking_mode = EXCLUSIVE` makes the connection take SQLite's own file lock at open
 * and hold it until close. The kernel drops that lock when the process dies (kill -9 included), so there is no
 * stale lock file to clean up, and a second daemon on the same data dir fails at open with CHAT_STORE_LOCKED
 * after waiting `lockWaitMs` (so a restart that races the old process's exit still succeeds).
 *
 * Corruption: a file that is not SQLite is refused before SQLite sees it; otherwise `PRAGMA quick_check` runs
 * before anything is written (no journal-mode change, no migration), and a failure closes the connection and
 * throws CHAT_STORE_CORRUPT. Caveat: a WAL left by a crash next to a damaged file is still folded in by
 * SQLite's own recovery on close; the damaged pages themselves are never rewritten by us.
 */
import { chmodSync, closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { type Clock, DhtchatError, type Random } from '../../runtime/index.ts';
import { type BackupRow, readBackupRows, writeBackupRows } from './backup-rows.ts';
import { type RemovalResult, removeContact } from './contact-removal.ts';
import { Contacts } from './contacts.ts';
import { FileTransferRows } from './file-transfer-rows.ts';
import { FriendRequests } from './friend-requests.ts';
import { GroupBundles } from './group-bundles.ts';
import { GroupTables } from './groups.ts';
import { KeyValue, KvKey } from './kv.ts';
import { Messages } from './messages.ts';
import { migrate } from './migrations.ts';
import { OfflineBundles } from './offline-bundles.ts';
import { Prekeys } from './prekeys.ts';
import { RecordSeqs } from './record-seqs.ts';
import { openSqlite, type SqliteDatabase } from './sqlite.ts';
import { type CommitDurability, checkPublicKey, StoreContext } from './store-context.ts';
import { ChatStoreErrorCode, corruptError, fromSqliteError } from './store-errors.ts';

/** The database file's name inside the data dir. */
export const CHAT_DATABASE_FILE = 'chat.sqlite';

/** How long open() waits for a lock another process holds before CHAT_STORE_LOCKED. */
export const DEFAULT_LOCK_WAIT_MS = 1500;

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export interface ChatStoreOptions {
  readonly path: string;
  /** Our identity key: the sender of outgoing messages; the database refuses to open for any other key. */
  readonly ownPublicKey: Uint8Array;
  readonly clock: Clock;
  readonly random: Random;
  readonly lockWaitMs?: number;
  /** FULL (default, see above). NORMAL exists only so the benchmark can show what FULL costs. */
  readonly synchronous?: 'FULL' | 'NORMAL';
}

export class ChatStore {
  readonly path: string;
  readonly contacts: Contacts;
  readonly requests: FriendRequests;
  readonly messages: Messages;
  readonly offline: OfflineBundles;
  readonly prekeys: Prekeys;
  readonly recordSeqs: RecordSeqs;
  readonly kv: KeyValue;
  readonly files: FileTransferRows;
  /** Private groups (groups.ts) and their DHT mailbox (group-bundles.ts). */
  readonly groups: GroupTables;
  readonly groupBundles: GroupBundles;
  readonly #ctx: StoreContext;

  private constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    this.path = ctx.path;
    this.contacts = new Contacts(ctx);
    this.requests = new FriendRequests(ctx);
    this.messages = new Messages(ctx);
    this.offline = new OfflineBundles(ctx);
    this.prekeys = new Prekeys(ctx);
    this.recordSeqs = new RecordSeqs(ctx);
    this.kv = new KeyValue(ctx);
    this.files = new FileTransferRows(ctx);
    this.groups = new GroupTables(ctx);
    this.groupBundles = new GroupBundles(ctx);
  }

  /** Opens (creating if needed), checks, locks and migrates the database. Throws CHAT_STORE_* on failure. */
  static open(options: ChatStoreOptions): ChatStore {
    const { path } = options;
    const ownKey = Buffer.from(checkPublicKey(options.ownPublicKey, 'own public key'));
    refuseNonSqliteFile(path);
    const isNew = !existsSync(path);
    let db: SqliteDatabase | undefined;
    try {
      db = openSqlite(path, { timeout: options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS });
      if (isNew) chmodSync(path, 0o600);
      db.pragma('locking_mode = EXCLUSIVE');
      // Take the lock now (an empty write transaction), so a second process fails here and not mid-session.
      db.exec('BEGIN EXCLUSIVE; COMMIT');
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw corruptError(path, `quick_check: ${String(check)}`);
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal')
        throw new DhtchatError(ChatStoreErrorCode.open, `chat database ${path}: WAL unavailable`);
      db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      db.pragma('foreign_keys = ON');
      // Bound the WAL file left after checkpoints (it is reused, not shrunk, otherwise).
      db.pragma('journal_size_limit = 8388608');
      migrate(db, path);
      const ctx = new StoreContext(db, path, options.clock, options.random, ownKey);
      const store = new ChatStore(ctx);
      store.#claimOwner(ownKey);
      store.contacts.refreshNameKeys(store.kv);
      return store;
    } catch (err) {
      if (db?.open === true) db.close();
      throw fromSqliteError(err, path, 'opening');
    }
  }

  /**
   * Runs fn as one transaction: every store call inside commits together when fn returns, or none does when it
   * throws. Use it when a send depends on several rows (e.g. a message and its offline parts). `durability`:
   * see store-context.ts (default: fsync'd, survives a power cut).
   */
  transaction<R>(fn: () => R, durability: CommitDurability = 'power-loss'): R {
    return this.#ctx.write('a transaction', fn, durability);
  }

  /** Makes a contact a stranger again, keeping or forgetting the conversation (contact-removal.ts). */
  removeContact(publicKey: Uint8Array, opts: { isHistoryForgotten: boolean }): RemovalResult {
    return removeContact(this.#ctx, publicKey, opts);
  }

  /** `PRAGMA integrity_check` rows: ['ok'] when the file is sound. */
  integrityCheck(): string[] {
    return this.#ctx.read('checking integrity', () =>
      this.#ctx.db.pragma('integrity_check').map((row) => String(Object.values(row)[0])),
    );
  }

  /** Every row a backup carries (backup-rows.ts says which), read in one synchronous pass. */
  backupRows(): BackupRow[] {
    return readBackupRows(this.#ctx);
  }

  /** Fills this store, which must hold no chat data yet, from a backup's rows in one transaction; a count. */
  restoreBackupRows(rows: Iterable<BackupRow>): number {
    const count = writeBackupRows(this.#ctx, rows);
    // A backup carries names, not their keys (derived, and from tables that may differ here): compute them now.
    this.contacts.refreshNameKeys(this.kv, { isForced: true });
    return count;
  }

  schemaVersion(): number {
    return this.#ctx.read('reading the schema version', () =>
      Number(this.#ctx.db.pragma('user_version', { simple: true })),
    );
  }

  get isOpen(): boolean {
    return this.#ctx.db.open;
  }

  /** Checkpoints the WAL into the main file and releases the lock. Idempotent. */
  close(): void {
    if (this.#ctx.db.open) this.#ctx.db.close();
  }

  #claimOwner(ownKey: Buffer): void {
    const stored = this.kv.get(KvKey.ownPublicKey);
    if (stored === undefined) {
      this.kv.set(KvKey.ownPublicKey, ownKey);
    } else if (!stored.equals(ownKey)) {
      throw new DhtchatError(
        ChatStoreErrorCode.identityMismatch,
        `chat database ${this.path} belongs to another identity (${stored.toString('hex').slice(0, 16)}…)`,
      );
    }
  }
}

/** A non-empty file without SQLite's header is refused without letting SQLite open (and maybe write) it. */
function refuseNonSqliteFile(path: string): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return; // Missing: it will be created.
  }
  if (size === 0) return;
  const header = Buffer.alloc(SQLITE_MAGIC.length);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    readSync(fd, header, 0, header.length, 0);
  } catch (cause) {
    throw new DhtchatError(ChatStoreErrorCode.open, `cannot read chat database ${path}`, { cause });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (!header.equals(SQLITE_MAGIC)) throw corruptError(path, 'not an SQLite database');
}
