/**
 * The slice of better-sqlite3 the chat store uses, typed here. The package ships no types (and @types is not a
 * dependency), so it is loaded through createRequire and cast to these interfaces once; nothing else in src/
 * touches the driver. better-sqlite3 is synchronous: a call returns after SQLite returned, so a write that
 * returns has been committed (and, with synchronous=FULL, fsync'd).
 */
import { createRequire } from 'node:module';

export type SqlValue = string | number | bigint | Buffer | null;
export type SqlRow = Record<string, SqlValue>;

export interface RunResult {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
}

export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): SqlRow | undefined;
  all(...params: unknown[]): SqlRow[];
}

export interface SqliteDatabase {
  readonly open: boolean;
  readonly inTransaction: boolean;
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(source: string, options: { simple: true }): SqlValue;
  pragma(source: string): SqlRow[];
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  /** Registers a JavaScript function callable from SQL on this connection. */
  function(name: string, options: { deterministic?: boolean }, fn: (...args: SqlValue[]) => SqlValue): void;
  close(): void;
}

export interface SqliteOpenOptions {
  /** busy_timeout in ms: how long a statement waits for a lock held by someone else. */
  timeout?: number;
  readonly?: boolean;
  fileMustExist?: boolean;
}

type SqliteConstructor = new (path: string, options?: SqliteOpenOptions) => SqliteDatabase;

/** The error class better-sqlite3 throws: `code` is SQLite's extended result code name (SQLITE_BUSY, ...). */
export interface SqliteErrorLike extends Error {
  readonly code: string;
}

const require = createRequire(import.meta.url);
let driver: SqliteConstructor | undefined;

export function openSqlite(path: string, options: SqliteOpenOptions): SqliteDatabase {
  driver ??= require('better-sqlite3') as SqliteConstructor;
  return new driver(path, options);
}

export function isSqliteError(err: unknown): err is SqliteErrorLike {
  return (
    err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && err.name === 'SqliteError'
  );
}
