/**
 * Receiving one file: from any number of sources at once (source-link.ts), into a partial file, verified piece
 * by piece against a hash list that was itself verified against the offer's root (hash-tree.ts).
 *
 *   hash list  fetched from the first source that opens (8,192 hashes a frame), kept only if it hashes to the
 *              root; a source whose list does not is dropped and banned, and the next one is asked
 *   pieces     asked lowest first, up to windowBytes in flight per source (piece-scheduler.ts); a piece is
 *              hashed on arrival: good → written at its offset (pwrite); bad → dropped, counted against its
 *              source and asked again (of another source if one has it); MAX_BAD_PIECES bad → source banned
 *   durability the store's bitfield only ever claims pieces that are on the disk: every checkpointBytes (16 MiB)
 *              of new pieces, or checkpointMs (2 s), the partial file is fsynced, then the bitfield as it was before that
 *              fsync is saved. A crash loses at most the pieces since the last checkpoint, which are fetched
 *              again; a restart (of either side) resumes from the saved bitfield.
 *   a group    every member who has the file is a source (file-transfers.ts dials them): one wrong piece bans
 *              its source from the transfer (others have it), and no ban ends the transfer (more may come).
 *   the end    fsync, bitfield saved, a free final name reserved (createExclusive: never an existing file),
 *              its path saved, then the partial file renamed onto it, the directory synced, state complete,
 *              `done` to every source. A crash anywhere in there is finished on the next open.
 *
 * Memory: at most windowBytes per source in flight plus one partial frame per stream (file-stream.ts).
 */
import { basename, dirname, join } from 'node:path';
import type { Clock, Logger, Timer } from '../../runtime/index.ts';
import type { FileTransferRows, StoredTransfer } from '../store/file-transfer-rows.ts';
import { Bitfield } from './bitfield.ts';
import { MAX_HASHES_PER_FRAME, RefuseReason } from './file-frames.ts';
import { type FileLayout, HASH_BYTES, layoutOf, pieceLength, pieceOffset } from './file-layout.ts';
import type { FileStreamCloseReason } from './file-stream.ts';
import type { FileHandle, FileSystem } from './file-system.ts';
import { hashAt, isHashListOf, pieceHash } from './hash-tree.ts';
import { PieceScheduler, type SourceHas } from './piece-scheduler.ts';
import { pieceBuffers } from './piece-buffers.ts';
import { numberedName } from './safe-name.ts';
import type { SourceInfo, SourceLink } from './source-link.ts';

export const DEFAULT_WINDOW_BYTES = 8 * 1024 * 1024;
/** A checkpoint (fsync, then the bitfield saved) every 16 MiB of new pieces, or every 2 s with any new. */
export const CHECKPOINT_BYTES = 16 * 1024 * 1024;
export const CHECKPOINT_MS = 2000;
/** Pieces verified and waiting for the disk, across sources: past this, no more are asked for. */
const MAX_PENDING_WRITES = 16;
/** How many numbered alternatives a final name may try before the transfer fails. */
const MAX_NAME_TRIES = 1000;

export const DownloadFailure = {
  badOffer: 'bad-offer',
  badSources: 'bad-pieces',
  disk: 'disk',
  noName: 'no-free-name',
} as const;

export interface DownloadCounters {
  badPieces: number;
  badHashLists: number;
  protocolDrops: number;
}

/** What one source gave this download (the view's per-source counters). */
export interface SourceStats {
  readonly sourceId: string;
  /** Verified pieces it sent. */
  readonly pieces: number;
  readonly badPieces: number;
  readonly isBanned: boolean;
  /** A stream with it is open now. */
  readonly isConnected: boolean;
}

export interface DownloadEvents {
  /** New verified bytes reached the disk. */
  onProgress(bytes: number): void;
  onComplete(transfer: StoredTransfer): void;
  onFailed(reason: string, detail?: string): void;
  /** A source's stream ended (the owner may dial it again). */
  onSourceClosed(link: SourceLink, reason: FileStreamCloseReason | 'banned'): void;
}

export interface DownloadOptions {
  transfer: StoredTransfer;
  fs: FileSystem;
  rows: FileTransferRows;
  clock: Clock;
  logger: Logger;
  events: DownloadEvents;
  windowBytes?: number;
  checkpointBytes?: number;
  checkpointMs?: number;
}

