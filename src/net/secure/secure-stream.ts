/**
 * SecureStream: a Node Duplex of plaintext over any Duplex of ciphertext (uTP, TCP, a relay). A thin driver
 * around the sans-I/O SecureSession: bytes in → session → events out. Writes made before the handshake ends are
 * held and sent once it does. Any failure — tampered, replayed, reordered or truncated frames, a wrong key, a
 * handshake timeout, the transport failing — destroys the stream with a DhtchatError carrying a stable code.
 */
import { Duplex } from 'node:stream';
import {
  cryptoRandom,
  type Clock,
  DhtchatError,
  type Logger,
  nullLogger,
  systemClock,
  type Timer,
} from '../../runtime/index.ts';
import {
  type SecurePeer,
  SecureSession,
  type SecureSessionEvent,
  type SecureSessionOptions,
} from './secure-session.ts';

export interface SecureStreamOptions extends Omit<SecureSessionOptions, 'random'> {
  random?: SecureSessionOptions['random'];
  clock?: Clock;
  /** Default 10 s; the handshake must complete within it. */
  handshakeTimeoutMs?: number;
  logger?: Logger;
  /** Like net.Socket: when false (default), our side closes as soon as the peer's CLOSE arrives. */
  allowHalfOpen?: boolean;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** One line per code, for the error message (docs/ERRORS.md has the same list). */
const MESSAGES: Readonly<Record<string, string>> = {
  NOISE_DECRYPT_FAILED: 'a frame failed authentication (tampered, replayed, reordered or wrong key)',
  SECURE_STREAM_TRUNCATED: 'the transport ended without the peer closing the secure stream',
  SECURE_STREAM_FRAME_TOO_LARGE: 'the peer sent a frame larger than the limit',
  SECURE_STREAM_FRAME_TOO_SHORT: 'the peer sent a frame too short to be a transport message',
  SECURE_STREAM_WRONG_REMOTE_KEY: 'the peer authenticated with another identity than the one expected',
  SECURE_STREAM_HANDSHAKE_TIMEOUT: 'the handshake did not complete in time',
  SECURE_STREAM_TRANSPORT_ERROR: 'the underlying transport failed',
};

type PendingWrite = { data: Buffer | Buffer[]; callback: (error?: Error | null) => void };

export class SecureStream extends Duplex {
  /** Resolves with the authenticated peer; rejects if the session fails first. */
  readonly handshake: Promise<SecurePeer>;
  readonly #underlying: Duplex;
  readonly #session: SecureSession;
  readonly #logger: Logger;
  #resolveHandshake: (peer: SecurePeer) => void = () => {};
  #rejectHandshake: (error: Error) => void = () => {};
  #timer: Timer | undefined;
  #pending: PendingWrite[] = [];
  #pendingFinal: ((error?: Error | null) => void) | undefined;
  #isPausedByUs = false;

