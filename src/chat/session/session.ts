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
 *
 * The transport is any byte stream: a uTP stream straight to the friend, or one a relay joined to the friend's
 * (overRelay: path `relayed`, remoteAddress is then the relay's). Over a relay the friends still run Noise end to
 * end; the session pings more often there (RELAYED_TIMING), so a relay that dies is noticed within seconds.
 */
import type { Duplex } from 'node:stream';
import {
  type SecurePattern,
  type SecurePeer,
  SecureStream,
  type UtpEndpoint,
  type UtpSocket,
  UtpStream,
} from '../../net/index.ts';
import type { Clock, Logger, Random, Timer, UdpAddress } from '../../runtime/index.ts';
import type { Identity } from '../identity.ts';
import { type ChatFrame, ChatFrameReader, encodeChatFrame } from './frames.ts';
import type { SessionPath } from './path.ts';

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
/**
 * A relayed session pings after 5 s of quiet and is dead after 15 s: the relay is a third party that may vanish
 * (a killed process sends no FIN), and the friends should be on another relay within seconds. The pings cost the
 * relay a few bytes a second per pair.
 */
export const RELAYED_TIMING: Pick<SessionTiming, 'keepaliveMs' | 'deadAfterMs'> = {
  keepaliveMs: 5000,
  deadAfterMs: 15_000,
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

/** The secure channel (net/secure frame-format.ts) of chat sessions: 0, the stream as it was before channels. */
export const CHAT_CHANNEL = 0;

export class ChatSession {
  readonly id = nextSessionId++;
  readonly isInitiator: boolean;
  /** The friend's address, or the relay's for a relayed session. */
  readonly remoteAddress: UdpAddress;
  readonly path: SessionPath;
  /** Resolves with the authenticated peer; rejects if the handshake fails. */
  readonly established: Promise<SecurePeer>;
  /** Resolves with the close code once the session has closed, for whatever reason. */
  readonly closed: Promise<SessionCloseCode>;
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
  /** The last frame either way that was not a ping or a pong (session-liveness.ts probes idle sessions less). */
  #lastFrameMs: number;
  #timer: Timer | undefined;
  #pingNonce = 0;
  #maxHeldFrames = MAX_HELD_FRAMES;
  /** Frames written in this synchronous run are held back (corked) and leave as one encrypted write. */
  #isCorked = false;
  /** probe() callers waiting for the peer to say anything. */
  #probes: Array<(isAlive: boolean) => void> = [];
  #resolveClosed: (code: SessionCloseCode) => void = () => {};

  private constructor(
    ctx: SessionContext,
    transport: { stream: Duplex; remoteAddress: UdpAddress; path: SessionPath },
    isInitiator: boolean,
    remoteKey?: Buffer,
    isXX?: boolean,
    admitPattern?: (pattern: SecurePattern) => boolean,
  ) {
    this.#ctx = transport.path === 'relayed' ? { ...ctx, timing: { ...ctx.timing, ...RELAYED_TIMING } } : ctx;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.isInitiator = isInitiator;
    this.remoteAddress = transport.remoteAddress;
    this.path = transport.path;
    this.#lastReceivedMs = ctx.clock.monotonicMs();
    this.#lastSentMs = this.#lastReceivedMs;
    this.#lastFrameMs = this.#lastReceivedMs;
    this.#secure = new SecureStream(transport.stream, {
      isInitiator,
      identity: ctx.identity.signing,
      ...(remoteKey === undefined ? {} : { remoteIdentityPublicKey: remoteKey }),
      ...(isXX === true ? { pattern: 'XX' as const } : {}),
      random: ctx.random,
      clock: ctx.clock,
      handshakeTimeoutMs: ctx.timing.handshakeTimeoutMs,
      logger: ctx.logger,
      ...(admitPattern === undefined ? {} : { admitPattern }),
    });
    this.#secure.on('error', this.#onError);
    this.#secure.on('close', this.#onClosed);
    this.#secure.on('end', this.#onEnded);
    this.established = this.#secure.handshake.then((peer) => {
      this.establishedMs = ctx.clock.monotonicMs();
      // Another channel's stream (a file stream) is not read here: the manager detaches it for its owner.
      // Until then its bytes wait in the secure stream (no 'data' listener, no flowing).
      if (peer.channel !== CHAT_CHANNEL) return peer;
      this.#secure.on('data', (chunk: Buffer) => this.#onData(chunk));
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
    return new ChatSession(ctx, direct(utp.connect(address)), true, remoteKey, opts.isXX);
  }

  /** Dials an endpoint of someone whose key we do not know (a friend request's requester): XX. */
  static connectUnknown(ctx: SessionContext, utp: UtpEndpoint, address: UdpAddress): ChatSession {
    return new ChatSession(ctx, direct(utp.connect(address)), true);
  }

  /** admitPattern: asked on the initiator's first frame, before any DH (see SecureSessionOptions). */
  static accept(
    ctx: SessionContext,
    socket: UtpSocket,
    opts: { admitPattern?: (pattern: SecurePattern) => boolean } = {},
  ): ChatSession {
    return new ChatSession(ctx, direct(socket), false, undefined, undefined, opts.admitPattern);
  }

  /**
   * A session over a stream a relay matched with the friend's (paused, as joinRelay hands it over): the friend
   * with the lower key calls (IK to the known key), the other answers; the manager checks whose key answered.
   */
  static overRelay(
    ctx: SessionContext,
    stream: Duplex,
    relay: UdpAddress,
    isInitiator: boolean,
    remoteKey: Buffer,
  ): ChatSession {
    const session = new ChatSession(
      ctx,
      { stream, remoteAddress: relay, path: 'relayed' },
      isInitiator,
      isInitiator ? remoteKey : undefined,
    );
    stream.resume();
    return session;
  }

  /**
   * A friend request's meeting at a relay (request-relays.ts): the recipient calls with XX (it does not know the
   * requester's key), the requester answers, admitting the pattern as it would a direct dial (admitPattern).
   */
  static overRelayUnknown(
    ctx: SessionContext,
    stream: Duplex,
    relay: UdpAddress,
    isInitiator: boolean,
    admitPattern?: (pattern: SecurePattern) => boolean,
  ): ChatSession {
    const transport = { stream, remoteAddress: relay, path: 'relayed' as const };
    const session = isInitiator
      ? new ChatSession(ctx, transport, true)
      : new ChatSession(ctx, transport, false, undefined, undefined, admitPattern);
    stream.resume();
    return session;
  }

  get peer(): SecurePeer | undefined {
    return this.#secure.peer;
  }

  get peerKey(): Buffer | undefined {
    return this.#secure.remoteIdentityPublicKey;
  }

  /** The channel the initiator named, once the handshake is done (CHAT_CHANNEL for a chat session). */
  get channel(): number | undefined {
    return this.#secure.peer?.channel;
  }

  /**
   * Hands the authenticated secure stream of another channel to its owner: this session lets go of it (no
   * listener, no timer) and counts as closed, without telling anyone. Only before admit().
   */
  detach(): SecureStream {
    this.#secure.off('error', this.#onError);
    this.#secure.off('close', this.#onClosed);
    this.#secure.off('end', this.#onEnded);
    this.#isClosed = true;
    this.#closeCode = SessionCloseCode.local;
    this.#timer?.cancel();
    this.#held = [];
    return this.#secure;
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

  /** When a frame other than a ping or a pong last went either way (or the session was made). */
  get lastFrameMs(): number {
    return this.#lastFrameMs;
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
    this.#lastSentMs = this.#ctx.clock.monotonicMs();
    if (frame.type !== 'ping' && frame.type !== 'pong') this.#lastFrameMs = this.#lastSentMs;
    // A group commit's acks and messages go out together: one Noise frame and full uTP packets, not one each.
    if (!this.#isCorked) {
      this.#isCorked = true;
      this.#secure.cork();
      queueMicrotask(() => this.#uncork());
    }
    this.#secure.write(encodeChatFrame(frame));
    return true;
  }

  close(code: SessionCloseCode = SessionCloseCode.local): void {
    if (this.#isClosed) return;
    this.#uncork();
    this.#finish(code);
    this.#secure.destroy();
  }

  readonly #onError = (error: Error & { code?: string }): void =>
    this.#finish(SessionCloseCode.transport, error.code ?? error.message);
  readonly #onClosed = (): void => this.#finish(SessionCloseCode.transport, 'closed');
  readonly #onEnded = (): void => this.#finish(SessionCloseCode.transport, 'ended');

  #uncork(): void {
    if (!this.#isCorked) return;
    this.#isCorked = false;
    if (!this.#secure.destroyed) this.#secure.uncork();
  }

  #onData(chunk: Buffer): void {
    if (this.#isClosed) return;
    this.#lastReceivedMs = this.#ctx.clock.monotonicMs();
    for (const settle of this.#probes.slice()) settle(true);
    const { frames, error } = this.#reader.push(chunk);
    for (const frame of frames) {
      if (this.#isClosed) return;
      if (frame.type === 'ping') {
        this.send({ type: 'pong', nonce: frame.nonce });
        continue;
      }
      if (frame.type === 'pong') continue;
      this.#lastFrameMs = this.#lastReceivedMs;
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
    const now = this.#ctx.clock.monotonicMs();
    const nextMs = Math.min(this.#lastSentMs + keepaliveMs, this.#lastReceivedMs + deadAfterMs);
    this.#timer?.cancel();
    this.#timer = this.#ctx.clock.setTimer(Math.max(50, nextMs - now), () => this.#onTimer());
  }

  #onTimer(): void {
    if (this.#isClosed) return;
    const now = this.#ctx.clock.monotonicMs();
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
    this.#resolveClosed(code);
    this.#handlers?.onClose(code, detail);
  }
}

function direct(socket: UtpSocket): { stream: Duplex; remoteAddress: UdpAddress; path: SessionPath } {
  return { stream: new UtpStream(socket), remoteAddress: socket.remoteAddress, path: 'direct' };
}
