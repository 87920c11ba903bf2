/**
 * One authenticated chat session: a uTP stream, secured with Noise (IK when we know whom we call, XX for friend
 * requests), carrying chat frames. The session only moves bytes and keeps itself alive; who may talk to us is
 * the session manager's decision. Frames that arrive before the manager has looked at the peer's identity are
 * held (bounded), so a stranger's frames are never handed on: the manager admits the session or closes it.
 *
 * Keepalive: a ping after keepaliveMs without traffic sent; nothing received for deadAfterMs closes the session
 * with CHAT_SESSION_TIMEOUT (the uTP connection may stay up through a dead peer for a while). probe() asks now:
 * a ping, and anything heard back within the timeout shows the peer is still there (the manager asks before it
 * keeps an old session over a friend's new one: the friend may have restarted).
 */
import {
  type SecurePeer,
  SecureStream,
  type UtpEndpoint,
  type UtpSocket,
  UtpStream,
} from '../../net/index.ts';
import type { Clock, Logger, Random, Timer, UdpAddress } from '../../runtime/index.ts';
import type { Identity } from '../identity.ts';
import { type ChatFrame, ChatFrameReader, encodeChatFrame } from './frames.ts';

export const SessionCloseCode = {
  timeout: 'CHAT_SESSION_TIMEOUT',
  badFrame: 'CHAT_SESSION_BAD_FRAME',
  refused: 'CHAT_SESSION_REFUSED',
  replaced: 'CHAT_SESSION_REPLACED',
  transport: 'CHAT_SESSION_TRANSPORT',
  local: 'CHAT_SESSION_CLOSED',
} as const;
export type SessionCloseCode = (typeof SessionCloseCode)[keyof typeof SessionCloseCode];

export interface SessionTiming {
  keepaliveMs: number;
  deadAfterMs: number;
  handshakeTimeoutMs: number;
}
export const DEFAULT_SESSION_TIMING: SessionTiming = {
  keepaliveMs: 15_000,
  deadAfterMs: 45_000,
  handshakeTimeoutMs: 10_000,
};
/** Frames held before admission; a peer that sends more before we decide is dropped. */
const MAX_HELD_FRAMES = 256;
/**
 * Held for a friend's session parked while the manager probes the old one: the friend may flush its whole outbox
 * (up to 500 messages) on it meanwhile. Bounded, and only for a session whose key the manager knows as a friend.
 */
export const MAX_PARKED_FRAMES = 2048;

export interface SessionContext {
  identity: Identity;
  clock: Clock;
  random: Random;
  logger: Logger;
  timing: SessionTiming;
}

export interface SessionHandlers {
  onFrame(frame: ChatFrame): void;
  /** After the frames of one received chunk: lets the owner commit them in one transaction. */
  onBatchEnd?(): void;
  onClose(code: SessionCloseCode, detail?: string): void;
}

let nextSessionId = 1;

export class ChatSession {
  readonly id = nextSessionId++;
  readonly isInitiator: boolean;
  readonly remoteAddress: UdpAddress;
  /** Resolves with the authenticated peer; rejects if the handshake fails. */
  readonly established: Promise<SecurePeer>;
  establishedMs: number | undefined;
  readonly #ctx: SessionContext;
  readonly #secure: SecureStream;
  readonly #reader = new ChatFrameReader();
  #held: ChatFrame[] = [];
  #handlers: SessionHandlers | undefined;
  #isClosed = false;
  #closeCode: SessionCloseCode | undefined;
  #lastReceivedMs: number;
  #lastSentMs: number;
  #timer: Timer | undefined;
  #pingNonce = 0;
  #maxHeldFrames = MAX_HELD_FRAMES;
  /** probe() callers waiting for the peer to say anything. */
  #probes: Array<(isAlive: boolean) => void> = [];

