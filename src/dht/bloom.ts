/**
 * BEP 33 scrape bloom filters: 256 bytes (m = 2048 bits), k = 2, indexes from the first four bytes of SHA-1 of
 * the peer's IP bytes (never the port, never text). https://www.bittorrent.org/beps/bep_0033.html
 */
import { createHash } from 'node:crypto';
import { ipBytesOf } from './address-class.ts';
import { BEP33_BLOOM_BYTES } from './constants.ts';

const BLOOM_BITS = BEP33_BLOOM_BYTES * 8;
/** BEP 33 §Bloom Filters: two hash functions. */
const BLOOM_HASHES = 2;

export class ScrapeBloom {
  readonly #bits: Buffer;

  constructor(bytes?: Uint8Array) {
    this.#bits = Buffer.alloc(BEP33_BLOOM_BYTES);
    if (bytes !== undefined && bytes.length === BEP33_BLOOM_BYTES) Buffer.from(bytes).copy(this.#bits);
  }

  /** Inserts raw IP bytes (4 or 16). */
  insertIp(ip: Uint8Array): void {
    const h = createHash('sha1').update(ip).digest();
    const index1 = (h[0]! | (h[1]! << 8)) % BLOOM_BITS;
    const index2 = (h[2]! | (h[3]! << 8)) % BLOOM_BITS;
    this.#bits[index1 >> 3] = this.#bits[index1 >> 3]! | (1 << (index1 & 7));
    this.#bits[index2 >> 3] = this.#bits[index2 >> 3]! | (1 << (index2 & 7));
  }

  /** Inserts a host given as text; returns false (and inserts nothing) when it is not an IP address. */
  insertHost(host: string): boolean {
    const ip = ipBytesOf(host);
    if (ip === undefined) return false;
    this.insertIp(ip);
    return true;
  }

  /** ORs another filter into this one (the union of the two sets). */
  union(other: ScrapeBloom): void {
    const theirs = other.toBuffer();
    for (let i = 0; i < BEP33_BLOOM_BYTES; i++) this.#bits[i] = this.#bits[i]! | theirs[i]!;
  }

  /** A copy of the 256 filter bytes, as sent in BFsd/BFpe. */
  toBuffer(): Buffer {
    return Buffer.from(this.#bits);
  }

  /** BEP 33 §Calculating the estimate: the number of distinct IPs the filter holds. */
  estimate(): number {
    return estimateBloomSize(this.#bits);
  }
}

/** size = log(c / m) / (k · log(1 − 1/m)), c = min(m − 1, zero bits). Works on any 256-byte filter received. */
export function estimateBloomSize(bloom: Uint8Array): number {
  let zeroBits = 0;
  for (let i = 0; i < bloom.length; i++) {
    let byte = bloom[i]!;
    let ones = 0;
    while (byte !== 0) {
      byte &= byte - 1;
      ones++;
    }
    zeroBits += 8 - ones;
  }
  const c = Math.min(BLOOM_BITS - 1, zeroBits);
  return Math.log(c / BLOOM_BITS) / (BLOOM_HASHES * Math.log(1 - 1 / BLOOM_BITS));
}
