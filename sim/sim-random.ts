/**
 * Fast seeded randomness for the simulator: sfc32 (Chris Doty-Humphrey's small fast counter generator, from
 * PractRand), seeded from SHA-256 of a label. The runtime's SeededRandom hashes SHA-256 for every 32 bytes, which
 * is fine for a test and too slow for a network that draws a latency, a loss and a transaction id per packet.
 * Not for keys in production: simulated identities and tokens only need to be distinct and reproducible.
 *
 * fork(label) derives an independent stream, so adding a draw in one part of a scenario (a node, the latency
 * model) never shifts the numbers another part sees.
 */
import { createHash } from 'node:crypto';
import type { Random } from '../src/runtime/index.ts';

export class SimRandom implements Random {
  readonly seed: string;
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: string) {
    this.seed = seed;
    const h = createHash('sha256').update(seed).digest();
    this.#a = h.readUInt32LE(0);
    this.#b = h.readUInt32LE(4);
    this.#c = h.readUInt32LE(8);
    this.#d = h.readUInt32LE(12) | 1;
    // Discard the first outputs: sfc32's state mixes in after a few rounds.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** An independent stream for a part of the simulation, named by label. */
  fork(label: string): SimRandom {
    return new SimRandom(`${this.seed}/${label}`);
  }

  uint32(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.#c = (r + t) | 0;
    return t >>> 0;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  float(): number {
    return ((this.uint32() >>> 5) * 67_108_864 + (this.uint32() >>> 6)) / 9_007_199_254_740_992;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.float() * maxExclusive);
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i += 4) {
      const word = this.uint32();
      out[i] = word & 0xff;
      if (i + 1 < n) out[i + 1] = (word >>> 8) & 0xff;
      if (i + 2 < n) out[i + 2] = (word >>> 16) & 0xff;
      if (i + 3 < n) out[i + 3] = word >>> 24;
    }
    return out;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }

  /** A uniformly chosen element (the array must not be empty). */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}