  private constructor(
    ctx: SessionContext,
    socket: UtpSocket,
    isInitiator: boolean,
    remoteKey?: Buffer,
    isXX?: boolean,
  ) {
    this.#ctx = ctx;
    this.isInitiator = isInitiator;
    this.remoteAddress = socket.remoteAddress;
    this.#lastReceivedMs = ctx.clock.now();
    this.#lastSentMs = this.#lastReceivedMs;
    this.#secure = new SecureStream(new UtpStream(socket), {
      isInitiator,
      identity: ctx.identity.signing,
      ...(remoteKey === undefined ? {} : { remoteIdentityPublicKey: remoteKey }),
      ...(isXX === true ? { pattern: 'XX' as const } : {}),
      random: ctx.random,
      clock: ctx.clock,
      handshakeTimeoutMs: ctx.timing.handshakeTimeoutMs,
      logger: ctx.logger,
    });
    this.#secure.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#secure.on('error', (error: Error & { code?: string }) =>
      this.#finish(SessionCloseCode.transport, error.code ?? error.message),
    );
    this.#secure.on('close', () => this.#finish(SessionCloseCode.transport, 'closed'));
    this.#secure.on('end', () => this.#finish(SessionCloseCode.transport, 'ended'));
    this.established = this.#secure.handshake.then((peer) => {
      this.establishedMs = ctx.clock.now();
      this.#armTimer();
      return peer;
    });
    this.established.catch(() => {});
  }

  /** Calls a friend: IK to the known key, or XX (still checking the key) for a friend request. */
  static connect(
    ctx: SessionContext,
    utp: UtpEndpoint,
    address: UdpAddress,
    remoteKey: Buffer,
    opts: { isXX?: boolean } = {},
  ): ChatSession {
    return new ChatSession(ctx, utp.connect(address), true, remoteKey, opts.isXX);
  }

  /** Dials an endpoint of someone whose key we do not know (a friend request's requester): XX. */
  static connectUnknown(ctx: SessionContext, utp: UtpEndpoint, address: UdpAddress): ChatSession {
    return new ChatSession(ctx, utp.connect(address), true);
  }

  static accept(ctx: SessionContext, socket: UtpSocket): ChatSession {
    return new ChatSession(ctx, socket, false);
  }

  get peer(): SecurePeer | undefined {
    return this.#secure.peer;
  }

  get peerKey(): Buffer | undefined {
    return this.#secure.remoteIdentityPublicKey;
  }

  get isOpen(): boolean {
    return !this.#isClosed;
  }

  get closeCode(): SessionCloseCode | undefined {
    return this.#closeCode;
  }

  /** When the peer last sent us anything (our clock): a quiet session may have lost its path. */
  get lastReceivedMs(): number {
    return this.#lastReceivedMs;
  }

  /** A friend's session the manager has not decided on yet: hold up to MAX_PARKED_FRAMES meanwhile. */
  park(): void {
    this.#maxHeldFrames = MAX_PARKED_FRAMES;
  }

  /**
   * Sends a ping; true as soon as anything arrives from the peer, false after timeoutMs or if the session closes
   * first. Data received before the call proves nothing: a killed peer's last packets may still be arriving.
   */
  probe(timeoutMs: number): Promise<boolean> {
    if (this.#isClosed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = this.#ctx.clock.setTimer(timeoutMs, () => settle(false));
      const settle = (isAlive: boolean): void => {
        timer.cancel();
        this.#probes = this.#probes.filter((p) => p !== settle);
        resolve(isAlive);
      };
      this.#probes.push(settle);
      this.#pingNonce = (this.#pingNonce + 1) >>> 0;
      this.send({ type: 'ping', nonce: this.#pingNonce });
    });
  }

  /** Starts handing frames on (the held ones first). */
  admit(handlers: SessionHandlers): void {
    this.#handlers = handlers;
    if (this.#isClosed) {
      handlers.onClose(this.#closeCode ?? SessionCloseCode.local);
      return;
    }
    for (const frame of this.#held.splice(0)) {
      if (this.#isClosed) return;
      handlers.onFrame(frame);
    }
    handlers.onBatchEnd?.();
  }

  /** Sends a frame; false when the session is closed (the caller keeps the work for the next session). */
  send(frame: ChatFrame): boolean {
    if (this.#isClosed || this.#secure.destroyed) return false;
    this.#lastSentMs = this.#ctx.clock.now();
    this.#secure.write(encodeChatFrame(frame));
    return true;
  }

  close(code: SessionCloseCode = SessionCloseCode.local): void {
    if (this.#isClosed) return;
    this.#finish(code);
    this.#secure.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#isClosed) return;
    this.#lastReceivedMs = this.#ctx.clock.now();
    for (const settle of this.#probes.slice()) settle(true);
    const { frames, error } = this.#reader.push(chunk);
    for (const frame of frames) {
      if (this.#isClosed) return;
      if (frame.type === 'ping') {
        this.send({ type: 'pong', nonce: frame.nonce });
        continue;
      }
      if (frame.type === 'pong') continue;
      if (this.#handlers !== undefined) this.#handlers.onFrame(frame);
      else if (this.#held.push(frame) > this.#maxHeldFrames) {
        this.close(SessionCloseCode.badFrame);
        return;
      }
    }
    if (!this.#isClosed) this.#handlers?.onBatchEnd?.();
    if (error !== undefined) {
      this.#ctx.logger.debug({ code: error, session: this.id }, 'bad chat frame');
      this.close(SessionCloseCode.badFrame);
    }
  }

  #armTimer(): void {
    if (this.#isClosed) return;
    const { keepaliveMs, deadAfterMs } = this.#ctx.timing;
    const now = this.#ctx.clock.now();
    const nextMs = Math.min(this.#lastSentMs + keepaliveMs, this.#lastReceivedMs + deadAfterMs);
    this.#timer?.cancel();
    this.#timer = this.#ctx.clock.setTimer(Math.max(50, nextMs - now), () => this.#onTimer());
  }

  #onTimer(): void {
    if (this.#isClosed) return;
    const now = this.#ctx.clock.now();
    const { keepaliveMs, deadAfterMs } = this.#ctx.timing;
    if (now - this.#lastReceivedMs >= deadAfterMs) {
      this.close(SessionCloseCode.timeout);
      return;
    }
    if (now - this.#lastSentMs >= keepaliveMs) {
      this.#pingNonce = (this.#pingNonce + 1) >>> 0;
      this.send({ type: 'ping', nonce: this.#pingNonce });
    }
    this.#armTimer();
  }

  #finish(code: SessionCloseCode, detail?: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#closeCode = code;
    this.#timer?.cancel();
    this.#held = [];
    for (const settle of this.#probes.slice()) settle(false);
    this.#handlers?.onClose(code, detail);
  }
}
