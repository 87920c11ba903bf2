/**
 * Mutual friends carry punch notes (issue 11 §2): when we wish for a session with B, every friend we have a
 * session with is asked to pass a sealed note on to its friend B, if it has one and a session with B. The note
 * reaches B within a round trip, long before B's next read of our record — the fastest signal there is when a
 * common friend is online.
 *
 *   A ── forward(tag(A, B), note) ──▶ C ── relayed(A, note) ──▶ B     (frames.ts 0x0b / 0x0c, inside sessions)
 *
 * - tag(A, B) = SHA-256("dhtchat/punch-forward-tag/v1" ‖ 0x00 ‖ A ‖ B)[0..16]: C finds B by computing the tag for each
 *   of its friends; a friend of A who does not know B learns only that A wants someone it would have to guess.
 * - The note is the one introducers carry (punch-note.ts): sealed with A→B's punch key, so C can neither read it
 *   nor make one; B opens it with A's key, checks freshness and replay, and answers as to any note
 *   (PunchService.acceptFrom, punch-coordinator.ts onNote).
 * - What C learns: that A wants to reach B, and when (docs/THREAT-MODEL.md). Not where either is.
 * - Over a relayed session the friend itself is the carrier (issue 11 §4, like libp2p's DCUtR): A sends
 *   relayed(A, note) straight to B through the relay, and both punch in the same round trip. B takes a note
 *   whose `from` is the session's own peer only while that session is relayed (tellOverRelay, onRelayed).
 * - Bounds: we ask at most FORWARDING.maxAsked friends, once per target per minIntervalMs; as C we pass on at
 *   most perSourcePerSec (burst) per asking friend and totalPerSec overall, only between two accepted friends
 *   with sessions up, never back to the asker; anything else is counted and dropped.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../runtime/index.ts';
import { LABELS } from './labels.ts';
import { FORWARD_TAG_BYTES } from './session/frames.ts';
import type { ChatStore } from './store/chat-store.ts';

export const FORWARDING = {
  maxAsked: 8,
  minIntervalMs: 5000,
  perSourcePerSec: 1,
  perSourceBurst: 4,
  totalPerSec: 20,
} as const;

export type PunchFrame =
  | { type: 'forward'; tag: Buffer; note: Buffer }
  | { type: 'relayed'; from: Buffer; note: Buffer };

export interface PunchForwardingOptions {
  readonly ownPk: Buffer;
  readonly store: ChatStore;
  readonly clock: Clock;
  /** Friends with a session up now. */
  friendsOnline(): Buffer[];
  /** Does our session with the friend run through a relay? */
  isRelayed(peer: Buffer): boolean;
  /** Sends the frame to the friend if its session takes it (Delivery.sendPunchFrame); true when sent. */
  send(peer: Buffer, frame: PunchFrame): boolean;
  /** A note sealed by us for `target` (PunchService.sealFor). */
  seal(target: Buffer): Buffer | undefined;
  /** A note a mutual friend passed on, said to come from `from` (PunchService.acceptFrom). */
  accept(from: Buffer, note: Buffer): boolean;
}

export interface ForwardingCounters {
  asked: number;
  passedOn: number;
  noTarget: number;
  throttled: number;
  relayedIn: number;
  relayedAccepted: number;
  /** Notes we sent a friend over our relayed session with it, and such notes taken from friends. */
  overRelaySent: number;
  overRelayIn: number;
}

export function forwardTag(senderPk: Uint8Array, targetPk: Uint8Array): Buffer {
  return createHash('sha256')
    .update(LABELS.punchForwardTag)
    .update(Buffer.from([0]))
    .update(senderPk)
    .update(targetPk)
    .digest()
    .subarray(0, FORWARD_TAG_BYTES);
}

interface Bucket {
  tokens: number;
  atMs: number;
}

export class PunchForwarding {
  readonly #opts: PunchForwardingOptions;
  readonly #lastAskedMs = new Map<string, number>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #total: Bucket = { tokens: FORWARDING.totalPerSec, atMs: 0 };
  readonly counters: ForwardingCounters = {
    asked: 0,
    passedOn: 0,
    noTarget: 0,
    throttled: 0,
    relayedIn: 0,
    relayedAccepted: 0,
    overRelaySent: 0,
    overRelayIn: 0,
  };

