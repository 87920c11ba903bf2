/**
 * Files picked in the browser, staged on the daemon's disk so it can offer them (it offers files from its own
 * disk by path; a page cannot give one). `<data dir>/uploads/<16 hex>/<safe name>`: a fresh directory per upload
 * (0700, the file 0600, created exclusively), so two uploads of one name never meet and a name from the browser
 * never picks a path (safeFileName keeps only a plain last component).
 *
 * Bounded: one upload at a time, its size declared up front (Content-Length, no chunked bodies) and at most
 * maxFileBytes, at most MAX_STAGED_FILES files and maxStagedBytes in all. A staged file is deleted when its
 * transfer ends (complete, canceled, declined, failed: release), when the upload breaks off, when the offer fails,
 * and at the daemon's start for any transfer no longer live (sweep).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { safeFileName } from '../../chat/index.ts';
import { DhtchatError } from '../../runtime/index.ts';

export const UPLOADS_DIR = 'uploads';
/** More staged files than this at once is a runaway page, not a user. */
export const MAX_STAGED_FILES = 32;

export const UploadErrorCode = {
  noLength: 'APP_UPLOAD_NO_LENGTH',
  tooLarge: 'APP_UPLOAD_TOO_LARGE',
  busy: 'APP_UPLOAD_BUSY',
  full: 'APP_UPLOAD_FULL',
  incomplete: 'APP_UPLOAD_INCOMPLETE',
} as const;

export interface UploadStagingOptions {
  readonly dataDir: string;
  /** The largest upload (the daemon's file size limit). */
  readonly maxFileBytes: number;
  /** All staged files together; default twice maxFileBytes. */
  readonly maxStagedBytes?: number;
}

export class UploadStaging {
  readonly dir: string;
  readonly maxFileBytes: number;
  readonly maxStagedBytes: number;
  /** Staged file path -> its size. */
  readonly #staged = new Map<string, number>();
  #isReceiving = false;

  constructor(opts: UploadStagingOptions) {
    this.dir = join(opts.dataDir, UPLOADS_DIR);
    this.maxFileBytes = opts.maxFileBytes;
    this.maxStagedBytes = opts.maxStagedBytes ?? 2 * opts.maxFileBytes;
  }

  /** Whether path is a file staged here (a transfer serving it ends: release it). */
  holds(path: string | null): path is string {
    return path !== null && this.#staged.has(path);
  }

  stagedBytes(): number {
    let total = 0;
    for (const bytes of this.#staged.values()) total += bytes;
    return total;
  }

  /**
   * Checks the declared size, then writes the request's body into a new staged file; answers its path. The
   * caller offers it, and releases it if the offer fails.
   */
  async receive(req: IncomingMessage, name: string): Promise<string> {
    const declared = req.headers['content-length'];
    if (declared === undefined || !/^\d{1,15}$/.test(declared)) {
      throw new DhtchatError(UploadErrorCode.noLength, 'an upload must declare its size (Content-Length)');
    }
    const bytes = Number(declared);
    if (bytes > this.maxFileBytes) {
      throw new DhtchatError(
        UploadErrorCode.tooLarge,
        `the file is ${bytes} bytes: over the daemon's limit of ${this.maxFileBytes} (send larger files with dhtchat send-file)`,
      );
    }
    if (this.#isReceiving) {
      throw new DhtchatError(UploadErrorCode.busy, 'another upload is running: wait for it to finish');
    }
    if (this.#staged.size >= MAX_STAGED_FILES || this.stagedBytes() + bytes > this.maxStagedBytes) {
      throw new DhtchatError(
        UploadErrorCode.full,
        'too many uploaded files are still being sent: wait for some to finish, or cancel them',
      );
    }
    this.#isReceiving = true;
    const path = join(this.dir, randomBytes(8).toString('hex'), safeFileName(name));
    this.#staged.set(path, bytes);
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await pipeline(req, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
      const written = (await stat(path)).size;
      if (!req.complete || written !== bytes) {
        throw new DhtchatError(
          UploadErrorCode.incomplete,
          `the upload broke off at ${written} of ${bytes} bytes`,
        );
      }
      return path;
    } catch (cause) {
      await this.release(path);
      if (cause instanceof DhtchatError) throw cause;
      throw new DhtchatError(UploadErrorCode.incomplete, 'the upload broke off', { cause });
    } finally {
      this.#isReceiving = false;
    }
  }

  /** Deletes a staged file (its directory with it). */
  async release(path: string): Promise<void> {
    this.#staged.delete(path);
    if (!this.#isInside(path)) return;
    await rm(dirname(path), { recursive: true, force: true });
  }

  /** At start: deletes every staged directory that holds no file in `live` (paths of transfers not ended). */
  async sweep(live: ReadonlySet<string>): Promise<void> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const dir = join(this.dir, entry.name);
      const kept = [...live].find((path) => dirname(path) === dir);
      if (kept === undefined) await rm(dir, { recursive: true, force: true });
      else this.#staged.set(kept, (await stat(kept).catch(() => undefined))?.size ?? 0);
    }
  }

  #isInside(path: string): boolean {
    const rel = relative(this.dir, dirname(path));
    return rel.length > 0 && !rel.startsWith('..') && !rel.includes(sep);
  }
}
