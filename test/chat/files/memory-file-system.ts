/**
 * An in-memory FileSystem for the transfer tests: files are byte arrays that grow on write; every operation
 * settles on a microtask (no disk, no thread pool), so runs on virtual time replay exactly. crash() keeps only
 * what a sync made durable (a killed daemon's page cache is gone); hooks let a test corrupt a read (a
 * malicious source) or count writes.
 */
import { dirname } from 'node:path';
import type { FileHandle, FileInfo, FileSystem } from '../../../src/chat/files/file-system.ts';

interface MemoryFile {
  data: Buffer;
  size: number;
  durable: Buffer;
  modifiedMs: number;
}

export class MemoryFileSystem implements FileSystem {
  readonly files = new Map<string, MemoryFile>();
  readonly directories = new Set<string>(['/']);
  /** Called on every read: return other bytes to corrupt it. */
  onRead: ((path: string, position: number, bytes: Buffer) => Buffer) | undefined;
  #now = 1_700_000_000_000;

  /** Writes a whole file (as a user would), durable at once. */
  put(path: string, data: Buffer): void {
    this.directories.add(dirname(path));
    this.files.set(path, {
      data: Buffer.from(data),
      size: data.length,
      durable: Buffer.from(data),
      modifiedMs: this.#tick(),
    });
  }

  /** The file's bytes as a reader would see them now. */
  get(path: string): Buffer | undefined {
    const file = this.files.get(path);
    return file === undefined ? undefined : Buffer.from(file.data.subarray(0, file.size));
  }

  /** Only synced bytes survive (a power cut or kill -9 with the page cache lost). */
  crash(): void {
    for (const file of this.files.values()) {
      file.data = Buffer.from(file.durable);
      file.size = file.durable.length;
    }
  }

  /**
   * The disk as a restarted machine finds it after kill -9 and a lost page cache: a new file system holding
   * only what was synced (the old one's handles, still held by the dead node's last callbacks, write elsewhere).
   */
  afterCrash(): MemoryFileSystem {
    const next = new MemoryFileSystem();
    for (const dir of this.directories) next.directories.add(dir);
    for (const [path, file] of this.files) {
      next.files.set(path, {
        data: Buffer.from(file.durable),
        size: file.durable.length,
        durable: Buffer.from(file.durable),
        modifiedMs: file.modifiedMs,
      });
    }
    return next;
  }

  /** A user touching the file (its mtime changes). */
  touch(path: string): void {
    const file = this.files.get(path);
    if (file !== undefined) file.modifiedMs = this.#tick();
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const file = this.files.get(path);
    if (file !== undefined)
      return { sizeBytes: file.size, modifiedMs: file.modifiedMs, isFile: true, isDirectory: false };
    if (this.directories.has(path)) return { sizeBytes: 0, modifiedMs: 0, isFile: false, isDirectory: true };
    return undefined;
  }

  async openRead(path: string): Promise<FileHandle> {
    if (!this.files.has(path)) throw missing(path);
    return this.#handle(path);
  }

  async openWrite(path: string): Promise<FileHandle> {
    if (!this.directories.has(dirname(path))) throw missing(dirname(path));
    if (!this.files.has(path))
      this.files.set(path, {
        data: Buffer.alloc(0),
        size: 0,
        durable: Buffer.alloc(0),
        modifiedMs: this.#tick(),
      });
    return this.#handle(path);
  }

  async createExclusive(path: string): Promise<boolean> {
    if (this.files.has(path) || this.directories.has(path)) return false;
    if (!this.directories.has(dirname(path))) throw missing(dirname(path));
    this.files.set(path, {
      data: Buffer.alloc(0),
      size: 0,
      durable: Buffer.alloc(0),
      modifiedMs: this.#tick(),
    });
    return true;
  }

  async rename(from: string, to: string): Promise<void> {
    const file = this.files.get(from);
    if (file === undefined) throw missing(from);
    this.files.delete(from);
    this.files.set(to, file);
  }

  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }

  async makeDirectory(path: string): Promise<void> {
    for (let p = path; p !== dirname(p); p = dirname(p)) this.directories.add(p);
  }

  async syncDirectory(): Promise<void> {}

  #handle(path: string): FileHandle {
    let isClosed = false;
    const fileOf = (): MemoryFile => {
      const file = this.files.get(path);
      if (file === undefined || isClosed) throw missing(path);
      return file;
    };
    return {
      read: async (position, length, into) => {
        const file = fileOf();
        const from = file.data.subarray(
          Math.min(position, file.size),
          Math.min(position + length, file.size),
        );
        const bytes = into === undefined ? Buffer.from(from) : into.subarray(0, from.copy(into));
        return this.onRead?.(path, position, bytes) ?? bytes;
      },
      write: async (data, position) => {
        const file = fileOf();
        const end = position + data.length;
        if (end > file.data.length) {
          const grown = Buffer.alloc(Math.max(end, file.data.length * 2));
          file.data.copy(grown, 0, 0, file.size);
          file.data = grown;
        }
        file.data.set(data, position);
        file.size = Math.max(file.size, end);
        file.modifiedMs = this.#tick();
      },
      sync: async () => {
        const file = fileOf();
        file.durable = Buffer.from(file.data.subarray(0, file.size));
      },
      stat: async () => {
        const file = fileOf();
        return { sizeBytes: file.size, modifiedMs: file.modifiedMs, isFile: true, isDirectory: false };
      },
      close: async () => {
        isClosed = true;
      },
    };
  }

  #tick(): number {
    return ++this.#now;
  }
}

function missing(path: string): Error {
  return Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
}