  constructor(underlying: Duplex, opts: SecureStreamOptions) {
    super({ allowHalfOpen: opts.allowHalfOpen ?? false });
    this.#underlying = underlying;
    // The CLOSE frame is the real end of each direction. The transport must stay writable after the peer's end
    // of stream until our own CLOSE frame has gone out, whatever half-open policy it was created with.
    underlying.allowHalfOpen = true;
    this.#logger = opts.logger ?? nullLogger;
    this.#session = new SecureSession({ ...opts, random: opts.random ?? cryptoRandom });
    this.handshake = new Promise<SecurePeer>((resolve, reject) => {
      this.#resolveHandshake = resolve;
      this.#rejectHandshake = reject;
    });
    this.handshake.catch(() => {}); // the 'error' event reports it too; nobody has to await this
    const firstFrames = this.#session.start(); // local misuse throws here, before anything is attached
    const clock = opts.clock ?? systemClock;
    this.#timer = clock.setTimer(opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, () =>
      this.#fail('SECURE_STREAM_HANDSHAKE_TIMEOUT'),
    );
    underlying.on('data', (chunk: Buffer) => this.#onEvents(this.#session.receive(chunk)));
    underlying.on('end', () => this.#onEvents(this.#session.receiveEnd()));
    underlying.on('error', (cause: Error) => this.#fail('SECURE_STREAM_TRANSPORT_ERROR', cause));
    underlying.on('close', () => this.#onEvents(this.#session.receiveEnd()));
    for (const frame of firstFrames) underlying.write(frame);
  }

  /** The peer, once authenticated. */
  get peer(): SecurePeer | undefined {
    return this.#session.peer;
  }

  /** The peer's Ed25519 identity public key, once authenticated. */
  get remoteIdentityPublicKey(): Buffer | undefined {
    return this.#session.peer?.identityPublicKey;
  }

  /** The peer's X25519 static key, once authenticated. */
  get remoteStaticPublicKey(): Buffer | undefined {
    return this.#session.peer?.staticPublicKey;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#send({ data: chunk, callback });
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    // Sealed as one byte sequence, not concatenated first: a file frame's head and its piece cost no copy.
    this.#send({ data: chunks.map((c) => c.chunk), callback });
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#session.state === 'handshaking') {
      this.#pendingFinal = callback;
      return;
    }
    this.#sendClose(callback);
  }

  override _read(): void {
    if (this.#isPausedByUs) {
      this.#isPausedByUs = false;
      this.#underlying.resume();
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#timer?.cancel();
    this.#session.wipe();
    // Only a stream destroyed mid-handshake has anyone to tell (an Error's stack trace is not free).
    if (this.#session.state === 'handshaking' || error !== null) {
      const failure = error ?? new DhtchatError('SECURE_STREAM_CLOSED', 'the secure stream was closed');
      this.#rejectHandshake(failure);
      for (const write of this.#pending.splice(0)) write.callback(failure);
      this.#pendingFinal?.(failure);
      this.#pendingFinal = undefined;
    }
    // After a clean end the transport finishes on its own; otherwise tear it down.
    if (error !== null || !this.#underlying.writableFinished) this.#underlying.destroy();
    callback(error);
  }

  #send(write: PendingWrite): void {
    if (this.#session.state === 'handshaking') {
      this.#pending.push(write);
      return;
    }
    let chunks: Buffer[];
    try {
      chunks = this.#session.sealChunks(write.data);
    } catch (error) {
      write.callback(error as Error);
      return;
    }
    // Corked, a socket hands all the chunks to one writev: large frames go out without being copied together.
    this.#underlying.cork();
    let hasRoom = true;
    for (const chunk of chunks) hasRoom = this.#underlying.write(chunk);
    this.#underlying.uncork();
    if (hasRoom) write.callback();
    else this.#underlying.once('drain', () => write.callback());
  }

  #sendClose(callback: (error?: Error | null) => void): void {
    try {
      this.#underlying.end(this.#session.sealClose(), () => callback());
    } catch (error) {
      callback(error as Error);
    }
  }

  #onEvents(events: SecureSessionEvent[]): void {
    for (const event of events) {
      switch (event.kind) {
        case 'send':
          this.#underlying.write(event.bytes);
          break;
        case 'established':
          this.#timer?.cancel();
          this.#logger.debug({ pattern: event.peer.pattern }, 'secure stream established');
          this.#resolveHandshake(event.peer);
          for (const write of this.#pending.splice(0)) this.#send(write);
          if (this.#pendingFinal !== undefined) this.#sendClose(this.#pendingFinal);
          this.#pendingFinal = undefined;
          break;
        case 'data':
          if (!this.push(event.bytes) && !this.#isPausedByUs) {
            this.#isPausedByUs = true;
            this.#underlying.pause();
          }
          break;
        case 'close':
          this.push(null);
          break;
        case 'error':
          this.#fail(event.code);
          return;
      }
    }
  }

  #fail(code: string, cause?: unknown): void {
    if (this.destroyed) return;
    this.#logger.debug({ code }, 'secure stream failed');
    const message = MESSAGES[code] ?? `secure stream failed: ${code}`;
    this.destroy(new DhtchatError(code, message, cause === undefined ? undefined : { cause }));
  }
}
