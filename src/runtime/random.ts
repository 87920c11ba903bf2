/** Randomness as a seam: real (node:crypto) in production, seeded and reproducible in tests and the simulator. */
import { createHash, randomBytes } from 'node:crypto';

export interface Random {
  bytes(n: number): Buffer;
  /** A uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
}

export const cryptoRandom: Random = {
  bytes: (n) => randomBytes(n),
  int(maxExclusive) {
    return randomBytes(4).readUInt32BE(0) % maxExclusive;
  },
};

/**
 * Deterministic randomness from a seed: SHA-256 in counter mode. Not for keys in production; for reproducible
 * tests (print the seed on failure).
 */
export class SeededRandom implements Random {
  readonly seed: string;
  #counter = 0;
  #pool: Buffer = Buffer.alloc(0);

  constructor(seed: string | number) {
    this.seed = String(seed);
  }

  bytes(n: number): Buffer {
    const chunks: Buffer[] = [];
    let have = 0;
    while (have < n) {
      if (this.#pool.length === 0) {
        this.#pool = createHash('sha256')
          .update(`${this.seed}/${this.#counter++}`)
          .digest();
      }
      const take = Math.min(n - have, this.#pool.length);
      chunks.push(this.#pool.subarray(0, take));
      this.#pool = this.#pool.subarray(take);
      have += take;
    }
    return Buffer.concat(chunks, n);
  }

  int(maxExclusive: number): number {
    return this.bytes(4).readUInt32BE(0) % maxExclusive;
  }
}
