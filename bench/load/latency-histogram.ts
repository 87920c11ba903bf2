/**
 * Reply latencies of one load step in fixed 10 µs bins up to 10 s: constant memory whatever the rate, and
 * percentiles without sorting millions of samples (the C generator keeps the same bins).
 */
const BIN_MS = 0.01;
const BIN_COUNT = 1_000_000;

export class LatencyHistogram {
  readonly #bins = new Uint32Array(BIN_COUNT);
  #count = 0;

  get count(): number {
    return this.#count;
  }

  add(latencyMs: number): void {
    const bin = Math.min(BIN_COUNT - 1, Math.max(0, Math.floor(latencyMs / BIN_MS)));
    this.#bins[bin]!++;
    this.#count++;
  }

  /** The latency below which this fraction of the samples fall (bin middle), or null without samples. */
  percentileMs(fraction: number): number | null {
    if (this.#count === 0) return null;
    const rank = Math.floor(fraction * (this.#count - 1));
    let seen = 0;
    for (let i = 0; i < BIN_COUNT; i++) {
      seen += this.#bins[i]!;
      if (seen > rank) return (i + 0.5) * BIN_MS;
    }
    return BIN_COUNT * BIN_MS;
  }

  clear(): void {
    this.#bins.fill(0);
    this.#count = 0;
  }
}
