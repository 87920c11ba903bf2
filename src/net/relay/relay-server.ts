/**
 * A relay: takes streams whose first frame is a JOIN (relay-protocol.ts), asks the matcher (relay-matcher.ts)
 * what to do with each, answers WAITING / MATCHED / REFUSED, and splices matched pairs (relay-splice.ts). It
 * knows nothing of chat: a pair is two halves with one token, the bytes are ciphertext it cannot read.
 *
 *   const relay = new RelayServer({ clock, logger, limits, isAllowed });
 *   utp.listen((socket) => relay.accept(new UtpStream(socket, { allowHalfOpen: true }), socket.remoteAddress));
 *   relay.stats(); relay.close();
 *
 * A stream is dropped without an answer when it sends no JOIN within joinTimeoutMs or something that is not one;
 * a JOIN that the matcher refuses, or a half that sends bytes before MATCHED, is answered REFUSED and ended.
 * One timer, re-armed to the earliest wait deadline, refuses halves whose partner did not come (noPartner).
 * Remote input never throws out of here; every outcome is counted in stats().
 */
import type { Duplex } from 'node:stream';
import { type Clock, type Logger, nullLogger, type Timer, type UdpAddress } from '../../runtime/index.ts';
import { type RelayLimits, RelayMatcher } from './relay-matcher.ts';
import { encodeRelayFrame, type RelayFrame, RelayFrameReader, RelayRefusal } from './relay-protocol.ts';
import { type Splice, type SpliceEndReason, splice } from './relay-splice.ts';

export interface RelayServerOptions {
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly limits?: Partial<RelayLimits>;
  /** Who may use this relay (a daemon relaying for its friends only); default: anyone. */
  isAllowed?(source: UdpAddress): boolean;
}

export interface RelayStats {
  /** Halves waiting for a partner, pairs spliced now. */
  waiting: number;
  pairs: number;
  joins: number;
  matches: number;
  /** JOINs refused, by reason name. */
  refused: Record<string, number>;
  /** Streams dropped before a valid JOIN (silent, malformed, not a JOIN). */
  badStreams: number;
  /** Bytes spliced (both directions, all pairs so far). */
  bytesRelayed: number;
  /** Pairs ended, by why. */
  pairsEnded: Record<SpliceEndReason, number>;
}

interface HalfConn {
  readonly id: number;
  readonly stream: Duplex;
  readonly remote: UdpAddress;
  pairId: number | undefined;
  splice: Splice | undefined;
  isFinished: boolean;
  stopListening(): void;
}

const REASON_NAMES = Object.fromEntries(Object.entries(RelayRefusal).map(([name, code]) => [code, name]));