export class Download {
  readonly counters: DownloadCounters = { badPieces: 0, badHashLists: 0, protocolDrops: 0 };
  readonly #opts: DownloadOptions;
  readonly #layout: FileLayout;
  readonly #done: Bitfield;
  readonly #scheduler: PieceScheduler;
  readonly #links = new Map<string, SourceLink>();
  readonly #writing = new Set<number>();
  /** Per source (key hex): good and bad pieces it sent (kept after it leaves, for the view). */
  readonly #perSource = new Map<string, { pieces: number; badPieces: number }>();
  /** What each opened source holds (its `have`, else all): kept to add it once the hash list is in. */
  readonly #sourceHas = new Map<string, SourceHas>();
  #transfer: StoredTransfer;
  #handle: FileHandle | undefined;
  #hashes: Buffer | undefined;
  #hashFetch: { link: SourceLink; buffer: Buffer; next: number } | undefined;
  #bytesDone = 0;
  #uncheckpointedBytes = 0;
  #checkpointTimer: Timer | undefined;
  #checkpointing: Promise<void> = Promise.resolve();
  #isFinishing = false;
  #isClosed = false;

  private constructor(opts: DownloadOptions, layout: FileLayout, done: Bitfield, hashes: Buffer | undefined) {
    this.#opts = opts;
    this.#transfer = opts.transfer;
    this.#layout = layout;
    this.#done = done;
    this.#hashes = hashes;
    // In a group other members have the file: one wrong piece is enough to stop asking its sender.
    this.#scheduler = new PieceScheduler(done, opts.transfer.group === undefined ? undefined : 1);
    for (let i = 0; i < layout.pieceCount; i++) if (done.has(i)) this.#bytesDone += pieceLength(layout, i);
  }

  /**
   * Opens (or resumes) an accepted incoming transfer: its partial file, saved bitfield and hash list. Finishes
   * one that was complete when the daemon stopped. Throws only for a row that is not an accepted incoming
   * transfer (local misuse); a bad offer or a disk failure becomes onFailed.
   */
  static async open(opts: DownloadOptions): Promise<Download> {
    const t = opts.transfer;
    if (
      t.direction !== 'incoming' ||
      t.state !== 'accepted' ||
      t.partPath === undefined ||
      t.dir === undefined
    ) {
      throw new RangeError('a download is an accepted incoming transfer');
    }
    const layout = layoutOf(t.sizeBytes, t.pieceBytes);
    if (layout === undefined) {
      const download = new Download(
        opts,
        { sizeBytes: 0, pieceBytes: 1, pieceCount: 0 },
        new Bitfield(0),
        undefined,
      );
      download.#fail(DownloadFailure.badOffer);
      return download;
    }
    let done = t.bitfield === undefined ? undefined : Bitfield.fromBytes(layout.pieceCount, t.bitfield);
    let hashes = layout.pieceCount === 0 ? Buffer.alloc(0) : opts.rows.hashes(t.localId);
    if (hashes !== undefined && !isHashListOf(layout, hashes, t.root)) {
      if (layout.pieceCount === 0) {
        // Nothing to fetch, and an empty list is not what the root says: the offer was never a file.
        const download = new Download(opts, layout, new Bitfield(0), undefined);
        download.#fail(DownloadFailure.badOffer);
        return download;
      }
      hashes = undefined;
    }
    let isPartMissing = false;
    try {
      isPartMissing = (await opts.fs.stat(t.partPath)) === undefined;
    } catch {
      isPartMissing = true;
    }
    const isRenamed = t.path !== undefined && done?.isComplete === true;
    if (isPartMissing && !isRenamed && (done?.count ?? 0) > 0) {
      // The partial file is gone (deleted by hand): what the bitfield claims is not on the disk any more.
      done = undefined;
      opts.rows.saveBitfield(t.localId, new Bitfield(layout.pieceCount).toBytes());
    }
    const download = new Download(opts, layout, done ?? new Bitfield(layout.pieceCount), hashes);
    if (download.#bytesDone > 0) {
      const fields = {
        transfer: t.id.toString('hex').slice(0, 8),
        bytesDone: download.#bytesDone,
        size: t.sizeBytes,
      };
      opts.logger.info(fields, 'file download resumed');
    }
    await download.#openPartFile();
    return download;
  }

  get transfer(): StoredTransfer {
    return this.#transfer;
  }

