/**
 * How long a datagram takes between two simulated hosts, and whether it arrives.
 *
 * Round-trip times are log-normal (docs/sim/README.md "Latency" for the source and the fit): each pair of
 * sites has one base RTT for the whole run, a pure function of the seed and the two site numbers (a hash through
 * the inverse normal CDF), so no table is stored and a million pairs cost nothing. A datagram takes half the base
 * RTT plus a uniform jitter of up to jitterFraction of that half (queueing; it reorders packets now and then),
 * and is lost with probability lossRate, independently.
 */
import { createHash } from 'node:crypto';
import { inverseNormal } from './distributions.ts';
import type { SimRandom } from './sim-random.ts';

export interface LatencyModelOptions {
  /** Median RTT between two sites (e^μ of the log-normal), ms. */
  rttMedianMs: number;
  /** σ of ln(RTT). */
  rttSigma: number;
  /** Floor of any RTT (two hosts in one city), ms. */
  minRttMs: number;
  /** Extra one-way delay, uniform in [0, jitterFraction × RTT/2]. */
  jitterFraction: number;
  /** Probability that a datagram is lost. */
  lossRate: number;
}

/**
 * Fitted to WonderNetwork's published city-to-city ping matrix (docs/sim/README.md): 72 RTTs, ln-mean 4.826
 * (median 124.7 ms), ln-sd 0.771. Loss and jitter are assumptions stated there.
 */
export const INTERNET_LATENCY: LatencyModelOptions = {
  rttMedianMs: 124.7,
  rttSigma: 0.771,
  minRttMs: 2,
  jitterFraction: 0.1,
  lossRate: 0.01,
};

export class LatencyModel {
  readonly options: LatencyModelOptions;
  readonly #mu: number;
  readonly #salt: number;

  constructor(options: LatencyModelOptions, seed: string) {
    this.options = options;
    this.#mu = Math.log(options.rttMedianMs);
    this.#salt = createHash('sha256').update(`${seed}/latency`).digest().readUInt32LE(0);
  }

  /** The base RTT between two sites, ms (symmetric, stable for the run). */
  rttMs(siteA: number, siteB: number): number {
    if (siteA === siteB) return this.options.minRttMs;
    const low = Math.min(siteA, siteB);
    const high = Math.max(siteA, siteB);
    // (hash + 0.5) / 2^32 is strictly inside (0, 1).
    const u = (mix(mix(this.#salt ^ low) ^ Math.imul(high, 0x9e3779b1)) + 0.5) / 4_294_967_296;
    const rtt = Math.exp(this.#mu + this.options.rttSigma * inverseNormal(u));
    return Math.max(this.options.minRttMs, rtt);
  }

  /** One datagram's delay from siteA to siteB, or undefined when it is lost. */
  oneWayMs(siteA: number, siteB: number, random: SimRandom): number | undefined {
    if (random.chance(this.options.lossRate)) return undefined;
    const half = this.rttMs(siteA, siteB) / 2;
    return half + random.float() * this.options.jitterFraction * half;
  }
}

/** murmur3's 32-bit finalizer: a well-mixed hash of an integer. */
function mix(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
