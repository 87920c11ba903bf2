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

export class StoreContext {
  readonly db: SqliteDatabase;
  readonly path: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly ownPublicKey: Buffer;

  /** One transaction wrapper, made once: better-sqlite3's transaction() is costly to build per call. */
  readonly #inTransaction: (fn: () => unknown) => unknown;

  constructor(db: SqliteDatabase, path: string, clock: Clock, random: Random, ownPublicKey: Buffer) {
    this.#inTransaction = db.transaction((fn: () => unknown) => fn());
    this.db = db;
    this.path = path;
    this.clock = clock;
    this.random = random;
    this.ownPublicKey = ownPublicKey;
  }

  /** Runs fn in a transaction; returns after it committed. Driver errors become DhtchatErrors. */
  write<R>(doing: string, fn: () => R): R {
    this.#assertOpen();
    try {
      return this.#inTransaction(fn) as R;
    } catch (err) {
      throw fromSqliteError(err, this.path, doing);
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
