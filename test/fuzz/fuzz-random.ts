/**
 * The fuzzer's seeded generator: xorshift128+ (fast; SeededRandom in src/runtime is SHA-256 based and ~50×
 * slower, which a loop of millions of inputs notices). The same seed replays the same inputs.
 */
export class FuzzRandom {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  constructor(seed: number) {
    // splitmix32 spreads a small seed over the whole state (an all-zero state would be stuck at zero).
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next() || 1;
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
  }

  /** A uniformly random 32-bit unsigned integer (xoshiro128**). */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number {
    return maxExclusive <= 1 ? 0 : this.u32() % maxExclusive;
  }

  chance(probability: number): boolean {
    return this.u32() < probability * 0x1_0000_0000;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
