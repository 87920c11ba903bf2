/**
 * UtpStream: a uTP connection as a Node Duplex, so anything that speaks streams (Noise, BitTorrent, pipes) runs
 * over it. Backpressure both ways: a write's callback waits while the connection holds sendBufferBytes unsent,
 * and we stop reading from the connection (so its receive window closes) while the readable side is full.
 *
 * 'connect' is emitted once the handshake completes (at once for accepted connections). end() sends ST_FIN
 * after the queued bytes, and 'finish' follows once the peer has acknowledged it. destroy(error) and
 * resetAndDestroy() send ST_RESET; destroy() alone closes gracefully (see _destroy). Failures arrive as a
 * DhtchatError with a UTP_* code.
 */
import { Duplex } from 'node:stream';
import { DhtchatError, type UdpAddress } from '../../runtime/index.ts';
import type { UtpEvent } from './connection.ts';
import { UtpErrorCode } from './errors.ts';
import type { UtpSocket } from './socket.ts';

export interface UtpStreamOptions {
  /** Like net.Socket: when false (default), our side ends as soon as the peer's does. */
  allowHalfOpen?: boolean;
  readableHighWaterMark?: number;
}

const COALESCE_BYTES = 64 * 1024;
/** Chunks this big (loopback-sized packets) are handed on as they are: gathering them would only copy. */
const COALESCE_MIN_BYTES = 16 * 1024;

const ERROR_MESSAGES: Record<UtpErrorCode, string> = {
  UTP_CONNECT_TIMEOUT: 'uTP connect timed out',
  UTP_TIMEOUT: 'uTP peer stopped answering',
  UTP_RESET: 'uTP connection reset by peer',
  UTP_CONNECTION_REFUSED: 'uTP connection refused',
  UTP_ENDPOINT_CLOSED: 'uTP endpoint closed',
  UTP_TOO_MANY_CONNECTIONS: 'too many uTP connections',
  UTP_EVICTED: 'uTP connection evicted to make room',
  UTP_WRITE_AFTER_END: 'write after end on a uTP stream',
};

