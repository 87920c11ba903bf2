/**
 * Record-coordinated hole punching (docs/ARCHITECTURE.md "Punching with no third node"; docs/PROTOCOL.md
 * "Reaching a friend behind NAT"): both friends already read each other's rendezvous records, so the record is
 * the signal. No dhtchat node besides the two is needed (the real DHT is libtorrent).
 *
 * - A wish: we have no session with a friend who is alive (rendezvous-schedule.ts), or a message waits for one,
 *   or we moved. We publish our record with w = now (a cheap put to its holders) and start a round.
 * - An answer: a friend's new record carries a wish we have not answered: we start a round too, and publish our
 *   own wish unless we made one within the round (so the friend, if its round is over, starts another — at most
 *   one answer per wish: no ping-pong).
 * - A note: a friend's punch note arrived (through an introducer or a mutual friend): the same as an answer.
 * - A round (ROUND.roundMs): the plan (punch-plan.ts) from both NAT mappings: KRPC pings to every endpoint of the
 *   friend's record at ROUND.pingAtMs (each opens our NAT towards that endpoint; the friend's answers and its
 *   own pings then pass) and dials (uTP SYNs, resent by uTP); the birthday technique when one NAT randomises;
 *   the friend's introducers and our mutual friends are asked to carry a note as well (a faster signal than its
 *   next poll). The friend polls us every 2.5 s, so its round starts within ~3 s of ours: both send in the same
 *   seconds, well inside NAT timeouts (≥ 30 s).
 * - Under a relayed session (issue 11 §4): one side (the lower key) sends a note to the friend through the
 *   session itself and starts a round; the friend answers the note at once (onNote). Both punch within a round
 *   trip of each other with no DHT read in between; again after PUNCH_ROUND.upgradeBackoffMs while still relayed.
 * - Wishes back off while rounds fail (ROUND.wishBackoffMs: 0, 15 s, 30 s … 5 min); a session, a move, the
 *   friend's new wish or new endpoints start over. Both NATs randomising: no wish at all (nothing direct can work;
 *   messages take the DHT path, a relay later).
 *
 * Everything here is local bookkeeping and sends of a few small packets; remote input (records, notes) is
 * already authenticated by the pair secret when it reaches us.
 */
import type { DhtNode } from '../dht/index.ts';
import {
  addressKey,
  type Clock,
  type Logger,
  nullLogger,
  type Timer,
  type UdpAddress,
} from '../runtime/index.ts';
import type { NatMapping } from './nat-mapping.ts';
import { type BirthdayRole, type PunchPlan, planPunch } from './punch-plan.ts';
import type { RecordInfo, RendezvousService } from './rendezvous-service.ts';
import type { RendezvousRecord } from './record-body.ts';

export const PUNCH_ROUND = {
  roundMs: 10_000,
  /** Pings to each target, from the round's start: dense first (the friend may already be sending). */
  pingAtMs: [0, 300, 1000, 2000, 3500, 5500, 8000],
  /** A second dial mid-round, in case the first gave up (uTP's connect timeout is 8 s). */
  redialAtMs: 5000,
  /** Delay before the next wish after 0, 1, 2, … rounds without a session. */
  wishBackoffMs: [0, 15_000, 30_000, 60_000, 120_000, 300_000],
  /**
   * Delay before the next upgrade attempt of a relayed session after 0, 1, 2, … attempts (the first waits for the
   * friend's hello through the relay: only then does its session take the note).
   */
  upgradeBackoffMs: [1000, 3000, 5000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000],
  /** A waiting message may wish again this soon after the last wish, whatever the back-off. */
  messageWishMs: 10_000,
  /** Friends whose rounds may run at once (each round is ≤ 7 pings × ≤ 6 endpoints). */
  maxRounds: 32,
} as const;

export type WishReason = 'alive' | 'message' | 'moved';

