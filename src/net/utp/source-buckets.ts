/**
 * Token buckets per source key (a host, a /24 or /64 subnet): each earns ratePerSec tokens a second up to burst,
 * and an action costs one. At most maxSources buckets are kept, in least-recently-used order, so memory is
 * bounded whatever a flood's sources: the quietest source is forgotten first (it comes back with a full bucket,
 * which is what it would have earned by then anyway unless it is cycling sources, and the admission caps hold
 * regardless). Every operation is O(1).
 *
 * The DHT has its own (dht/rate-limiter.ts); the layer rule keeps net from importing it, and uTP needs a
 * non-spending peek (canTake) that queries do not.
 */

interface Bucket {
  tokens: number;
  lastMs: number;
}

export interface SourceBucketLimits {
  readonly ratePerSec: number;
  readonly burst: number;
  readonly maxSources: number;
}

export class SourceBuckets {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #maxSources: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limits: SourceBucketLimits) {
    this.#ratePerMs = limits.ratePerSec / 1000;
    this.#burst = Math.max(1, limits.burst);
    this.#maxSources = Math.max(1, limits.maxSources);
  }

  /** Sources tracked now (never more than maxSources). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Whether the source has a token now, without spending it. */
  canTake(source: string, nowMs: number): boolean {
    const bucket = this.#buckets.get(source);
    return bucket === undefined || this.#refilled(bucket, nowMs) >= 1;
  }

  /** Spends one token; false when the source has none. */
  take(source: string, nowMs: number): boolean {
    let bucket = this.#buckets.get(source);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxSources) {
        const quietest = this.#buckets.keys().next().value;
        if (quietest !== undefined) this.#buckets.delete(quietest);
      }
      bucket = { tokens: this.#burst, lastMs: nowMs };
    } else {
      this.#buckets.delete(source);
      bucket.tokens = this.#refilled(bucket, nowMs);
      bucket.lastMs = Math.max(bucket.lastMs, nowMs);
    }
    this.#buckets.set(source, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  #refilled(bucket: Bucket, nowMs: number): number {
    // A clock that went backwards earns nothing rather than a negative refill.
    const elapsedMs = Math.max(0, nowMs - bucket.lastMs);
    return Math.min(this.#burst, bucket.tokens + elapsedMs * this.#ratePerMs);
  }
}