  get bytesDone(): number {
    return this.#bytesDone;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** The sources with a stream open now. */
  get sourceCount(): number {
    return this.#links.size;
  }

  /** Every source that sent something or is connected, with what it sent. */
  sourceStats(): SourceStats[] {
    const ids = new Set([...this.#perSource.keys(), ...this.#links.keys()]);
    return [...ids].map((sourceId) => ({
      sourceId,
      pieces: this.#perSource.get(sourceId)?.pieces ?? 0,
      badPieces: this.#perSource.get(sourceId)?.badPieces ?? 0,
      isBanned: this.#scheduler.isBanned(sourceId),
      isConnected: this.#links.has(sourceId),
    }));
  }

  /** The pieces verified and written so far (a copy: a group member serves them while it downloads). */
  verifiedPieces(): Bitfield {
    return Bitfield.fromBytes(this.#layout.pieceCount, this.#done.toBytes()) as Bitfield;
  }

  /** The hash list is in (verified against the root): pieces can be checked, and served. */
  get hasHashes(): boolean {
    return this.#hashes !== undefined;
  }

  hasSource(sourceId: string): boolean {
    return this.#links.has(sourceId);
  }

  isBanned(sourceId: string): boolean {
    return this.#scheduler.isBanned(sourceId);
  }

  /** A new stream to a source: asks it for the transfer. A second stream from the same source is refused. */
  attach(link: SourceLink): boolean {
    if (
      this.#isClosed ||
      this.#isFinishing ||
      this.#links.has(link.sourceId) ||
      this.#scheduler.isBanned(link.sourceId)
    ) {
      link.close();
      return false;
    }
    this.#links.set(link.sourceId, link);
    link.start({
      onOpened: (l, info) => this.#onOpened(l, info),
      onHashes: (l, first, hashes) => this.#onHashes(l, first, hashes),
      onPiece: (l, index, data) => this.#onPiece(l, index, data),
      onClose: (l, reason) => this.#onLinkClosed(l, reason),
    });
    return true;
  }

  /** Stops (shutdown, or the sender went away for good): streams closed, a last checkpoint, the file closed. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#checkpointTimer?.cancel();
    for (const link of [...this.#links.values()]) link.close();
    this.#links.clear();
    await this.#checkpointing;
    if (!this.#isFinishing) await this.#checkpoint().catch(() => {});
    await this.#handle?.close().catch(() => {});
    this.#handle = undefined;
  }

  /** Cancelled: as close(), and the partial file is deleted. */
  async discard(): Promise<void> {
    await this.close();
    const part = this.#transfer.partPath;
    if (part !== undefined) await this.#opts.fs.remove(part).catch(() => {});
  }

  async #openPartFile(): Promise<void> {
    try {
      if (this.#done.isComplete && this.#transfer.path !== undefined) {
        await this.#completeRename();
        return;
      }
      this.#handle = await this.#opts.fs.openWrite(this.#transfer.partPath as string);
    } catch (error) {
      this.#fail(DownloadFailure.disk, String(error));
      return;
    }
    if (this.#done.isComplete) {
      void this.#finish();
      return;
    }
    this.#checkpointTimer = this.#opts.clock.setTimer(this.#opts.checkpointMs ?? CHECKPOINT_MS, () =>
      this.#onCheckpointTimer(),
    );
  }

  #onOpened(link: SourceLink, info: SourceInfo): void {
    const t = this.#transfer;
    const has = info.has === undefined ? 'all' : Bitfield.fromBytes(this.#layout.pieceCount, info.has);
    if (
      info.sizeBytes !== t.sizeBytes ||
      info.pieceBytes !== t.pieceBytes ||
      !info.root.equals(t.root) ||
      has === undefined
    ) {
      this.counters.protocolDrops++;
      link.drop(RefuseReason.protocol);
      return;
    }
    this.#sourceHas.set(link.sourceId, has);
    if (this.#hashes === undefined) {
      if (this.#hashFetch === undefined) this.#startHashFetch(link);
      return;
    }
    this.#scheduler.addSource(link.sourceId, has);
    this.#pump();
  }

  #startHashFetch(link: SourceLink): void {
    this.#hashFetch = { link, buffer: Buffer.alloc(this.#layout.pieceCount * HASH_BYTES), next: 0 };
    this.#askHashes();
  }

  #askHashes(): void {
    const fetch = this.#hashFetch;
    if (fetch === undefined) return;
    const count = Math.min(MAX_HASHES_PER_FRAME, this.#layout.pieceCount - fetch.next);
    fetch.link.requestHashes(fetch.next, count);
  }

  #onHashes(link: SourceLink, first: number, hashes: Buffer): void {
    const fetch = this.#hashFetch;
    if (fetch === undefined || fetch.link !== link || first !== fetch.next) {
      this.counters.protocolDrops++;
      link.drop(RefuseReason.protocol);
      return;
    }
    hashes.copy(fetch.buffer, first * HASH_BYTES);
    fetch.next += hashes.length / HASH_BYTES;
    if (fetch.next < this.#layout.pieceCount) {
      this.#askHashes();
      return;
    }
    this.#hashFetch = undefined;
    if (!isHashListOf(this.#layout, fetch.buffer, this.#transfer.root)) {
      this.counters.badHashLists++;
      this.#opts.logger.debug(
        { source: link.sourceId.slice(0, 8) },
        'file: a hash list not of the offered root',
      );
      this.#ban(link);
      this.#startNextHashFetch();
      return;
    }
    this.#hashes = fetch.buffer;
    try {
      this.#opts.rows.saveHashes(this.#transfer.localId, fetch.buffer);
    } catch (error) {
      this.#fail(DownloadFailure.disk, String(error));
      return;
    }
    for (const other of this.#links.values()) {
      const has = this.#sourceHas.get(other.sourceId);
      if (has !== undefined) this.#scheduler.addSource(other.sourceId, has);
    }
    this.#pump();
  }

  #startNextHashFetch(): void {
    const next = [...this.#links.values()].find((l) => l.isOpen);
    if (next !== undefined) this.#startHashFetch(next);
    else this.#failIfNoSource();
  }

  #onPiece(link: SourceLink, index: number, data: Buffer): void {
    const hashes = this.#hashes;
    if (hashes === undefined || !this.#scheduler.isExpected(link.sourceId, index)) {
      this.counters.protocolDrops++;
      link.drop(RefuseReason.protocol);
      return;
    }
    const isGood =
      data.length === pieceLength(this.#layout, index) && pieceHash(data).equals(hashAt(hashes, index));
    if (!isGood) {
      this.counters.badPieces++;
      this.#count(link.sourceId).badPieces++;
      this.#opts.logger.debug(
        { source: link.sourceId.slice(0, 8), piece: index },
        'file: a piece failed its hash',
      );
      if (this.#scheduler.onBad(link.sourceId, index)) this.#ban(link);
      this.#pump();
      return;
    }
    this.#scheduler.onGood(link.sourceId, index);
    this.#count(link.sourceId).pieces++;
    this.#write(index, data);
    this.#pump();
  }

  #count(sourceId: string): { pieces: number; badPieces: number } {
    let counts = this.#perSource.get(sourceId);
    if (counts === undefined) {
      counts = { pieces: 0, badPieces: 0 };
      this.#perSource.set(sourceId, counts);
    }
    return counts;
  }

