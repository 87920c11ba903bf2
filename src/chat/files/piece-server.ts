/**
 * The source's end of one file stream: a friend asks for one of the transfers we offered them, then for
 * hash-list ranges and pieces, which are read from the file and sent whole. Requests are answered in order, a
 * piece read while the one before it drains and sent only while the stream has room (backpressure: memory per
 * stream is two pieces), at most MAX_QUEUED_REQUESTS waiting; more, a frame a receiver has no business sending, or no `open` within
 * OPEN_TIMEOUT_MS, and the stream is refused. We do not hash what we send (the receiver checks every piece):
 * the file's size and mtime are checked when the stream opens and every STAT_EVERY_BYTES, and a file that
 * changed since it was offered is refused (`unavailable`: the transfer is over); one that is not at its path is
 * refused `missing` (the receiver asks again later: the file may be back, or offered again from a new path).
 * A group member still downloading a file serves the pieces it holds (`has`): from its partial file, which
 * grows (no size or mtime check), announced in a `have` frame before `opened`; a request for another is refused.
 */
import type { Clock, Logger, Timer } from '../../runtime/index.ts';
import { type FileFrame, MAX_HASHES_PER_FRAME, RefuseReason } from './file-frames.ts';
import { type FileLayout, HASH_BYTES, pieceLength, pieceOffset } from './file-layout.ts';
import type { FileStream, FileStreamCloseReason } from './file-stream.ts';
import type { Bitfield } from './bitfield.ts';
import type { FileHandle, FileSystem } from './file-system.ts';
import { pieceBuffers } from './piece-buffers.ts';

export const MAX_QUEUED_REQUESTS = 256;
export const OPEN_TIMEOUT_MS = 30_000;
const STAT_EVERY_BYTES = 64 * 1024 * 1024;

/** What the owner knows of a transfer a peer asks for: what to serve, or why not. */
export type ServeDecision =
  | {
      ok: true;
      layout: FileLayout;
      root: Buffer;
      hashes: Buffer;
      path: string;
      modifiedMs: number;
      /** Only these pieces (a partial file); undefined: the whole file. */
      has?: Bitfield;
    }
  | { ok: false; reason: RefuseReason };

export interface PieceServerEvents {
  /** Which transfer a peer asked for (transferId) on this server's stream, and whether we serve it. */
  resolve(peer: Buffer, transferId: Buffer, server: PieceServer): ServeDecision;
  onOpened(server: PieceServer): void;
  onSent(server: PieceServer, index: number, bytes: number): void;
  /** The receiver verified everything. */
  onDone(server: PieceServer): void;
  /** The file changed (or cannot be read): the transfer cannot go on. */
  onUnavailable(server: PieceServer, detail: string): void;
  /** The file is not at its path now: the transfer waits for it (or for a send-file from its new path). */
  onMissing(server: PieceServer): void;
  onClose(server: PieceServer, reason: FileStreamCloseReason): void;
}

type Request = { type: 'hashes'; first: number; count: number } | { type: 'piece'; index: number };

export class PieceServer {
  readonly stream: FileStream;
  readonly #fs: FileSystem;
  readonly #logger: Logger;
  readonly #events: PieceServerEvents;
  readonly #queue: Request[] = [];
  #serving: Extract<ServeDecision, { ok: true }> | undefined;
  #transferId: Buffer | undefined;
  #handle: FileHandle | undefined;
  #isWorking = false;
  /** The next piece's read, started while the previous one drains. */
  #ahead: { index: number; data: Promise<Buffer> } | undefined;
  #bytesSinceStat = 0;
  #openTimer: Timer | undefined;
  #isClosed = false;

