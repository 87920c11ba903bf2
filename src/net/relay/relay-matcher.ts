/**
 * Which halves a relay joins, and what it refuses (sans-I/O: it is handed the time, and answers with decisions
 * the server carries out). A half is one uTP stream that presented a JOIN; two halves of opposite roles that
 * share a token become a pair.
 *
 * Everything a stranger can make a relay hold is capped here (docs/THREAT-MODEL.md "Relays"):
 *   - halves per host and per subnet (/24, /64), waiting or paired: a source cannot fill the relay;
 *   - joins per host per second (a token bucket): a source cannot churn halves;
 *   - waiting halves and pairs in all (busy beyond);
 *   - how long a half waits for its partner (waitMs, then noPartner);
 *   - bytes per token within a budget window (budgetSpent once spent; the splice's rate cap is per pair).
 * A half of the same role and token replaces the waiting one (a friend joining again after its stream died);
 * a token already used by a matched pair is refused (tokenInUse), so a third party cannot join a pair.
 */
import { subnetOf } from '../utp/admission.ts';
import { SourceBuckets } from '../utp/source-buckets.ts';
import { RelayRefusal, type RelayJoin, type RelayRole } from './relay-protocol.ts';

export interface RelayLimits {
  /** Halves waiting for a partner, in all. */
  readonly maxWaitingHalves: number;
  /** Matched pairs, in all (`dhtchat relay --max-pairs`). */
  readonly maxPairs: number;
  /** Halves (waiting or paired) from one host: a household behind one NAT has a few users. */
  readonly maxHalvesPerHost: number;
  readonly maxHalvesPerSubnet: number;
  /** Joins one host may make per second, and in a burst. */
  readonly joinsPerSecPerHost: number;
  readonly joinBurstPerHost: number;
  /** How long a half waits for its partner. */
  readonly waitMs: number;
  /** Bytes one token may move (both directions) within budgetWindowMs. */
  readonly pairBudgetBytes: number;
  readonly budgetWindowMs: number;
  /** Budgets remembered (the least recently used is forgotten first). */
  readonly maxBudgets: number;
  /** Per pair and direction: the splice's rate cap (relay-splice.ts), and its burst. */
  readonly pairBytesPerSec: number;
  readonly pairBurstBytes: number;
  /** A pair that moved no byte either way for this long is closed (both friends gone without a FIN). */
  readonly pairIdleMs: number;
  /** A stream that has not sent its JOIN after this long is dropped. */
  readonly joinTimeoutMs: number;
}

export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  maxWaitingHalves: 512,
  maxPairs: 256,
  maxHalvesPerHost: 8,
  maxHalvesPerSubnet: 32,
  joinsPerSecPerHost: 2,
  joinBurstPerHost: 10,
  waitMs: 20_000,
  pairBudgetBytes: 64 * 1024 * 1024,
  budgetWindowMs: 60 * 60_000,
  maxBudgets: 4096,
  pairBytesPerSec: 256 * 1024,
  pairBurstBytes: 512 * 1024,
  pairIdleMs: 60_000,
  joinTimeoutMs: 5000,
};

export type JoinDecision =
  | { readonly kind: 'refuse'; readonly reason: RelayRefusal }
  /** Waits; `replaced` is a half of the same role and token that must be refused with `replaced`. */
  | { readonly kind: 'wait'; readonly waitMs: number; readonly replaced: number | undefined }
  | {
      readonly kind: 'match';
      readonly partner: number;
      readonly pairId: number;
      readonly replaced: number | undefined;
    };

interface Half {
  readonly id: number;
  readonly host: string;
  readonly subnet: string;
  readonly role: RelayRole;
  readonly tokenKeys: readonly string[];
  deadlineMs: number;
  pairId: number | undefined;
}

interface Pair {
  readonly id: number;
  readonly halves: readonly [number, number];
  readonly tokenKey: string;
}

interface Budget {
  spentBytes: number;
  windowStartMs: number;
}

export interface RelayMatcherCounts {
  waiting: number;
  pairs: number;
  hosts: number;
  budgets: number;
}