  #write(index: number, data: Buffer): void {
    const handle = this.#handle;
    if (handle === undefined) return;
    this.#writing.add(index);
    handle.write(data, pieceOffset(this.#layout, index)).then(
      () => {
        // Written: the buffer (gathered by the stream's frame reader) can take another piece.
        pieceBuffers.give(data);
        this.#writing.delete(index);
        if (this.#isClosed) return;
        this.#done.set(index);
        this.#scheduler.onWritten(index);
        const bytes = data.length;
        this.#bytesDone += bytes;
        this.#uncheckpointedBytes += bytes;
        this.#opts.events.onProgress(bytes);
        if (this.#done.isComplete) void this.#finish();
        else {
          if (this.#uncheckpointedBytes >= (this.#opts.checkpointBytes ?? CHECKPOINT_BYTES))
            this.#queueCheckpoint();
          this.#pump();
        }
      },
      (error: unknown) => {
        pieceBuffers.give(data);
        this.#writing.delete(index);
        this.#fail(DownloadFailure.disk, String(error));
      },
    );
  }

  /** Asks every source for as many pieces as its window and the pending writes allow. */
  #pump(): void {
    if (this.#isClosed || this.#isFinishing || this.#hashes === undefined) return;
    const windowPieces = Math.max(
      2,
      Math.floor((this.#opts.windowBytes ?? DEFAULT_WINDOW_BYTES) / this.#layout.pieceBytes),
    );
    for (const link of this.#links.values()) {
      while (
        link.isOpen &&
        this.#writing.size < MAX_PENDING_WRITES &&
        this.#scheduler.inFlightOf(link.sourceId) < windowPieces
      ) {
        const index = this.#scheduler.next(link.sourceId);
        if (index === undefined) break;
        link.requestPiece(index);
      }
    }
  }

  #onLinkClosed(link: SourceLink, reason: FileStreamCloseReason | 'banned'): void {
    if (this.#links.get(link.sourceId) !== link) return;
    this.#links.delete(link.sourceId);
    this.#sourceHas.delete(link.sourceId);
    this.#scheduler.removeSource(link.sourceId);
    if (this.#hashFetch?.link === link) {
      this.#hashFetch = undefined;
      this.#startNextHashFetch();
    }
    this.#pump();
    if (!this.#isClosed) this.#opts.events.onSourceClosed(link, reason);
  }

  #ban(link: SourceLink): void {
    this.#opts.logger.info({ source: link.sourceId.slice(0, 8) }, 'file: source dropped for bad data');
    this.#links.delete(link.sourceId);
    this.#scheduler.ban(link.sourceId);
    link.drop(RefuseReason.protocol);
    this.#opts.events.onSourceClosed(link, 'banned');
    this.#failIfNoSource();
  }

  /** With one known source (a friend's transfer), a banned source ends it; in a group others may come. */
  #failIfNoSource(): void {
    if (this.#links.size === 0 && this.#bannedAll()) this.#fail(DownloadFailure.badSources);
  }

  #bannedAll(): boolean {
    if (this.#transfer.group !== undefined) return false;
    return this.#scheduler.isBanned(this.#transfer.peer.toString('hex'));
  }

  #onCheckpointTimer(): void {
    if (this.#isClosed || this.#isFinishing) return;
    if (this.#uncheckpointedBytes > 0) this.#queueCheckpoint();
    this.#checkpointTimer = this.#opts.clock.setTimer(this.#opts.checkpointMs ?? CHECKPOINT_MS, () =>
      this.#onCheckpointTimer(),
    );
  }

  #queueCheckpoint(): void {
    this.#uncheckpointedBytes = 0;
    this.#checkpointing = this.#checkpointing
      .then(() => this.#checkpoint())
      .catch((error: unknown) => {
        this.#fail(DownloadFailure.disk, String(error));
      });
  }

  /** fsync, then save the bitfield as it stood before the fsync began: it claims only synced pieces. */
  async #checkpoint(): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) return;
    const snapshot = this.#done.toBytes();
    const bytesDone = this.#bytesDone;
    await handle.sync();
    this.#opts.rows.saveBitfield(this.#transfer.localId, snapshot);
    this.#opts.logger.debug(
      { transfer: this.#transfer.id.toString('hex').slice(0, 8), bytesDone },
      'file checkpoint',
    );
  }

  async #finish(): Promise<void> {
    if (this.#isFinishing || this.#isClosed) return;
    this.#isFinishing = true;
    this.#checkpointTimer?.cancel();
    try {
      await this.#checkpointing;
      await this.#checkpoint();
      await this.#handle?.close();
      this.#handle = undefined;
      await this.#reserveFinalPath();
      await this.#completeRename();
    } catch (error) {
      this.#fail(DownloadFailure.disk, String(error));
    }
  }

  /** A free name in the target directory, created empty so nobody else takes it; saved before the rename. */
  async #reserveFinalPath(): Promise<void> {
    const t = this.#transfer;
    const dir = t.dir as string;
    for (let n = 0; n < MAX_NAME_TRIES; n++) {
      const candidate = join(dir, numberedName(t.name, n));
      if (await this.#opts.fs.createExclusive(candidate)) {
        this.#transfer = this.#opts.rows.setPath(t.localId, candidate);
        return;
      }
    }
    throw new Error(`${DownloadFailure.noName}: ${MAX_NAME_TRIES} names taken in ${dir}`);
  }

  /** The partial file onto the reserved path (a crash after the rename finds the file there: done). */
  async #completeRename(): Promise<void> {
    const { fs } = this.#opts;
    const t = this.#transfer;
    const final = t.path as string;
    const part = t.partPath as string;
    this.#isFinishing = true;
    if ((await fs.stat(part)) !== undefined) {
      await fs.rename(part, final);
      await fs.syncDirectory(dirname(final));
    } else if ((await fs.stat(final))?.sizeBytes !== t.sizeBytes) {
      throw new Error(`neither ${basename(part)} nor a complete ${basename(final)} is there`);
    }
    this.#transfer = this.#opts.rows.setState(t.localId, 'complete');
    this.#isClosed = true;
    const links = [...this.#links.values()];
    this.#links.clear();
    for (const link of links) link.finish();
    this.#opts.events.onComplete(this.#transfer);
  }

  #fail(reason: string, detail?: string): void {
    if (this.#isClosed) return;
    this.#opts.logger.warn(
      { transfer: this.#transfer.id.toString('hex').slice(0, 8), reason, detail },
      'file transfer failed',
    );
    void this.close();
    this.#opts.events.onFailed(reason, detail);
  }
}
