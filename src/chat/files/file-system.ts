/**
 * The file system as file transfers see it: a seam, so the same transfer code runs on the disk
 * (node-file-system.ts) and on an in-memory twin in tests, where a "restart" keeps the files and a "crash"
 * keeps only what was synced. Paths are absolute host paths; every method is asynchronous (the disk's latency
 * never blocks the event loop that carries the chat).
 */

export interface FileInfo {
  readonly sizeBytes: number;
  readonly modifiedMs: number;
  readonly isFile: boolean;
  readonly isDirectory: boolean;
}

export interface FileHandle {
  /**
   * Up to length bytes at position (fewer only at the end of the file). into: read into it (at least length
   * bytes long) rather than a new buffer; the result is then a view of into.
   */
  read(position: number, length: number, into?: Buffer): Promise<Buffer>;
  /** All of data at position. */
  write(data: Uint8Array, position: number): Promise<void>;
  /** What was written so far is on the disk (fsync). */
  sync(): Promise<void>;
  stat(): Promise<FileInfo>;
  close(): Promise<void>;
}

export interface FileSystem {
  /** The file or directory at path, or undefined when there is none. */
  stat(path: string): Promise<FileInfo | undefined>;
  openRead(path: string): Promise<FileHandle>;
  /** Opens for reading and writing: creates the file (0600) if missing; never truncates it. */
  openWrite(path: string): Promise<FileHandle>;
  /** Creates an empty file (0600) at path unless something is there: false when it was taken. Never overwrites. */
  createExclusive(path: string): Promise<boolean>;
  /** Renames a file (replacing `to` if it exists: callers reserve `to` with createExclusive first). */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; nothing there is fine. */
  remove(path: string): Promise<void>;
  /** Creates a directory and its parents (0700); an existing one is fine. */
  makeDirectory(path: string): Promise<void>;
  /** Makes a rename or creation inside the directory durable (fsync of the directory). */
  syncDirectory(path: string): Promise<void>;
}