  constructor(
    stream: FileStream,
    opts: { fs: FileSystem; clock: Clock; logger: Logger; events: PieceServerEvents },
  ) {
    this.stream = stream;
    this.#fs = opts.fs;
    this.#logger = opts.logger;
    this.#events = opts.events;
    this.#openTimer = opts.clock.setTimer(OPEN_TIMEOUT_MS, () => {
      if (this.#transferId === undefined) this.#refuse(RefuseReason.protocol);
    });
    stream.start({
      onFrame: (frame) => this.#onFrame(frame),
      onClose: (reason) => this.#onClose(reason),
    });
  }

  /** The transfer this stream serves, once the receiver named it. */
  get transferId(): Buffer | undefined {
    return this.#transferId;
  }

  get peer(): Buffer {
    return this.stream.peer;
  }

  /** Stops serving (the transfer was cancelled, or we are shutting down). */
  close(reason?: RefuseReason): void {
    if (reason === undefined) this.stream.close();
    else this.#refuse(reason);
  }

  #onFrame(frame: FileFrame): void {
    if (frame.type === 'open') {
      if (this.#transferId !== undefined) {
        this.#refuse(RefuseReason.protocol);
        return;
      }
      this.#openTimer?.cancel();
      this.#transferId = frame.transferId;
      const decision = this.#events.resolve(this.stream.peer, frame.transferId, this);
      if (!decision.ok) {
        this.#refuse(decision.reason);
        return;
      }
      void this.#open(decision);
      return;
    }
    if (this.#transferId === undefined) {
      this.#refuse(RefuseReason.protocol);
      return;
    }
    switch (frame.type) {
      case 'get-hashes':
        this.#enqueue({ type: 'hashes', first: frame.first, count: frame.count });
        return;
      case 'get-piece':
        this.#enqueue({ type: 'piece', index: frame.index });
        return;
      case 'done':
        this.#events.onDone(this);
        this.stream.end();
        return;
      default:
        this.#refuse(RefuseReason.protocol);
    }
  }

  async #open(decision: Extract<ServeDecision, { ok: true }>): Promise<void> {
    try {
      const info = await this.#fs.stat(decision.path);
      if (info === undefined) {
        // Moved or not there now (an unplugged disk): not the end of the transfer. The receiver asks again
        // later; `send-file` of the same content from where it is now points the transfer there.
        this.#events.onMissing(this);
        this.#refuse(RefuseReason.missing);
        return;
      }
      const isPartial = decision.has !== undefined;
      if (
        !info.isFile ||
        (!isPartial &&
          (info.sizeBytes !== decision.layout.sizeBytes || info.modifiedMs !== decision.modifiedMs))
      ) {
        this.#unavailable('the file changed since it was offered');
        return;
      }
      this.#handle = await this.#fs.openRead(decision.path);
    } catch (error) {
      if (!this.#isClosed) this.#unavailable(`cannot read the file: ${String(error)}`);
      return;
    }
    if (this.#isClosed) {
      await this.#handle.close().catch(() => {});
      return;
    }
    this.#serving = decision;
    if (decision.has !== undefined) this.stream.send({ type: 'have', bitfield: decision.has.toBytes() });
    this.stream.send({
      type: 'opened',
      sizeBytes: decision.layout.sizeBytes,
      pieceBytes: decision.layout.pieceBytes,
      root: decision.root,
    });
    this.#events.onOpened(this);
    void this.#work();
  }

  #enqueue(request: Request): void {
    if (this.#queue.length >= MAX_QUEUED_REQUESTS) {
      this.#refuse(RefuseReason.protocol);
      return;
    }
    this.#queue.push(request);
    void this.#work();
  }

  /** Answers queued requests one at a time, waiting for the stream to drain between pieces. */
  async #work(): Promise<void> {
    if (this.#isWorking || this.#serving === undefined) return;
    this.#isWorking = true;
    try {
      for (
        let request = this.#queue.shift();
        request !== undefined && !this.#isClosed;
        request = this.#queue.shift()
      ) {
        const isSent =
          request.type === 'hashes'
            ? this.#sendHashes(request.first, request.count)
            : await this.#sendPiece(request.index);
        if (!isSent) return;
        this.#readAhead();
        await this.stream.whenDrained();
      }
    } finally {
      this.#isWorking = false;
    }
    if (this.#queue.length > 0 && !this.#isClosed) void this.#work();
  }

  #sendHashes(first: number, count: number): boolean {
    const serving = this.#serving as Extract<ServeDecision, { ok: true }>;
    if (count > MAX_HASHES_PER_FRAME || first + count > serving.layout.pieceCount) {
      this.#refuse(RefuseReason.protocol);
      return false;
    }
    this.stream.send({
      type: 'hashes',
      first,
      hashes: serving.hashes.subarray(first * HASH_BYTES, (first + count) * HASH_BYTES),
    });
    return true;
  }

  async #sendPiece(index: number): Promise<boolean> {
    const serving = this.#serving as Extract<ServeDecision, { ok: true }>;
    const handle = this.#handle as FileHandle;
    const length = pieceLength(serving.layout, index);
    if (length === 0 || (serving.has !== undefined && !serving.has.has(index))) {
      this.#refuse(RefuseReason.protocol);
      return false;
    }
    let data: Buffer;
    try {
      if (this.#bytesSinceStat >= STAT_EVERY_BYTES && serving.has === undefined) {
        this.#bytesSinceStat = 0;
        const info = await handle.stat();
        if (info.sizeBytes !== serving.layout.sizeBytes || info.modifiedMs !== serving.modifiedMs) {
          this.#unavailable('the file changed since it was offered');
          return false;
        }
      }
      const ahead = this.#ahead;
      this.#ahead = undefined;
      data = await (ahead?.index === index ? ahead.data : this.#read(handle, index, length));
    } catch (error) {
      // A stream closed under a read closes the handle too: that is no fault of the file.
      if (!this.#isClosed) this.#unavailable(`cannot read the file: ${String(error)}`);
      return false;
    }
    if (this.#isClosed) return false;
    if (data.length !== length) {
      this.#unavailable('the file is shorter than offered');
      return false;
    }
    this.#bytesSinceStat += length;
    // Once sealed, the piece's buffer takes the next read (a buffer of a read that failed or was not used is
    // left to the garbage collector: it may still be filling).
    this.stream.send({ type: 'piece', index, data }, () => pieceBuffers.give(data));
    this.#events.onSent(this, index, length);
    return true;
  }

  /**
   * Starts reading the next queued piece while the one just sent drains, so the disk's latency is not added to
   * every piece (memory: one more piece per stream). Its failure is handled when it is used.
   */
  #readAhead(): void {
    const next = this.#queue[0];
    const serving = this.#serving;
    if (
      next?.type !== 'piece' ||
      this.#ahead !== undefined ||
      serving === undefined ||
      this.#handle === undefined
    )
      return;
    const length = pieceLength(serving.layout, next.index);
    if (length === 0) return;
    const data = this.#read(this.#handle, next.index, length);
    data.catch(() => {});
    this.#ahead = { index: next.index, data };
  }

  #read(handle: FileHandle, index: number, length: number): Promise<Buffer> {
    const layout = (this.#serving as Extract<ServeDecision, { ok: true }>).layout;
    return handle.read(pieceOffset(layout, index), length, pieceBuffers.take(length));
  }

  #unavailable(detail: string): void {
    this.#logger.info(
      { transfer: this.#transferId?.toString('hex').slice(0, 8), detail },
      'file: cannot serve',
    );
    this.#events.onUnavailable(this, detail);
    this.#refuse(RefuseReason.unavailable);
  }

  #refuse(reason: RefuseReason): void {
    this.stream.refuse(reason);
  }

  #onClose(reason: FileStreamCloseReason): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#openTimer?.cancel();
    this.#queue.length = 0;
    void this.#handle?.close().catch(() => {});
    this.#handle = undefined;
    this.#events.onClose(this, reason);
  }
}