export class RelayServer {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #matcher: RelayMatcher;
  readonly #isAllowed: (source: UdpAddress) => boolean;
  readonly #halves = new Map<number, HalfConn>();
  /** Streams that have not sent their JOIN yet. */
  readonly #unjoined = new Set<Duplex>();
  readonly #stats: Omit<RelayStats, 'waiting' | 'pairs'> = {
    joins: 0,
    matches: 0,
    refused: {},
    badStreams: 0,
    bytesRelayed: 0,
    pairsEnded: { ended: 0, closed: 0, budget: 0, idle: 0, stopped: 0 },
  };
  #nextId = 1;
  #expiryTimer: Timer | undefined;
  #expiryDueMs = Infinity;
  #isClosed = false;

  constructor(opts: RelayServerOptions) {
    this.#clock = opts.clock;
    this.#logger = opts.logger ?? nullLogger;
    this.#matcher = new RelayMatcher(opts.limits);
    this.#isAllowed = opts.isAllowed ?? (() => true);
  }

  get limits(): RelayLimits {
    return this.#matcher.limits;
  }

  stats(): RelayStats {
    const counts = this.#matcher.counts();
    return {
      waiting: counts.waiting,
      pairs: counts.pairs,
      ...this.#stats,
      refused: { ...this.#stats.refused },
      pairsEnded: { ...this.#stats.pairsEnded },
    };
  }

  /**
   * A new stream from remote. `firstBytes`: what a caller that looked at the first frame already read off it
   * (firstFrameService); the stream must be created with allowHalfOpen (the splice passes ends on itself).
   */
  accept(stream: Duplex, remote: UdpAddress, firstBytes?: Buffer): void {
    if (this.#isClosed) {
      stream.destroy();
      return;
    }
    // Streams report failures as 'error' events: one must always be listened to (the ones below come and go).
    stream.on('error', () => {});
    const reader = new RelayFrameReader();
    this.#unjoined.add(stream);
    const timer = this.#clock.setTimer(this.limits.joinTimeoutMs, () => drop());
    const cleanup = (): void => {
      timer.cancel();
      this.#unjoined.delete(stream);
      stream.off('data', onData);
      stream.off('error', drop);
      stream.off('close', drop);
    };
    const drop = (): void => {
      cleanup();
      this.#stats.badStreams++;
      stream.destroy();
    };
    const onData = (chunk: Buffer): void => {
      const read = reader.push(chunk);
      if (read.kind === 'need-more') return;
      cleanup();
      if (read.kind === 'error' || read.frame.type !== 'join') {
        this.#stats.badStreams++;
        stream.destroy();
        return;
      }
      stream.pause();
      this.#onJoin(stream, remote, read.frame, read.rest.length > 0);
    };
    stream.on('data', onData);
    stream.on('error', drop);
    stream.on('close', drop);
    if (firstBytes !== undefined && firstBytes.length > 0) onData(firstBytes);
  }

  /** Refuses every waiting half (closing), ends every pair and drops unjoined streams. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#expiryTimer?.cancel();
    for (const stream of this.#unjoined) stream.destroy();
    this.#unjoined.clear();
    for (const half of [...this.#halves.values()]) {
      if (half.splice !== undefined) half.splice.stop();
      else this.#refuse(half, RelayRefusal.closing);
    }
  }

  #onJoin(
    stream: Duplex,
    remote: UdpAddress,
    frame: Extract<RelayFrame, { type: 'join' }>,
    isEarly: boolean,
  ): void {
    this.#stats.joins++;
    const id = this.#nextId++;
    const half: HalfConn = {
      id,
      stream,
      remote,
      pairId: undefined,
      splice: undefined,
      isFinished: false,
      stopListening: () => {},
    };
    if (isEarly) {
      this.#answerRefused(half, RelayRefusal.badJoin);
      return;
    }
    if (!this.#isAllowed(remote)) {
      this.#answerRefused(half, RelayRefusal.notAllowed);
      return;
    }
    const decision = this.#matcher.join(id, remote.host, frame.join, this.#clock.monotonicMs());
    if (decision.kind === 'refuse') {
      this.#answerRefused(half, decision.reason);
      return;
    }
    this.#halves.set(id, half);
    if (decision.replaced !== undefined) {
      const old = this.#halves.get(decision.replaced);
      if (old !== undefined) this.#refuse(old, RelayRefusal.replaced, false);
    }
    if (decision.kind === 'wait') {
      this.#listenWhileWaiting(half);
      stream.write(encodeRelayFrame({ type: 'waiting', waitSeconds: decision.waitMs / 1000 }));
      this.#armExpiry();
      return;
    }
    const partner = this.#halves.get(decision.partner);
    if (partner === undefined) {
      // Cannot happen (the matcher only pairs halves we hold); never leave the new half dangling if it does.
      this.#matcher.leave(id);
      this.#answerRefused(half, RelayRefusal.busy);
      return;
    }
    this.#stats.matches++;
    this.#startPair(decision.pairId, partner, half);
    this.#armExpiry();
  }

  /** A waiting half must stay silent; its going away frees its place. */
  #listenWhileWaiting(half: HalfConn): void {
    const onData = (): void => this.#refuse(half, RelayRefusal.badJoin);
    const onGone = (): void => this.#forget(half);
    half.stream.on('data', onData);
    half.stream.on('end', onGone);
    half.stream.on('error', onGone);
    half.stream.on('close', onGone);
    half.stopListening = () => {
      half.stream.off('data', onData);
      half.stream.off('end', onGone);
      half.stream.off('error', onGone);
      half.stream.off('close', onGone);
    };
    half.stream.resume();
  }

  #startPair(pairId: number, a: HalfConn, b: HalfConn): void {
    a.stopListening();
    a.pairId = pairId;
    b.pairId = pairId;
    a.stream.pause();
    const matched = encodeRelayFrame({ type: 'matched' });
    a.stream.write(matched);
    b.stream.write(matched);
    const l = this.limits;
    const spliced = splice(a.stream, b.stream, {
      clock: this.#clock,
      bytesPerSec: l.pairBytesPerSec,
      burstBytes: l.pairBurstBytes,
      idleMs: l.pairIdleMs,
      onBytes: (bytes) => {
        this.#stats.bytesRelayed += bytes;
        return this.#matcher.charge(pairId, bytes, this.#clock.monotonicMs());
      },
      onEnd: (reason) => {
        this.#stats.pairsEnded[reason]++;
        this.#logger.debug({ pair: pairId, reason, bytes: spliced.bytesMoved }, 'relay pair ended');
        this.#forget(a);
        this.#forget(b);
      },
    });
    a.splice = spliced;
    b.splice = spliced;
    a.stream.resume();
    b.stream.resume();
  }

  /** REFUSED, then end the stream; the half leaves the matcher unless it already has (isInMatcher false). */
  #refuse(half: HalfConn, reason: RelayRefusal, isInMatcher = true): void {
    if (half.isFinished) return;
    half.isFinished = true;
    this.#forget(half, isInMatcher);
    this.#answerRefused(half, reason);
  }

  #answerRefused(half: HalfConn, reason: RelayRefusal): void {
    half.isFinished = true;
    const name = REASON_NAMES[reason] ?? String(reason);
    this.#stats.refused[name] = (this.#stats.refused[name] ?? 0) + 1;
    const stream = half.stream;
    if (stream.destroyed) return;
    stream.end(encodeRelayFrame({ type: 'refused', reason }));
    // Whatever it sends after is read and dropped, so the stream can finish; it is destroyed once done or late.
    stream.on('data', () => {});
    stream.resume();
    const timer = this.#clock.setTimer(this.limits.joinTimeoutMs, () => stream.destroy());
    stream.once('close', () => timer.cancel());
    stream.once('finish', () => stream.destroy());
  }

  /** The half is gone: out of the table and the matcher (its pair ends too); destroyed unless already handled. */
  #forget(half: HalfConn, isInMatcher = true): void {
    if (!this.#halves.delete(half.id)) return;
    half.stopListening();
    if (isInMatcher) {
      const partnerId = this.#matcher.leave(half.id);
      if (partnerId !== undefined) this.#halves.get(partnerId)?.splice?.stop();
    }
    if (!half.isFinished && half.splice === undefined) {
      half.isFinished = true;
      half.stream.destroy();
    }
  }

  #armExpiry(): void {
    const dueMs = this.#matcher.nextDeadlineMs();
    if (this.#isClosed || dueMs === Infinity) return;
    if (this.#expiryTimer !== undefined && this.#expiryDueMs <= dueMs) return;
    this.#expiryTimer?.cancel();
    this.#expiryDueMs = dueMs;
    this.#expiryTimer = this.#clock.setTimer(Math.max(0, dueMs - this.#clock.monotonicMs()), () => {
      this.#expiryTimer = undefined;
      this.#expiryDueMs = Infinity;
      for (const id of this.#matcher.expired(this.#clock.monotonicMs())) {
        const half = this.#halves.get(id);
        if (half !== undefined) this.#refuse(half, RelayRefusal.noPartner);
        else this.#matcher.leave(id);
      }
      this.#armExpiry();
    });
  }
}