export class UtpStream extends Duplex {
  readonly socket: UtpSocket;
  #pendingWrite: ((error?: Error | null) => void) | undefined;
  #pendingFinal: ((error?: Error | null) => void) | undefined;
  #isReading = false;
  #isPumpScheduled = false;
  #isPumping = false;
  #isRepumpWanted = false;
  readonly #scheduledPump = (): void => {
    this.#isPumpScheduled = false;
    this.#pump();
  };
  #isPeerEnded = false;
  #hasPushedEnd = false;
  #isConnected = false;

  constructor(socket: UtpSocket, options: UtpStreamOptions = {}) {
    super({
      allowHalfOpen: options.allowHalfOpen ?? false,
      readableHighWaterMark: options.readableHighWaterMark ?? 256 * 1024,
      writableHighWaterMark: 64 * 1024,
    });
    this.socket = socket;
    this.#isConnected = socket.isConnected;
    socket.onEvent((event) => this.#onEvent(event));
  }

  get remoteAddress(): UdpAddress {
    return this.socket.remoteAddress;
  }

  get isConnected(): boolean {
    return this.#isConnected;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#writeChunks([chunk], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#writeChunks(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.socket.isClosed) {
      callback(this.socket.errorCode === undefined ? null : toError(this.socket.errorCode));
      return;
    }
    this.#pendingFinal = callback;
    this.socket.end();
  }

  override _read(): void {
    this.#isReading = true;
    this.#pump();
  }

  /** Aborts the connection with ST_RESET (net.Socket's resetAndDestroy). */
  resetAndDestroy(): this {
    if (!this.socket.isClosed) this.socket.reset();
    return this.destroy();
  }

  /**
   * Like net.Socket: destroy(error) resets the connection (ST_RESET); destroy() without an error closes it
   * gracefully in the background (queued bytes, then ST_FIN), unless received bytes were left unread, which
   * resets it as TCP would.
   */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.socket.isClosed) {
      const isUnread = this.readableLength > 0 || this.socket.connection.readableBytes > 0;
      if (error !== null || (isUnread && !this.readableEnded)) this.socket.reset();
      else {
        // end() was called: the bytes still buffered in this Writable were promised before our FIN.
        if (this.writableEnded && !this.socket.isEnded) {
          // Writable's writableBuffer getter (in Node since v12, missing from @types/node).
          const buffered = (this as unknown as { writableBuffer?: { chunk: Buffer }[] }).writableBuffer ?? [];
          for (const entry of buffered) this.socket.write(entry.chunk);
        }
        this.socket.detach();
      }
    }
    this.#pendingWrite?.(error ?? new DhtchatError(UtpErrorCode.RESET, 'uTP stream destroyed'));
    this.#pendingWrite = undefined;
    callback(error);
  }

  #writeChunks(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    try {
      // Like net.Socket, a written chunk is ours from here on: no copy (writers must not change it).
      for (const chunk of chunks) this.socket.write(chunk, true);
    } catch (error) {
      callback(error as Error);
      return;
    }
    if (this.socket.sendQueueBytes < this.socket.connection.sendBufferLimitBytes) callback();
    else this.#pendingWrite = callback;
  }

  /**
   * Hands what is readable to the Readable side. Reading from the socket may deliver the peer's end at once
   * (the socket dispatches events), which pumps again: that inner pump waits for this one to finish, so the end
   * is never pushed before the bytes this pump already took.
   */
  #pump(): void {
    if (this.#isPumping) {
      this.#isRepumpWanted = true;
      return;
    }
    this.#isPumping = true;
    try {
      do {
        this.#isRepumpWanted = false;
        this.#pumpOnce();
      } while (this.#isRepumpWanted);
    } finally {
      this.#isPumping = false;
    }
  }

  #pumpOnce(): void {
    // A pump scheduled before the stream ended or was destroyed has nothing left to hand on.
    if (this.#hasPushedEnd || this.destroyed) return;
    while (this.#isReading) {
      // Packets arrive as ~1.4 KB payloads: hand consumers up to 64 KiB at a time, as a TCP socket would (one
      // copy here saves every consumer per-chunk work, e.g. a frame decoder gathering a 64 KiB frame).
      const first = this.socket.read();
      if (first === undefined) break;
      let chunk = first;
      if (first.length < COALESCE_MIN_BYTES && this.socket.connection.readableBytes > 0) {
        const parts = [first];
        let length = first.length;
        while (length < COALESCE_BYTES) {
          const next = this.socket.read(COALESCE_BYTES - length);
          if (next === undefined) break;
          parts.push(next);
          length += next.length;
        }
        chunk = Buffer.concat(parts, length);
      }
      if (!this.push(chunk)) this.#isReading = false;
    }
    if (
      this.#isPeerEnded &&
      !this.#hasPushedEnd &&
      this.socket.connection.readableBytes === 0 &&
      this.#isReading
    ) {
      this.#hasPushedEnd = true;
      this.push(null);
    }
  }

  #onEvent(event: UtpEvent): void {
    switch (event.type) {
      case 'connected':
        this.#isConnected = true;
        this.emit('connect');
        return;
      case 'readable':
        // Datagrams come in batches (64 per recvmmsg) and each may make the connection readable: pump once,
        // after the batch, so a consumer gets one chunk of up to 64 KiB instead of one per 1.4 KB packet.
        if (!this.#isPumpScheduled) {
          this.#isPumpScheduled = true;
          queueMicrotask(this.#scheduledPump);
        }
        return;
      case 'drain': {
        const callback = this.#pendingWrite;
        this.#pendingWrite = undefined;
        callback?.();
        return;
      }
      case 'end':
        this.#isPeerEnded = true;
        this.#pump();
        return;
      case 'finAcked': {
        const callback = this.#pendingFinal;
        this.#pendingFinal = undefined;
        callback?.();
        return;
      }
      case 'closed':
        if (event.errorCode !== undefined) this.destroy(toError(event.errorCode));
        else {
          this.#pendingFinal?.();
          this.#pendingFinal = undefined;
          // Closed cleanly: nothing more can arrive, whether or not the peer sent its FIN.
          this.#isPeerEnded = true;
          this.#pump();
        }
        return;
    }
  }
}

function toError(code: UtpErrorCode): DhtchatError {
  return new DhtchatError(code, ERROR_MESSAGES[code]);
}
