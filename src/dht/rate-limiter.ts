/**
 * Per-source token buckets for incoming queries (abuse limit; libtorrent's dos_blocker plays this role).
 * Each source earns `ratePerSec` tokens a second up to `burst`; a query costs one. At most `maxSources` buckets
 * are tracked: a Map in least-recently-seen order, so a source that keeps sending stays tracked (and limited),
 * and the quietest is forgotten first. Every operation is O(1).
 *
 * The key is the caller's choice: the host on the open Internet, host:port on a loopback test network where
 * every node shares 127.0.0.1.
 */
import { RATE_LIMIT_BURST, RATE_LIMIT_MAX_SOURCES, RATE_LIMIT_PER_SEC } from './constants.ts';

interface Bucket {
  tokens: number;
  lastMs: number;
}

export interface RateLimiterOptions {
  readonly ratePerSec?: number;
  readonly burst?: number;
  readonly maxSources?: number;
}

export class RateLimiter {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #maxSources: number;
  readonly #buckets = new Map<string, Bucket>();
  #dropped = 0;

  constructor(opts: RateLimiterOptions = {}) {
    this.#ratePerMs = (opts.ratePerSec ?? RATE_LIMIT_PER_SEC) / 1000;
    this.#burst = Math.max(1, opts.burst ?? RATE_LIMIT_BURST);
    this.#maxSources = Math.max(1, opts.maxSources ?? RATE_LIMIT_MAX_SOURCES);
  }

  /** Takes one token from the source's bucket; false (and counted) when it is empty. */
  allow(source: string, nowMs: number): boolean {
    let bucket = this.#buckets.get(source);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxSources) {
        const quietest = this.#buckets.keys().next().value;
        if (quietest !== undefined) this.#buckets.delete(quietest);
      }
      bucket = { tokens: this.#burst, lastMs: nowMs };
    } else {
      this.#buckets.delete(source);
      // A clock that went backwards earns nothing rather than a negative refill.
      const elapsedMs = Math.max(0, nowMs - bucket.lastMs);
      bucket.tokens = Math.min(this.#burst, bucket.tokens + elapsedMs * this.#ratePerMs);
      bucket.lastMs = Math.max(bucket.lastMs, nowMs);
    }
    this.#buckets.set(source, bucket);
    if (bucket.tokens < 1) {
      this.#dropped++;
      return false;
    }
    bucket.tokens -= 1;
    return true;
  }

  /** Sources currently tracked (never more than maxSources). */
  get trackedSources(): number {
    return this.#buckets.size;
  }

  /** Queries refused so far. */
  get droppedCount(): number {
    return this.#dropped;
  }
}
