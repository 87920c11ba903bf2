/**
 * base_delay (BEP 29 "congestion control"): a sliding minimum of the one-way delay samples over the last two
 * minutes, kept as one minimum per minute so old minima age out. Samples are 32-bit microsecond differences
 * between two unsynchronised clocks, so they are compared on the 32-bit circle, never as plain numbers.
 */
import { BASE_DELAY_WINDOW_MS, microsDiff } from '../header.ts';

const BUCKET_MS = 60_000;
const BUCKETS = Math.ceil(BASE_DELAY_WINDOW_MS / BUCKET_MS);

export class DelayHistory {
  /** Per-minute minima, newest last. */
  #buckets: number[] = [];
  #bucketStartMs = 0;
  #base: number | undefined;

  /** Adds a sample and returns the queuing delay it shows (sample - base_delay), in microseconds, >= 0. */
  addSample(sampleUs: number, nowMs: number): number {
    if (this.#base === undefined || nowMs - this.#bucketStartMs >= BUCKET_MS) {
      this.#buckets.push(sampleUs);
      if (this.#buckets.length > BUCKETS) this.#buckets.shift();
      this.#bucketStartMs = nowMs;
      this.#base = this.#minimum();
    } else {
      const last = this.#buckets.length - 1;
      if (microsDiff(sampleUs, this.#buckets[last] as number) < 0) this.#buckets[last] = sampleUs;
      if (microsDiff(sampleUs, this.#base) < 0) this.#base = sampleUs;
    }
    return Math.max(0, microsDiff(sampleUs, this.#base as number));
  }

  #minimum(): number {
    let min = this.#buckets[0] as number;
    for (const b of this.#buckets) if (microsDiff(b, min) < 0) min = b;
    return min;
  }
}
