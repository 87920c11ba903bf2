/**
 * One file stream: a secure stream on the file channel (net/secure channels; a chat session is channel 0),
 * carrying file frames (file-frames.ts) between a receiver and a source, beside the friends' chat session so a
 * file never queues behind messages or messages behind a file. The receiver dials the source, IK to the
 * friend's key (a fresh handshake per stream: forward secrecy, and a stream can outlive nothing of the
 * session's); the source's listener hands it over from the session manager (SessionManager.onChannelStream).
 *
 * It only moves frames: send() says whether the writer should wait for drain; a malformed frame, a transport
 * failure or idleMs without a byte either way closes it, once, with a reason the owner is told.
 */
import {
  type SecureStream,
  SecureStream as SecureStreamClass,
  type UtpEndpoint,
  UtpStream,
} from '../../net/index.ts';
import type { Clock, Logger, Random, Timer, UdpAddress } from '../../runtime/index.ts';
import type { Identity } from '../identity.ts';
import { encodeFileFrame, type FileFrame, FileFrameReader, type RefuseReason } from './file-frames.ts';

/** The secure channel of file streams. */
export const FILE_CHANNEL = 1;
/** A stream with nothing sent or received for this long is closed (a stalled peer frees its slot). */
export const FILE_STREAM_IDLE_MS = 60_000;

export interface FileStreamContext {
  identity: Identity;
  clock: Clock;
  random: Random;
  logger: Logger;
  handshakeTimeoutMs: number;
  idleMs?: number;
}

export type FileStreamCloseReason =
  | { kind: 'refused'; reason: RefuseReason }
  | { kind: 'ended' }
  | { kind: 'bad-frame'; code: string }
  | { kind: 'transport'; code: string }
  | { kind: 'idle' }
  | { kind: 'local' };

export interface FileStreamHandlers {
  onFrame(frame: FileFrame): void;
  onClose(reason: FileStreamCloseReason): void;
}

let nextStreamId = 1;

export class FileStream {
  readonly id = nextStreamId++;
  readonly peer: Buffer;
  readonly remoteAddress: UdpAddress;
  readonly #secure: SecureStream;
  readonly #reader: FileFrameReader;
  readonly #ctx: FileStreamContext;
  #handlers: FileStreamHandlers | undefined;
  #isClosed = false;
  #closeReason: FileStreamCloseReason | undefined;
  #lastActivityMs: number;
  #idleTimer: Timer | undefined;
  #drainWaiters: Array<() => void> = [];