export interface PunchCoordinatorOptions {
  readonly rendezvous: Pick<RendezvousService, 'wantSession' | 'wantSince' | 'latestRecord' | 'isAlive'>;
  readonly dht: Pick<DhtNode, 'ping'>;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** How our NAT maps us (nat-mapping.ts). */
  natMapping(): NatMapping;
  /** Do we have a public IPv6 address (punch-plan.ts: then the friend's IPv6 endpoints are punched too)? */
  hasPublicIpv6?(): boolean;
  isConnected(peer: Buffer): boolean;
  /** Dial the friend at these endpoints (SessionManager.addCandidates). */
  dial(peer: Buffer, endpoints: readonly UdpAddress[]): void;
  /** Ask the introducers of the friend's record to forward a punch note (punch-service.ts). */
  introducerPunch?(peer: Buffer, record: RendezvousRecord): void;
  /** Ask our friends who are the friend's friends too to forward a punch note (punch-forwarding.ts). */
  friendForward?(peer: Buffer): void;
  /** The birthday technique (punch-birthday.ts), when the daemon gives us extra sockets. */
  birthday?(peer: Buffer, role: BirthdayRole): void;
  /** Does our session with the friend run through a relay? */
  isRelayed?(peer: Buffer): boolean;
  /** Send the friend a punch note through our relayed session with it (punch-forwarding.ts); true when sent. */
  noteOverRelay?(peer: Buffer): boolean;
}

export interface CoordinatorCounters {
  wishes: number;
  answers: number;
  rounds: number;
  hopeless: number;
  pings: number;
  /** Upgrade attempts of relayed sessions: a note through the session and a round. */
  upgrades: number;
}

interface FriendPunch {
  lastWishMs: number;
  /** Rounds since the last session (or reset). */
  failedWishes: number;
  /** The friend's wish we answered last (its record's wantSinceMs). */
  answeredWantMs: number | undefined;
  roundUntilMs: number;
  timers: Timer[];
  /** The targets of the last round, to notice new endpoints. */
  lastTargets: string;
  /** The next upgrade attempt of a relayed session, and how many were made. */
  upgradeTimer: Timer | undefined;
  upgradeAttempts: number;
}

export class PunchCoordinator {
  readonly #opts: PunchCoordinatorOptions;
  readonly #log: Logger;
  readonly #friends = new Map<string, FriendPunch>();
  #isClosed = false;
  readonly counters: CoordinatorCounters = {
    wishes: 0,
    answers: 0,
    rounds: 0,
    hopeless: 0,
    pings: 0,
    upgrades: 0,
  };

