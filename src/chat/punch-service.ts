/**
 * UDP hole punching with introducers (docs/PROTOCOL.md "Reaching a friend behind NAT"; docs/ARCHITECTURE.md
 * "Introducers"). Both directions:
 *
 * - punch(friend, record): we are about to dial a friend whose record lists introducers. We ping the friend's
 *   record endpoints (opening our NAT towards them) and ask each introducer to forward, to each of those
 *   endpoints, a note sealed with our punch key: "punch to me at <our endpoint as introducers see us>, now".
 *   The introducer forwards only to the endpoint that keeps pinging it — the friend's NAT mapping.
 * - a note arrives (DhtNode.onNote): we find the friend whose key opens it (trial decryption over accepted
 *   friends), drop it unless it is fresh (NOTE_FRESH_MS) and not replayed, then send a few KRPC pings to the
 *   sealed endpoint and the address the introducer saw (opening our NAT towards the caller) and dial it. The
 *   caller's dial and ours cross; the session manager's simultaneous-open tie-break keeps one session.
 *
 * Remote input never throws; every refusal is a counter. Limits: one punch per friend per PUNCH_LIMITS.
 * minIntervalMs each way, at most notesPerSec notes opened a second (trial decryption costs a key per friend).
 */
import type { DhtNode, IncomingNote } from '../dht/index.ts';
import {
  addressKey,
  type Clock,
  type Logger,
  nullLogger,
  type Random,
  type UdpAddress,
} from '../runtime/index.ts';
import type { Identity } from './identity.ts';
import { derivePairSecret, punchNoteKey } from './pair-secret.ts';
import { type NoteParties, openPunchNote, sealPunchNote } from './punch-note.ts';
import type { RendezvousRecord } from './record-body.ts';
import type { ChatStore } from './store/chat-store.ts';

export const PUNCH_LIMITS = {
  /** A note older or newer than this (clock skew included) is dropped. */
  noteFreshMs: 60_000,
  /** A record older than this (records are republished at least hourly) is of a friend who is away: no punch. */
  recordFreshMs: 65 * 60_000,
  minIntervalMs: 5000,
  notesPerSec: 20,
  maxIntroducers: 4,
  maxTargets: 4,
  maxFriendsTried: 512,
  /** Pings sent towards the caller on a note, pingSpacingMs apart (one may be lost). */
  pings: 3,
  pingSpacingMs: 300,
  maxReplayEntries: 4096,
} as const;

export interface PunchServiceOptions {
  readonly identity: Identity;
  readonly store: ChatStore;
  readonly dht: Pick<DhtNode, 'ping' | 'forwardNote' | 'onNote'>;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  /** Our endpoint as our introducers see it (IntroducerKeeper.observedEndpoint). */
  observedEndpoint(): UdpAddress | undefined;
  isConnected(peer: Buffer): boolean;
  /** Dial the friend at these endpoints now (SessionManager.addCandidates). */
  dial(peer: Buffer, endpoints: UdpAddress[]): void;
  /** A fresh note of this friend was accepted (it is alive and punching: punch-coordinator.ts answers). */
  onNoteAccepted?(peer: Buffer): void;
}

export interface PunchCounters {
  punches: number;
  forwardsAcked: number;
  forwardsRefused: number;
  notesAccepted: number;
  notesUnopened: number;
  notesStale: number;
  notesReplayed: number;
  notesThrottled: number;
}

interface FriendKeys {
  /** Opens the friend's notes to us. */
  readonly theirs: NoteParties;
  /** Seals our notes to the friend. */
  readonly ours: NoteParties;
}

export class PunchService {
  readonly #opts: PunchServiceOptions;
  readonly #log: Logger;
  readonly #keys = new Map<string, FriendKeys>();
  readonly #lastPunchMs = new Map<string, number>();
  readonly #lastAnsweredMs = new Map<string, number>();
  /** Note nonces seen (hex → time), oldest first. */
  readonly #seen = new Map<string, number>();
  #windowStartMs = 0;
  #notesInWindow = 0;
  #unsubscribe: (() => void) | undefined;
  readonly counters: PunchCounters = {
    punches: 0,
    forwardsAcked: 0,
    forwardsRefused: 0,
    notesAccepted: 0,
    notesUnopened: 0,
    notesStale: 0,
    notesReplayed: 0,
    notesThrottled: 0,
  };