  private constructor(
    ctx: FileStreamContext,
    secure: SecureStream,
    peer: Buffer,
    remote: UdpAddress,
    maxFrameBytes: number,
  ) {
    this.#ctx = ctx;
    this.#secure = secure;
    this.peer = peer;
    this.remoteAddress = remote;
    this.#reader = new FileFrameReader(maxFrameBytes);
    this.#lastActivityMs = ctx.clock.monotonicMs();
    secure.on('error', (error: Error & { code?: string }) =>
      this.#finish({ kind: 'transport', code: error.code ?? error.message }),
    );
    secure.on('close', () => this.#finish({ kind: 'ended' }));
    secure.on('end', () => this.#finish({ kind: 'ended' }));
    secure.on('drain', () => {
      for (const wake of this.#drainWaiters.splice(0)) wake();
    });
  }

  /** Dials a friend's file channel (IK to their key). Resolves once authenticated; rejects if that fails. */
  static async dial(
    ctx: FileStreamContext,
    utp: UtpEndpoint,
    address: UdpAddress,
    peer: Buffer,
    maxFrameBytes: number,
  ): Promise<FileStream> {
    const secure = new SecureStreamClass(new UtpStream(utp.connect(address)), {
      isInitiator: true,
      identity: ctx.identity.signing,
      remoteIdentityPublicKey: peer,
      channel: FILE_CHANNEL,
      random: ctx.random,
      clock: ctx.clock,
      handshakeTimeoutMs: ctx.handshakeTimeoutMs,
      logger: ctx.logger,
    });
    try {
      await secure.handshake;
    } catch (error) {
      secure.destroy();
      throw error;
    }
    return new FileStream(ctx, secure, Buffer.from(peer), address, maxFrameBytes);
  }

  /** An accepted stream, already authenticated as peer (detached from the session manager). */
  static accepted(
    ctx: FileStreamContext,
    secure: SecureStream,
    peer: Buffer,
    remote: UdpAddress,
    maxFrameBytes: number,
  ): FileStream {
    return new FileStream(ctx, secure, Buffer.from(peer), remote, maxFrameBytes);
  }

  get isOpen(): boolean {
    return !this.#isClosed;
  }

  /** Starts reading: frames go to handlers from now on. */
  start(handlers: FileStreamHandlers): void {
    this.#handlers = handlers;
    if (this.#isClosed) {
      handlers.onClose(this.#closeReason ?? { kind: 'local' });
      return;
    }
    this.#secure.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#armIdle();
  }

  /**
   * Sends a frame; false when the writer should wait (whenDrained) before sending more. onConsumed, if given,
   * is called once the frame's buffers are no longer read (encrypted, or dropped with the stream): a piece's
   * buffer can be reused from then on. It is not called when nothing was sent (false on a closed stream).
   */
  send(frame: FileFrame, onConsumed?: () => void): boolean {
    if (this.#isClosed || this.#secure.destroyed) return false;
    this.#lastActivityMs = this.#ctx.clock.monotonicMs();
    const parts = encodeFileFrame(frame);
    // Corked, the head and a piece's data are sealed together (SecureStream._writev): no frame for the head alone.
    this.#secure.cork();
    let hasRoom = true;
    for (const [i, part] of parts.entries()) {
      hasRoom = this.#secure.write(part, i === parts.length - 1 ? onConsumed : undefined);
    }
    this.#secure.uncork();
    return hasRoom;
  }

  /** Resolves when the stream can take more (at once if it can), or when it closes. */
  whenDrained(): Promise<void> {
    if (this.#isClosed || !this.#secure.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Refuses (telling the peer why) and closes. */
  refuse(reason: RefuseReason): void {
    if (this.#isClosed) return;
    this.send({ type: 'refuse', reason });
    this.#finish({ kind: 'local' });
    this.#secure.end();
  }

  /** Ends the stream cleanly once what was sent is out. */
  end(): void {
    if (this.#isClosed) return;
    this.#finish({ kind: 'local' });
    this.#secure.end();
  }

  /** Closes at once. */
  close(): void {
    if (this.#isClosed) return;
    this.#finish({ kind: 'local' });
    this.#secure.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#isClosed) return;
    this.#lastActivityMs = this.#ctx.clock.monotonicMs();
    const { frames, error } = this.#reader.push(chunk);
    for (const frame of frames) {
      if (this.#isClosed) return;
      if (frame.type === 'refuse') {
        this.#finish({ kind: 'refused', reason: frame.reason });
        this.#secure.destroy();
        return;
      }
      this.#handlers?.onFrame(frame);
    }
    if (error !== undefined && !this.#isClosed) {
      this.#ctx.logger.debug({ code: error, stream: this.id }, 'bad file frame');
      this.#finish({ kind: 'bad-frame', code: error });
      this.#secure.destroy();
    }
  }

  #armIdle(): void {
    const idleMs = this.#ctx.idleMs ?? FILE_STREAM_IDLE_MS;
    this.#idleTimer?.cancel();
    this.#idleTimer = this.#ctx.clock.setTimer(
      Math.max(50, this.#lastActivityMs + idleMs - this.#ctx.clock.monotonicMs()),
      () => {
        if (this.#isClosed) return;
        if (this.#ctx.clock.monotonicMs() - this.#lastActivityMs >= idleMs) {
          this.#finish({ kind: 'idle' });
          this.#secure.destroy();
          return;
        }
        this.#armIdle();
      },
    );
  }

  #finish(reason: FileStreamCloseReason): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#closeReason = reason;
    this.#idleTimer?.cancel();
    for (const wake of this.#drainWaiters.splice(0)) wake();
    this.#handlers?.onClose(reason);
  }
}