  constructor(opts: PunchForwardingOptions) {
    this.#opts = opts;
  }

  /** We want a session with target: ask our friends online to pass a note on. Returns how many were asked. */
  ask(target: Buffer): number {
    const nowMs = this.#opts.clock.monotonicMs();
    const hex = target.toString('hex');
    if (nowMs - (this.#lastAskedMs.get(hex) ?? -Infinity) < FORWARDING.minIntervalMs) return 0;
    const friends = this.#opts.friendsOnline().filter((f) => !f.equals(target));
    if (friends.length === 0) return 0;
    const note = this.#opts.seal(target);
    if (note === undefined) return 0;
    this.#lastAskedMs.set(hex, nowMs);
    if (this.#lastAskedMs.size > 4096) this.#lastAskedMs.clear();
    const tag = forwardTag(this.#opts.ownPk, target);
    let asked = 0;
    for (const friend of friends.slice(0, FORWARDING.maxAsked)) {
      if (this.#opts.send(friend, { type: 'forward', tag, note })) asked++;
    }
    this.counters.asked += asked;
    return asked;
  }

  /** A friend (source) asks us to pass a note on to the friend its tag names. */
  onForward(source: Buffer, tag: Buffer, note: Buffer): void {
    const nowMs = this.#opts.clock.monotonicMs();
    if (!this.#isFriend(source) || !this.#take(this.#bucket(source.toString('hex')), nowMs, true)) {
      this.counters.throttled++;
      return;
    }
    if (!this.#take(this.#total, nowMs, false)) {
      this.counters.throttled++;
      return;
    }
    const target = this.#opts
      .friendsOnline()
      .find((f) => !f.equals(source) && forwardTag(source, f).equals(tag));
    if (target === undefined || !this.#opts.send(target, { type: 'relayed', from: source, note })) {
      this.counters.noTarget++;
      return;
    }
    this.counters.passedOn++;
  }

  /** Our session with the friend is relayed: tell it, through the session, to punch with us now. */
  tellOverRelay(peer: Buffer): boolean {
    if (!this.#opts.isRelayed(peer)) return false;
    const note = this.#opts.seal(peer);
    if (note === undefined || !this.#opts.send(peer, { type: 'relayed', from: this.#opts.ownPk, note }))
      return false;
    this.counters.overRelaySent++;
    return true;
  }

  /**
   * A friend passes on a note said to be from `from`: a mutual friend's, or (from = via) the friend's own over our
   * relayed session with it. The note's seal says who made it; the per-source bucket bounds what a friend can
   * make us open.
   */
  onRelayed(via: Buffer, from: Buffer, note: Buffer): void {
    this.counters.relayedIn++;
    if (from.equals(this.#opts.ownPk) || !this.#isFriend(from)) return;
    if (from.equals(via)) {
      if (
        !this.#opts.isRelayed(via) ||
        !this.#take(this.#bucket(via.toString('hex')), this.#opts.clock.monotonicMs(), true)
      )
        return;
      this.counters.overRelayIn++;
    }
    if (this.#opts.accept(from, note)) this.counters.relayedAccepted++;
  }

  #isFriend(peer: Buffer): boolean {
    return this.#opts.store.contacts.get(peer)?.state === 'accepted';
  }

  #bucket(key: string): Bucket {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= 1024) this.#buckets.clear();
      bucket = { tokens: FORWARDING.perSourceBurst, atMs: this.#opts.clock.monotonicMs() };
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  /** A token bucket: refills at the per-source (or total) rate, capped at its burst. */
  #take(bucket: Bucket, nowMs: number, isPerSource: boolean): boolean {
    const rate = isPerSource ? FORWARDING.perSourcePerSec : FORWARDING.totalPerSec;
    const cap = isPerSource ? FORWARDING.perSourceBurst : FORWARDING.totalPerSec;
    bucket.tokens = Math.min(cap, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * rate);
    bucket.atMs = nowMs;
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }
}
