/**
 * Random variates the models draw, from a SimRandom (so from the seed): normal (Box-Muller), log-normal,
 * Weibull, gamma (Marsaglia-Tsang) and the inverse normal CDF (Acklam's rational approximation, relative error
 * < 1.2e-9), which lets a latency be a pure function of a hash instead of a draw.
 */
import type { SimRandom } from './sim-random.ts';

export function standardNormal(random: SimRandom): number {
  // 1 - u keeps the logarithm finite (u may be 0).
  const u = 1 - random.float();
  const v = random.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function logNormal(random: SimRandom, mu: number, sigma: number): number {
  return Math.exp(mu + sigma * standardNormal(random));
}

/** Weibull with shape k and scale λ: λ · (−ln U)^(1/k). */
export function weibull(random: SimRandom, shape: number, scale: number): number {
  return scale * (-Math.log(1 - random.float())) ** (1 / shape);
}

/** Gamma(shape, 1). */
export function gamma(random: SimRandom, shape: number): number {
  if (shape < 1) {
    // Boost: Gamma(a) = Gamma(a + 1) · U^(1/a).
    return gamma(random, shape + 1) * (1 - random.float()) ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random.float();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Γ(x) for x > 0 (Lanczos, g = 7), for Weibull means. */
export function gammaFunction(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gammaFunction(1 - x));
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < g + 2; i++) sum += c[i]! / (z + i);
  const t = z + g + 0.5;
  return Math.sqrt(2 * Math.PI) * t ** (z + 0.5) * Math.exp(-t) * sum;
}

const A = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716];
const A5 = 2.506628277459239;
const B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const C = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734];
const C4 = 4.374664141464968;
const C5 = 2.938163982698783;
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

/** The standard normal quantile of p in (0, 1) (Acklam). */
export function inverseNormal(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return tail(q);
  }
  if (p > 1 - P_LOW) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -tail(q);
  }
  const q = p - 0.5;
  const r = q * q;
  const num = ((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A5;
  const den = ((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1;
  return (num * q) / den;
}

function tail(q: number): number {
  const num = (((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C4;
  return (num * q + C5) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
}