  constructor(opts: PunchServiceOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nullLogger).child({ component: 'punch' });
  }

  start(): void {
    this.#unsubscribe ??= this.#opts.dht.onNote((note) => this.#onNote(note));
  }

  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /**
   * Asks the friend, through the introducers of its record, to punch towards us. Resolves with the number of
   * forwards the introducers acknowledged (0 when skipped: connected, no introducers, a stale record, or
   * punched just now).
   */
  async punch(peer: Buffer, record: RendezvousRecord): Promise<number> {
    const { clock, dht } = this.#opts;
    const hex = peer.toString('hex');
    const nowMs = clock.monotonicMs();
    if (record.introducers.length === 0 || this.#opts.isConnected(peer)) return 0;
    if (clock.wallMs() - record.timestampMs > PUNCH_LIMITS.recordFreshMs) return 0;
    if (nowMs - (this.#lastPunchMs.get(hex) ?? -Infinity) < PUNCH_LIMITS.minIntervalMs) return 0;
    const keys = this.#keysFor(peer);
    if (keys === undefined) return 0;
    this.#lastPunchMs.set(hex, nowMs);
    this.counters.punches++;
    const observed = this.#opts.observedEndpoint();
    const note = sealPunchNote(
      keys.ours,
      { timestampMs: clock.wallMs(), ...(observed === undefined ? {} : { endpoint: observed }) },
      this.#opts.random,
    );
    const targets = record.endpoints.slice(0, PUNCH_LIMITS.maxTargets).map((e) => e.address);
    // Our own packets towards the friend first: they open our NAT for the friend's answer.
    for (const target of targets) dht.ping(target).catch(() => {});
    const introducers = record.introducers.slice(0, PUNCH_LIMITS.maxIntroducers);
    const results = await Promise.all(
      introducers.flatMap((introducer) =>
        targets.map((target) =>
          dht.forwardNote(introducer, target, note).then(
            () => true,
            () => false,
          ),
        ),
      ),
    );
    const acked = results.filter(Boolean).length;
    this.counters.forwardsAcked += acked;
    this.counters.forwardsRefused += results.length - acked;
    this.#log.info(
      { event: 'punch_sent', friend: hex.slice(0, 16), introducers: introducers.length, acked },
      'asked introducers to forward a punch note',
    );
    return acked;
  }

  #onNote(incoming: IncomingNote): void {
    // An empty note is our introducer keeper's own probe coming back.
    if (incoming.note.length === 0) return;
    if (!this.#takeNoteBudget(this.#opts.clock.monotonicMs())) {
      this.counters.notesThrottled++;
      return;
    }
    const opened = this.#open(incoming.note);
    if (opened === undefined) {
      this.counters.notesUnopened++;
      return;
    }
    this.#accept(opened.peer, opened.note, incoming.from);
  }

  /** A note sealed to us, for a friend we can reach (punch-forwarding.ts carries it over a mutual friend). */
  sealFor(peer: Buffer): Buffer | undefined {
    const keys = this.#keysFor(peer);
    if (keys === undefined) return undefined;
    const observed = this.#opts.observedEndpoint();
    const note = {
      timestampMs: this.#opts.clock.wallMs(),
      ...(observed === undefined ? {} : { endpoint: observed }),
    };
    return sealPunchNote(keys.ours, note, this.#opts.random);
  }

  /**
   * A note that a mutual friend says comes from `peer` (a friend of ours): opened with that friend's key only,
   * then the same checks and answer as a note from an introducer. True when accepted.
   */
  acceptFrom(peer: Buffer, bytes: Buffer): boolean {
    if (!this.#takeNoteBudget(this.#opts.clock.monotonicMs())) {
      this.counters.notesThrottled++;
      return false;
    }
    const keys = this.#opts.store.contacts.get(peer)?.state === 'accepted' ? this.#keysFor(peer) : undefined;
    const note = keys === undefined ? undefined : openPunchNote(keys.theirs, bytes);
    if (note === undefined) {
      this.counters.notesUnopened++;
      return false;
    }
    return this.#accept(peer, note, undefined);
  }

  /** Freshness, replay and rate checks; then pings and a dial towards the friend. True when answered. */
  #accept(
    peer: Buffer,
    note: NonNullable<ReturnType<typeof openPunchNote>>,
    from: UdpAddress | undefined,
  ): boolean {
    const nowMs = this.#opts.clock.monotonicMs();
    if (Math.abs(this.#opts.clock.wallMs() - note.timestampMs) > PUNCH_LIMITS.noteFreshMs) {
      this.counters.notesStale++;
      return false;
    }
    const nonceHex = note.nonce.toString('hex');
    if (this.#seen.has(nonceHex)) {
      this.counters.notesReplayed++;
      return false;
    }
    this.#remember(nonceHex, nowMs);
    const hex = peer.toString('hex');
    if (this.#opts.isConnected(peer)) return false;
    if (nowMs - (this.#lastAnsweredMs.get(hex) ?? -Infinity) < PUNCH_LIMITS.minIntervalMs) return false;
    this.#lastAnsweredMs.set(hex, nowMs);
    this.counters.notesAccepted++;
    const endpoints: UdpAddress[] = [];
    for (const e of [note.endpoint, from]) {
      if (e !== undefined && !endpoints.some((x) => addressKey(x) === addressKey(e))) endpoints.push(e);
    }
    this.#log.info(
      { event: 'punch_note', friend: hex.slice(0, 16), endpoints: endpoints.map(addressKey) },
      'punching towards a friend',
    );
    for (let i = 0; i < PUNCH_LIMITS.pings; i++) {
      this.#opts.clock.setTimer(i * PUNCH_LIMITS.pingSpacingMs, () => {
        for (const e of endpoints) this.#opts.dht.ping(e).catch(() => {});
      });
    }
    if (endpoints.length > 0) this.#opts.dial(peer, endpoints);
    this.#opts.onNoteAccepted?.(peer);
    return true;
  }

  #open(bytes: Buffer): { peer: Buffer; note: NonNullable<ReturnType<typeof openPunchNote>> } | undefined {
    let tried = 0;
    for (const contact of this.#opts.store.contacts.list(['accepted'])) {
      if (tried++ >= PUNCH_LIMITS.maxFriendsTried) break;
      const keys = this.#keysFor(contact.publicKey);
      if (keys === undefined) continue;
      const note = openPunchNote(keys.theirs, bytes);
      if (note !== undefined) return { peer: Buffer.from(contact.publicKey), note };
    }
    return undefined;
  }

  #keysFor(peer: Uint8Array): FriendKeys | undefined {
    const hex = Buffer.from(peer).toString('hex');
    const known = this.#keys.get(hex);
    if (known !== undefined) return known;
    const me = this.#opts.identity;
    const secret = derivePairSecret(me, peer);
    if (!secret.ok) return undefined;
    const keys: FriendKeys = {
      theirs: { key: punchNoteKey(secret.secret, peer), senderPk: peer, receiverPk: me.publicKey },
      ours: { key: punchNoteKey(secret.secret, me.publicKey), senderPk: me.publicKey, receiverPk: peer },
    };
    if (this.#keys.size >= PUNCH_LIMITS.maxFriendsTried * 2) this.#keys.clear();
    this.#keys.set(hex, keys);
    return keys;
  }

  #takeNoteBudget(nowMs: number): boolean {
    if (nowMs - this.#windowStartMs >= 1000 || nowMs < this.#windowStartMs) {
      this.#windowStartMs = nowMs;
      this.#notesInWindow = 0;
    }
    return ++this.#notesInWindow <= PUNCH_LIMITS.notesPerSec;
  }

  #remember(nonceHex: string, nowMs: number): void {
    this.#seen.set(nonceHex, nowMs);
    // Entries older than twice the freshness window can go: a replay of them is stale anyway.
    for (const [key, atMs] of this.#seen) {
      if (this.#seen.size <= PUNCH_LIMITS.maxReplayEntries && nowMs - atMs <= 2 * PUNCH_LIMITS.noteFreshMs)
        break;
      this.#seen.delete(key);
    }
  }
}