  constructor(opts: PunchCoordinatorOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nullLogger).child({ component: 'punch' });
  }

  /** A record of the friend was read (RendezvousService.onRecord). */
  onRecord(peer: Buffer, record: RendezvousRecord, info: RecordInfo): void {
    if (this.#isClosed || this.#opts.isConnected(peer)) return;
    const state = this.#state(peer);
    const want = record.wantSinceMs;
    if (info.isNew && want !== undefined && want !== state.answeredWantMs) {
      state.answeredWantMs = want;
      this.#answer(peer, state, 'record');
      return;
    }
    if (this.#opts.rendezvous.isAlive(peer)) this.want(peer, 'alive');
  }

  /** A punch note from the friend arrived (introducer or mutual friend): it punches now; so do we. */
  onNote(peer: Buffer): void {
    if (this.#isClosed || this.#opts.isConnected(peer)) return;
    this.#answer(peer, this.#state(peer), 'note');
  }

  /** We want a session with the friend (subject to the back-off, see PUNCH_ROUND.wishBackoffMs). */
  want(peer: Buffer, reason: WishReason): void {
    if (this.#isClosed || this.#opts.isConnected(peer)) return;
    const state = this.#state(peer);
    const nowMs = this.#opts.clock.monotonicMs();
    const backoffMs =
      PUNCH_ROUND.wishBackoffMs[Math.min(state.failedWishes, PUNCH_ROUND.wishBackoffMs.length - 1)] ?? 0;
    const waitMs = reason === 'message' ? Math.min(backoffMs, PUNCH_ROUND.messageWishMs) : backoffMs;
    if (reason !== 'moved' && nowMs - state.lastWishMs < Math.max(waitMs, PUNCH_ROUND.roundMs)) return;
    const record = this.#opts.rendezvous.latestRecord(peer);
    if (record !== undefined && this.#plan(record).isHopeless) {
      this.counters.hopeless++;
      return;
    }
    state.lastWishMs = nowMs;
    state.failedWishes++;
    this.counters.wishes++;
    this.#log.debug({ friend: shortHex(peer), reason, failed: state.failedWishes }, 'punch: wish');
    this.#publishWish(peer);
    this.#round(peer, state);
  }

  /** A session with the friend is up: its round stops and its wishes start over. */
  sessionUp(peer: Buffer): void {
    const state = this.#friends.get(peer.toString('hex'));
    if (state === undefined) return;
    this.#stopRound(state);
    this.#stopUpgrades(state);
    state.failedWishes = 0;
  }

  /**
   * A relayed session with the friend is up. The leader (one side of the pair, by key) tries to upgrade it to a
   * direct path now and then on PUNCH_ROUND.upgradeBackoffMs until it is direct or gone; the other answers its notes.
   */
  relayedUp(peer: Buffer, isLeader: boolean): void {
    if (this.#isClosed || !isLeader || this.#opts.noteOverRelay === undefined) return;
    const state = this.#state(peer);
    this.#stopUpgrades(state);
    this.#scheduleUpgrade(peer, state);
  }

  /** Our network changed: every alive friend without a session gets a wish now, back-offs start over. */
  moved(peers: readonly Buffer[]): void {
    for (const peer of peers) {
      const state = this.#state(peer);
      state.failedWishes = 0;
      state.lastWishMs = -Infinity;
      if (this.#opts.rendezvous.isAlive(peer)) this.want(peer, 'moved');
    }
  }

  close(): void {
    this.#isClosed = true;
    for (const state of this.#friends.values()) {
      this.#stopRound(state);
      this.#stopUpgrades(state);
    }
  }

  #scheduleUpgrade(peer: Buffer, state: FriendPunch): void {
    const backoff = PUNCH_ROUND.upgradeBackoffMs;
    const delayMs = backoff[Math.min(state.upgradeAttempts, backoff.length - 1)] ?? 0;
    state.upgradeAttempts++;
    state.upgradeTimer = this.#opts.clock.setTimer(delayMs, () => this.#upgrade(peer, state));
  }

  /** One upgrade attempt: a note through the relayed session, and our round at the same moment. */
  #upgrade(peer: Buffer, state: FriendPunch): void {
    state.upgradeTimer = undefined;
    if (this.#isClosed || this.#opts.isRelayed?.(peer) !== true) {
      state.upgradeAttempts = 0;
      return;
    }
    const record = this.#opts.rendezvous.latestRecord(peer);
    const isHopeless = record !== undefined && this.#plan(record).isHopeless;
    if (!isHopeless && this.#opts.noteOverRelay?.(peer) === true) {
      this.counters.upgrades++;
      this.#log.debug(
        { friend: shortHex(peer), attempt: state.upgradeAttempts },
        'punch: upgrading a relayed session',
      );
      this.#round(peer, state);
    }
    this.#scheduleUpgrade(peer, state);
  }

  #stopUpgrades(state: FriendPunch): void {
    state.upgradeTimer?.cancel();
    state.upgradeTimer = undefined;
    state.upgradeAttempts = 0;
  }

  #answer(peer: Buffer, state: FriendPunch, via: 'record' | 'note'): void {
    this.counters.answers++;
    state.failedWishes = 0;
    const nowMs = this.#opts.clock.monotonicMs();
    const ours = this.#opts.rendezvous.wantSince(peer);
    this.#log.debug({ friend: shortHex(peer), via }, 'punch: answering a wish');
    // Our own wish tells the friend we are at it (its round may be over): unless we made one this round.
    // Wall time: our wish time is published in the record and read against the friend's clock.
    if (ours === undefined || this.#opts.clock.wallMs() - ours >= PUNCH_ROUND.roundMs) {
      state.lastWishMs = nowMs;
      this.#publishWish(peer);
    }
    this.#round(peer, state);
  }

  #publishWish(peer: Buffer): void {
    this.#opts.rendezvous
      .wantSession(peer)
      .catch((err: unknown) => this.#log.debug({ err: String(err) }, 'punch: wish not published'));
  }

  /** Pings, dials and the extra paths for one round; a round already running is restarted from now. */
  #round(peer: Buffer, state: FriendPunch): void {
    const record = this.#opts.rendezvous.latestRecord(peer);
    this.#opts.friendForward?.(peer);
    if (record === undefined) return;
    const ours = this.#opts.natMapping();
    const plan = this.#plan(record);
    this.#log.debug(
      {
        friend: shortHex(peer),
        ours,
        theirs: record.natMapping ?? 'unknown',
        targets: plan.targets.map(addressKey),
        birthday: plan.birthday?.role,
        isHopeless: plan.isHopeless,
      },
      'punch: round',
    );
    if (plan.isHopeless) {
      this.counters.hopeless++;
      return;
    }
    const targetsKey = plan.targets.map(addressKey).join(',');
    if (targetsKey !== state.lastTargets) {
      state.lastTargets = targetsKey;
      state.failedWishes = Math.min(state.failedWishes, 1);
    }
    if (state.timers.length === 0 && this.#activeRounds() >= PUNCH_ROUND.maxRounds) return;
    this.#stopRound(state);
    this.counters.rounds++;
    const { clock, dht } = this.#opts;
    state.roundUntilMs = clock.monotonicMs() + PUNCH_ROUND.roundMs;
    for (const atMs of PUNCH_ROUND.pingAtMs) {
      state.timers.push(
        clock.setTimer(atMs, () => {
          if (this.#isClosed || this.#opts.isConnected(peer)) return;
          for (const target of plan.targets) {
            this.counters.pings++;
            dht.ping(target).catch(() => {});
          }
        }),
      );
    }
    this.#opts.dial(peer, plan.targets);
    state.timers.push(
      clock.setTimer(PUNCH_ROUND.redialAtMs, () => {
        if (!this.#isClosed && !this.#opts.isConnected(peer)) this.#opts.dial(peer, plan.targets);
      }),
      clock.setTimer(PUNCH_ROUND.roundMs, () => {
        state.timers = [];
      }),
    );
    if (plan.birthday !== undefined) this.#opts.birthday?.(peer, plan.birthday);
    if (record.introducers.length > 0) this.#opts.introducerPunch?.(peer, record);
  }

  #plan(record: RendezvousRecord): PunchPlan {
    return planPunch(this.#opts.natMapping(), record, this.#opts.hasPublicIpv6?.() ?? false);
  }

  #activeRounds(): number {
    let n = 0;
    for (const state of this.#friends.values()) if (state.timers.length > 0) n++;
    return n;
  }

  #stopRound(state: FriendPunch): void {
    for (const timer of state.timers) timer.cancel();
    state.timers = [];
  }

  #state(peer: Buffer): FriendPunch {
    const hex = peer.toString('hex');
    let state = this.#friends.get(hex);
    if (state === undefined) {
      state = {
        lastWishMs: -Infinity,
        failedWishes: 0,
        answeredWantMs: undefined,
        roundUntilMs: 0,
        timers: [],
        lastTargets: '',
        upgradeTimer: undefined,
        upgradeAttempts: 0,
      };
      this.#friends.set(hex, state);
    }
    return state;
  }
}

function shortHex(pk: Buffer): string {
  return pk.toString('hex').slice(0, 16);
}
