/**
 * Rations the Noise XX handshakes that strangers open to us (issue 10 §2). A stranger's XX costs us ~3 ms of DH
 * and, until it ends, a session; without a ration one socket at 58 handshakes/s held every session we had. Friends
 * dial with IK and never pass through here: they are always admitted.
 *
 * The gate is asked when an XX initiator's first frame arrives, before any DH (SecureSessionOptions.admitPattern):
 *   1. at most maxPerHost / maxPerPrefix (IPv4 /24, IPv6 /64) of a source's stranger sessions at once;
 *   2. token-bucket rates per host, per prefix and overall (this bounds the CPU strangers can make us spend);
 *   3. at most maxConcurrent in all. When full, a newcomer from a network holding fewer sessions than the
 *      busiest one displaces that network's oldest session: many sources sharing the room cannot be starved by
 *      one that filled it first.
 * A ticket is held for the session's life (the manager closes strangers that do not finish the handshake within
 * handshakeMs, and the request exchange those that send no request soon after) and released when it closes or
 * the peer turns out to be a friend.
 */
import { RateLimiter } from '../../dht/index.ts';
import type { Clock, UdpAddress } from '../../runtime/index.ts';
import { sourcePrefix } from '../source-prefix.ts';

export const STRANGER_LIMITS = {
  maxConcurrent: 64,
  maxPerHost: 4,
  maxPerPrefix: 8,
  perHostPerSec: 1,
  perHostBurst: 8,
  perPrefixPerSec: 2,
  perPrefixBurst: 16,
  /** 50/s × ~3 ms of DH: strangers can take at most ~15 % of one core, whatever their number. */
  overallPerSec: 50,
  overallBurst: 100,
  /** A stranger's handshake must complete this soon after its first frame. */
  handshakeMs: 5000,
} as const;
export type StrangerLimits = { -readonly [K in keyof typeof STRANGER_LIMITS]: number };

/** Why a stranger was turned away (counted in stats). */
export type StrangerRefusal = 'busy' | 'rate' | 'full';

export interface StrangerTicket {
  readonly source: UdpAddress;
  /** Idempotent. */
  release(): void;
}

export interface StrangerGateStats {
  admitted: number;
  evicted: number;
  refused: Record<StrangerRefusal, number>;
}

interface Entry extends StrangerTicket {
  readonly host: string;
  readonly prefix: string;
  readonly onEvict: () => void;
}

const OVERALL = '*';

export class StrangerGate {
  readonly limits: StrangerLimits;
  readonly stats: StrangerGateStats = { admitted: 0, evicted: 0, refused: { busy: 0, rate: 0, full: 0 } };
  readonly #clock: Clock;
  readonly #byHost = new Map<string, number>();
  /** Each network's live tickets, oldest first (a Set keeps insertion order). */
  readonly #byPrefix = new Map<string, Set<Entry>>();
  readonly #hostRate: RateLimiter;
  readonly #prefixRate: RateLimiter;
  readonly #overallRate: RateLimiter;
  #active = 0;

  constructor(clock: Clock, limits: Partial<StrangerLimits> = {}) {
    this.#clock = clock;
    this.limits = { ...STRANGER_LIMITS, ...limits };
    const l = this.limits;
    this.#hostRate = new RateLimiter({
      ratePerSec: l.perHostPerSec,
      burst: l.perHostBurst,
      maxSources: 4096,
    });
    this.#prefixRate = new RateLimiter({
      ratePerSec: l.perPrefixPerSec,
      burst: l.perPrefixBurst,
      maxSources: 4096,
    });
    this.#overallRate = new RateLimiter({
      ratePerSec: l.overallPerSec,
      burst: l.overallBurst,
      maxSources: 1,
    });
  }

  /** Stranger sessions holding a ticket now. */
  get active(): number {
    return this.#active;
  }

  /** A ticket for a stranger's handshake from `source`, or undefined (refused: the caller drops the session). */
  tryAdmit(source: UdpAddress, onEvict: () => void): StrangerTicket | undefined {
    const host = source.host;
    const prefix = sourcePrefix(host);
    const own = this.#byPrefix.get(prefix)?.size ?? 0;
    if ((this.#byHost.get(host) ?? 0) >= this.limits.maxPerHost || own >= this.limits.maxPerPrefix) {
      return this.#refuse('busy');
    }
    const now = this.#clock.monotonicMs();
    if (
      !this.#hostRate.allow(host, now) ||
      !this.#prefixRate.allow(prefix, now) ||
      !this.#overallRate.allow(OVERALL, now)
    ) {
      return this.#refuse('rate');
    }
    if (this.#active >= this.limits.maxConcurrent && !this.#evictFromBusiest(own))
      return this.#refuse('full');
    const entry: Entry = {
      source: { host: source.host, port: source.port },
      host,
      prefix,
      onEvict,
      release: () => this.#release(entry),
    };
    this.#byHost.set(host, (this.#byHost.get(host) ?? 0) + 1);
    let tickets = this.#byPrefix.get(prefix);
    if (tickets === undefined) {
      tickets = new Set();
      this.#byPrefix.set(prefix, tickets);
    }
    tickets.add(entry);
    this.#active++;
    this.stats.admitted++;
    return entry;
  }

  /** Frees room by closing the oldest session of the network holding the most, if it holds more than `own` + 1. */
  #evictFromBusiest(own: number): boolean {
    let busiest: Set<Entry> | undefined;
    for (const tickets of this.#byPrefix.values()) {
      if (busiest === undefined || tickets.size > busiest.size) busiest = tickets;
    }
    const oldest = busiest?.values().next().value;
    if (busiest === undefined || oldest === undefined || busiest.size <= own + 1) return false;
    this.#release(oldest);
    this.stats.evicted++;
    oldest.onEvict();
    return true;
  }

  #release(entry: Entry): void {
    const tickets = this.#byPrefix.get(entry.prefix);
    if (tickets?.delete(entry) !== true) return;
    if (tickets.size === 0) this.#byPrefix.delete(entry.prefix);
    const hostCount = (this.#byHost.get(entry.host) ?? 1) - 1;
    if (hostCount <= 0) this.#byHost.delete(entry.host);
    else this.#byHost.set(entry.host, hostCount);
    this.#active--;
  }

  #refuse(reason: StrangerRefusal): undefined {
    this.stats.refused[reason]++;
    return undefined;
  }
}
