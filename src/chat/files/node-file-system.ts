/** The FileSystem seam on node:fs/promises (the real disk). Thin: every decision is the caller's. */
import { constants } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle as NodeFileHandle } from 'node:fs/promises';
import type { FileHandle, FileInfo, FileSystem } from './file-system.ts';

export const nodeFileSystem: FileSystem = {
  async stat(path) {
    try {
      return infoOf(await stat(path));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  },
  async openRead(path) {
    return wrap(await open(path, 'r'));
  },
  async openWrite(path) {
    // O_CREAT without O_TRUNC: a partial file from before a restart keeps its pieces.
    return wrap(await open(path, constants.O_RDWR | constants.O_CREAT, 0o600));
  },
  async createExclusive(path) {
    try {
      await (await open(path, 'wx', 0o600)).close();
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  },
  async rename(from, to) {
    await rename(from, to);
  },
  async remove(path) {
    try {
      await unlink(path);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  },
  async makeDirectory(path) {
    await mkdir(path, { recursive: true, mode: 0o700 });
  },
  async syncDirectory(path) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } catch {
      // Some file systems cannot fsync a directory (EINVAL); the rename still happened.
    } finally {
      await handle.close();
    }
  },
};

function wrap(handle: NodeFileHandle): FileHandle {
  return {
    async read(position, length, into) {
      const buffer = into ?? Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === buffer.length ? buffer : buffer.subarray(0, filled);
    },
    async write(data, position) {
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
        written += bytesWritten;
      }
    },
    sync: () => handle.sync(),
    stat: async () => infoOf(await handle.stat()),
    close: () => handle.close(),
  };
}

function infoOf(s: { size: number; mtimeMs: number; isFile(): boolean; isDirectory(): boolean }): FileInfo {
  return {
    sizeBytes: s.size,
    modifiedMs: Math.floor(s.mtimeMs),
    isFile: s.isFile(),
    isDirectory: s.isDirectory(),
  };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
