/**
 * How long a simulated node stays online: Weibull session lengths with shape < 1 (heavy-tailed: most sessions
 * are short, a few last days), as measured for KAD and BitTorrent (docs/sim/README.md "Churn" for the sources
 * and the parameters). A departure is silent (the node just stops answering, as when a laptop lid closes) and
 * is replaced at once by a fresh node with a new address and id, so the population stays constant.
 *
 * A churn level is the share of the population that leaves (and is replaced) per churn window — by default
 * BEP 5's 15 minutes, the interval after which a node is questionable and a bucket refreshes, so "20 %" reads
 * "a fifth of every routing table has gone stale by the time the table would notice". For a stationary renewal
 * process the departure rate is N / mean session, so the Weibull scale follows from the level:
 *   mean = window / level,  scale λ = mean / Γ(1 + 1/k).
 *
 * Nodes alive when the measurement starts have been up for a while: their remaining time is the residual life
 * of a length-biased session (a random point inside a session picked proportionally to its length), not a fresh
 * session. For a Weibull(k, λ) the length-biased session is λ · G^(1/k) with G ~ Gamma(1 + 1/k, 1).
 */
import { gamma, gammaFunction, weibull } from './distributions.ts';
import type { SimRandom } from './sim-random.ts';

export interface ChurnModelOptions {
  /** Share of the population replaced per windowMs, in [0, 1); 0 disables churn. */
  level: number;
  /** Weibull shape k of session lengths. */
  sessionShape: number;
  /** Default 15 minutes (BEP 5's questionable / refresh interval). */
  windowMs?: number;
}

/** Weibull shape of session lengths (docs/sim/README.md "Churn": KAD and BitTorrent fits lie around 0.3–0.6). */
export const SESSION_SHAPE = 0.5;
export const CHURN_WINDOW_MS = 15 * 60_000;

export class ChurnModel {
  readonly level: number;
  readonly shape: number;
  /** Weibull scale λ, ms (Infinity without churn). */
  readonly scaleMs: number;
  readonly meanSessionMs: number;

  constructor(options: ChurnModelOptions) {
    if (!(options.level >= 0 && options.level < 1)) throw new RangeError('churn level must be in [0, 1)');
    this.level = options.level;
    this.shape = options.sessionShape;
    const windowMs = options.windowMs ?? CHURN_WINDOW_MS;
    this.meanSessionMs = options.level === 0 ? Number.POSITIVE_INFINITY : windowMs / options.level;
    this.scaleMs = this.meanSessionMs / gammaFunction(1 + 1 / this.shape);
  }

  get isActive(): boolean {
    return this.level > 0;
  }

  /** A new node's session length, ms (Infinity without churn). */
  sessionMs(random: SimRandom): number {
    return this.isActive ? weibull(random, this.shape, this.scaleMs) : Number.POSITIVE_INFINITY;
  }

  /** The time left of a node found online at a random moment, ms (Infinity without churn). */
  residualMs(random: SimRandom): number {
    if (!this.isActive) return Number.POSITIVE_INFINITY;
    const lengthBiased = this.scaleMs * gamma(random, 1 + 1 / this.shape) ** (1 / this.shape);
    return random.float() * lengthBiased;
  }
}