export class RelayMatcher {
  readonly limits: RelayLimits;
  readonly #halves = new Map<number, Half>();
  /** Waiting halves by token and role. */
  readonly #waiting = new Map<string, [number | undefined, number | undefined]>();
  readonly #pairs = new Map<number, Pair>();
  readonly #pairedTokens = new Set<string>();
  readonly #perHost = new Map<string, number>();
  readonly #perSubnet = new Map<string, number>();
  readonly #budgets = new Map<string, Budget>();
  readonly #joinBuckets: SourceBuckets;
  #waitingCount = 0;
  #nextPairId = 1;

  constructor(limits: Partial<RelayLimits> = {}) {
    this.limits = { ...DEFAULT_RELAY_LIMITS, ...limits };
    this.#joinBuckets = new SourceBuckets({
      ratePerSec: this.limits.joinsPerSecPerHost,
      burst: this.limits.joinBurstPerHost,
      maxSources: 4096,
    });
  }

  counts(): RelayMatcherCounts {
    return {
      waiting: this.#waitingCount,
      pairs: this.#pairs.size,
      hosts: this.#perHost.size,
      budgets: this.#budgets.size,
    };
  }

  /** A half (id chosen by the caller, unique) from host presented a JOIN at nowMs: wait, match or refuse. */
  join(id: number, host: string, join: RelayJoin, nowMs: number): JoinDecision {
    const l = this.limits;
    const subnet = subnetOf(host);
    const tokenKeys = [...new Set(join.tokens.map((t) => t.toString('hex')))];
    if (!this.#joinBuckets.take(host, nowMs)) return refuse(RelayRefusal.sourceLimit);
    if (tokenKeys.some((k) => this.#isBudgetSpent(k, nowMs))) return refuse(RelayRefusal.budgetSpent);
    if (tokenKeys.some((k) => this.#pairedTokens.has(k))) return refuse(RelayRefusal.tokenInUse);
    const partner = this.#waitingFor(tokenKeys, join.role === 0 ? 1 : 0);
    const replaced = this.#waitingFor(tokenKeys, join.role);
    const replacedHalf = replaced === undefined ? undefined : this.#halves.get(replaced);
    // The half it replaces leaves: count the source without it.
    const hostCount = (this.#perHost.get(host) ?? 0) - (replacedHalf?.host === host ? 1 : 0);
    const subnetCount = (this.#perSubnet.get(subnet) ?? 0) - (replacedHalf?.subnet === subnet ? 1 : 0);
    if (hostCount >= l.maxHalvesPerHost || subnetCount >= l.maxHalvesPerSubnet)
      return refuse(RelayRefusal.sourceLimit);
    if (partner !== undefined) {
      if (this.#pairs.size >= l.maxPairs) return refuse(RelayRefusal.busy);
    } else if (this.#waitingCount - (replaced === undefined ? 0 : 1) >= l.maxWaitingHalves) {
      return refuse(RelayRefusal.busy);
    }
    if (replaced !== undefined) this.leave(replaced);
    const half: Half = {
      id,
      host,
      subnet,
      role: join.role,
      tokenKeys,
      deadlineMs: Infinity,
      pairId: undefined,
    };
    this.#halves.set(id, half);
    bump(this.#perHost, host, 1);
    bump(this.#perSubnet, subnet, 1);
    if (partner === undefined) {
      half.deadlineMs = nowMs + l.waitMs;
      this.#addWaiting(half);
      return { kind: 'wait', waitMs: l.waitMs, replaced };
    }
    const other = this.#halves.get(partner) as Half;
    this.#removeWaiting(other);
    const tokenKey = tokenKeys.find((k) => other.tokenKeys.includes(k)) as string;
    const pair: Pair = { id: this.#nextPairId++, halves: [partner, id], tokenKey };
    this.#pairs.set(pair.id, pair);
    this.#pairedTokens.add(tokenKey);
    other.pairId = pair.id;
    half.pairId = pair.id;
    this.#budgetOf(tokenKey, nowMs);
    return { kind: 'match', partner, pairId: pair.id, replaced };
  }

  /** A half is gone (closed, refused, timed out). Returns its partner if it was paired (the pair ends too). */
  leave(id: number): number | undefined {
    const half = this.#halves.get(id);
    if (half === undefined) return undefined;
    this.#halves.delete(id);
    bump(this.#perHost, half.host, -1);
    bump(this.#perSubnet, half.subnet, -1);
    if (half.pairId === undefined) {
      this.#removeWaiting(half);
      return undefined;
    }
    const pair = this.#pairs.get(half.pairId);
    if (pair === undefined) return undefined;
    this.#pairs.delete(pair.id);
    this.#pairedTokens.delete(pair.tokenKey);
    const partner = pair.halves[0] === id ? pair.halves[1] : pair.halves[0];
    const other = this.#halves.get(partner);
    if (other !== undefined) {
      other.pairId = undefined;
      this.#halves.delete(partner);
      bump(this.#perHost, other.host, -1);
      bump(this.#perSubnet, other.subnet, -1);
    }
    return partner;
  }

  /**
   * Bytes a pair moved: false once its token's budget is spent (the server then closes the pair, and the token
   * is refused until the window turns).
   */
  charge(pairId: number, bytes: number, nowMs: number): boolean {
    const pair = this.#pairs.get(pairId);
    if (pair === undefined) return false;
    const budget = this.#budgetOf(pair.tokenKey, nowMs);
    budget.spentBytes += bytes;
    return budget.spentBytes <= this.limits.pairBudgetBytes;
  }

  /** Waiting halves whose wait is over at nowMs (the server refuses each with noPartner, then calls leave). */
  expired(nowMs: number): number[] {
    const out: number[] = [];
    for (const half of this.#halves.values()) {
      if (half.pairId === undefined && half.deadlineMs <= nowMs) out.push(half.id);
    }
    return out;
  }

  /** The earliest wait deadline, or Infinity. */
  nextDeadlineMs(): number {
    let next = Infinity;
    for (const half of this.#halves.values()) {
      if (half.pairId === undefined && half.deadlineMs < next) next = half.deadlineMs;
    }
    return next;
  }

  #waitingFor(tokenKeys: readonly string[], role: RelayRole): number | undefined {
    for (const key of tokenKeys) {
      const id = this.#waiting.get(key)?.[role];
      if (id !== undefined) return id;
    }
    return undefined;
  }

  #addWaiting(half: Half): void {
    for (const key of half.tokenKeys) {
      let slot = this.#waiting.get(key);
      if (slot === undefined) {
        slot = [undefined, undefined];
        this.#waiting.set(key, slot);
      }
      slot[half.role] = half.id;
    }
    this.#waitingCount++;
  }

  #removeWaiting(half: Half): void {
    let wasWaiting = false;
    for (const key of half.tokenKeys) {
      const slot = this.#waiting.get(key);
      if (slot?.[half.role] !== half.id) continue;
      wasWaiting = true;
      slot[half.role] = undefined;
      if (slot[0] === undefined && slot[1] === undefined) this.#waiting.delete(key);
    }
    if (wasWaiting) this.#waitingCount--;
  }

  #isBudgetSpent(tokenKey: string, nowMs: number): boolean {
    const budget = this.#budgets.get(tokenKey);
    if (budget === undefined) return false;
    if (nowMs - budget.windowStartMs >= this.limits.budgetWindowMs) {
      this.#budgets.delete(tokenKey);
      return false;
    }
    return budget.spentBytes > this.limits.pairBudgetBytes;
  }

  /** The token's budget, refreshed in LRU order; a new window starts once the old one has passed. */
  #budgetOf(tokenKey: string, nowMs: number): Budget {
    let budget = this.#budgets.get(tokenKey);
    if (budget !== undefined) this.#budgets.delete(tokenKey);
    if (budget === undefined || nowMs - budget.windowStartMs >= this.limits.budgetWindowMs) {
      budget = { spentBytes: 0, windowStartMs: nowMs };
    }
    this.#budgets.set(tokenKey, budget);
    while (this.#budgets.size > this.limits.maxBudgets) {
      const oldest = this.#budgets.keys().next().value as string;
      this.#budgets.delete(oldest);
    }
    return budget;
  }
}

function refuse(reason: RelayRefusal): JoinDecision {
  return { kind: 'refuse', reason };
}

function bump(map: Map<string, number>, key: string, delta: number): void {
  const next = (map.get(key) ?? 0) + delta;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}
