/**
 * What strangers' friend requests may spend on the recipient (issue 10 §3): request slots, store writes and
 * storage. The rule is that spending by one key or one source never starves another:
 *
 * - A **new** requester (a key with no pending request) needs a slot from its host (3 an hour) and its network
 *   (IPv4 /24, IPv6 /64: 5 an hour), then one from the overall budget (60 an hour, persisted, so crashing us does
 *   not reset it). Only new keys spend overall slots, and each spends one: a few keys cannot exhaust it, and many
 *   keys need many networks and a stamp each (request-stamp.ts).
 * - A **pending** key asking again spends nothing shared: its re-sends are written at most 5 times an hour (the
 *   latest message and name win) and acknowledged without a write beyond that.
 * - **Storage**: at most MAX_PENDING pending requests (a new one pushes out the one asked least recently); pending
 *   requests nobody answered are forgotten after PENDING_RETENTION_MS, declined ones' rows after
 *   DECLINED_RETENTION_MS (the declined contact still turns the key away); rate rows of past windows are dropped.
 *   prune() runs at start and hourly.
 *
 * The per-host, per-network and per-key counters live in memory (bounded maps, quietest forgotten first): they
 * would otherwise be one row per stranger, which is what let spam grow the store.
 */
import { RateLimiter } from '../../dht/index.ts';
import type { Clock, UdpAddress } from '../../runtime/index.ts';
import { HOUR_EPOCH_MS } from '../epoch.ts';
import { sourcePrefix } from '../source-prefix.ts';
import type { ChatStore } from '../store/chat-store.ts';

const DAY_MS = 24 * HOUR_EPOCH_MS;

export const REQUEST_BUDGET = {
  newKeysPerHostPerHour: 3,
  newKeysPerPrefixPerHour: 5,
  newKeysPerHour: 60,
  writesPerKeyPerHour: 5,
  maxPending: 200,
  pendingRetentionMs: 30 * DAY_MS,
  declinedRetentionMs: 180 * DAY_MS,
  /** Sources and keys whose counters are kept in memory at once. */
  maxTracked: 4096,
} as const;
export type RequestBudgetLimits = { -readonly [K in keyof typeof REQUEST_BUDGET]: number };

/** The persisted overall bucket (one row in request_rate). */
export const NEW_REQUESTS_BUCKET = 'incoming';

export type NewKeyRefusal = 'host' | 'prefix' | 'overall';

export interface PruneCounts {
  rateBuckets: number;
  declined: number;
  /** Keys of pending requests forgotten for age: the caller drops what else it kept for them. */
  expired: Buffer[];
}

export class RequestBudget {
  readonly limits: RequestBudgetLimits;
  readonly #store: ChatStore;
  readonly #clock: Clock;
  readonly #hosts: RateLimiter;
  readonly #prefixes: RateLimiter;
  readonly #keys: RateLimiter;

  constructor(store: ChatStore, clock: Clock, limits: Partial<RequestBudgetLimits> = {}) {
    this.#store = store;
    this.#clock = clock;
    this.limits = { ...REQUEST_BUDGET, ...limits };
    const hourly = (perHour: number) =>
      new RateLimiter({ ratePerSec: perHour / 3600, burst: perHour, maxSources: this.limits.maxTracked });
    this.#hosts = hourly(this.limits.newKeysPerHostPerHour);
    this.#prefixes = hourly(this.limits.newKeysPerPrefixPerHour);
    this.#keys = hourly(this.limits.writesPerKeyPerHour);
  }

  /** A slot for a key with no pending request, asking from `source`; the reason when there is none. */
  takeNewKeySlot(source: UdpAddress): NewKeyRefusal | undefined {
    const now = this.#clock.monotonicMs();
    if (!this.#hosts.allow(source.host, now)) return 'host';
    if (!this.#prefixes.allow(sourcePrefix(source.host), now)) return 'prefix';
    const overall = this.#store.requests.takeRateSlot(
      NEW_REQUESTS_BUCKET,
      HOUR_EPOCH_MS,
      this.limits.newKeysPerHour,
    );
    return overall.isAllowed ? undefined : 'overall';
  }

  /** May a pending key's re-send be written (true), or only acknowledged (false)? */
  takeRepeatWrite(peer: Buffer): boolean {
    return this.#keys.allow(peer.toString('hex'), this.#clock.monotonicMs());
  }

  /** Before storing a new pending request: forgets the least recently asked ones beyond MAX_PENDING - 1. */
  makeRoom(): Buffer[] {
    const excess = this.#store.requests.countPendingIncoming() - (this.limits.maxPending - 1);
    if (excess <= 0) return [];
    const keys = this.#store.requests.pendingIncomingKeys(excess);
    for (const key of keys) this.#store.requests.forgetIncoming(key);
    return keys;
  }

  /** Housekeeping: past rate windows, declined rows past retention, pending requests nobody answered. */
  prune(): PruneCounts {
    // Wall time: the windows and retention are judged against rows stored with wall times.
    const now = this.#clock.wallMs();
    const requests = this.#store.requests;
    const rateBuckets = requests.pruneRateBuckets(now - HOUR_EPOCH_MS);
    const declined = requests.pruneDeclined(now - this.limits.declinedRetentionMs);
    const expired = requests.pendingIncomingKeys(
      this.limits.maxPending,
      now - this.limits.pendingRetentionMs,
    );
    for (const key of expired) requests.forgetIncoming(key);
    return { rateBuckets, declined, expired };
  }
}
