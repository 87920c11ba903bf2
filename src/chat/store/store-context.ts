/**
 * What every table module of the chat store shares: the connection, the injected Clock and Random, and the two
 * ways in. `write` runs its function in a transaction and returns only after COMMIT, which is the write-ahead
 * rule of the chat layer: a caller that sends something to the network after `write` returned can crash at any
 * moment and the row is still there. Inside ChatStore.transaction() writes nest (savepoints) and commit together
 * at the end of the outer transaction.
 */
import { type Clock, DhtchatError, type Random } from '../../runtime/index.ts';
import type { SqliteDatabase } from './sqlite.ts';
import { badArgument, ChatStoreErrorCode, fromSqliteError } from './store-errors.ts';

/**
 * What a commit must survive. 'power-loss' (the default): fsync'd before write() returns (synchronous=FULL, see
 * chat-store.ts). 'process-crash': handed to the OS and not fsync'd (synchronous=NORMAL for that one commit):
 * it survives kill -9 — the kernel has the bytes — but may roll back after a power cut or an OS crash, and only
 * together with everything committed after it (the WAL is a log: a later fsync'd commit makes it durable too).
 * Only for rows that the network brings back by itself if they are lost (a friend's receipt: we resend, the
 * friend dedupes and acks again).
 */
export type CommitDurability = 'power-loss' | 'process-crash';

export class StoreContext {
  readonly db: SqliteDatabase;
  readonly path: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly ownPublicKey: Buffer;

  /** One transaction wrapper, made once: better-sqlite3's transaction() is costly to build per call. */
  readonly #inTransaction: (fn: () => unknown) => unknown;
  /** The connection's PRAGMA synchronous (read on first use): what a 'process-crash' commit goes back to. */
  #synchronous: number | undefined;

  constructor(db: SqliteDatabase, path: string, clock: Clock, random: Random, ownPublicKey: Buffer) {
    this.#inTransaction = db.transaction((fn: () => unknown) => fn());
    this.db = db;
    this.path = path;
    this.clock = clock;
    this.random = random;
    this.ownPublicKey = ownPublicKey;
  }

  /**
   * Runs fn in a transaction; returns after it committed, as durable as `durability` says (nested in another
   * transaction, the outer one decides). Driver errors become DhtchatErrors.
   */
  write<R>(doing: string, fn: () => R, durability: CommitDurability = 'power-loss'): R {
    this.#assertOpen();
    this.#synchronous ??= Number(this.db.pragma('synchronous', { simple: true }));
    // 2 = FULL, 3 = EXTRA: an fsync to leave out; NORMAL (1) and OFF (0) commit without one anyway.
    const isRelaxed = durability === 'process-crash' && !this.db.inTransaction && this.#synchronous >= 2;
    try {
      // exec, not a prepared statement: SQLite applies this pragma when it compiles it, not when it runs.
      if (isRelaxed) this.db.exec('PRAGMA synchronous = NORMAL');
      return this.#inTransaction(fn) as R;
    } catch (err) {
      throw fromSqliteError(err, this.path, doing);
    } finally {
      if (isRelaxed && this.db.open) this.db.exec(`PRAGMA synchronous = ${this.#synchronous}`);
    }
  }

  /** Runs a read (one statement or several that need not be atomic). */
  read<R>(doing: string, fn: () => R): R {
    this.#assertOpen();
    try {
      return fn();
    } catch (err) {
      throw fromSqliteError(err, this.path, doing);
    }
  }

  #assertOpen(): void {
    if (!this.db.open)
      throw new DhtchatError(ChatStoreErrorCode.closed, `chat database ${this.path} is closed`);
  }
}

export const PUBLIC_KEY_BYTES = 32;

export function checkPublicKey(key: Uint8Array, what = 'public key'): Buffer {
  if (key.length !== PUBLIC_KEY_BYTES)
    throw badArgument(`${what} must be ${PUBLIC_KEY_BYTES} bytes, got ${key.length}`);
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/** A nullable integer column as a number (SQLite hands back number for INTEGER unless safeIntegers is on). */
export function optionalNumber(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}
