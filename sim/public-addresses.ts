/**
 * Public IPv4 addresses for simulated hosts: drawn uniformly from the seed, never twice in a run, never from a
 * private, loopback, multicast or otherwise reserved range (the DHT would refuse those, and BEP 42 exempts
 * private ones, which would hide what the simulation is about). Drawn at random rather than counted up so that
 * /24 neighbourhoods (the routing table's subnet rule) are as sparse as on the Internet.
 */
import { isPublicHost } from '../src/dht/index.ts';
import type { SimRandom } from './sim-random.ts';

export class PublicAddresses {
  readonly #random: SimRandom;
  readonly #used = new Set<number>();

  constructor(random: SimRandom) {
    this.#random = random;
  }

  /** A fresh public IPv4 host. */
  next(): string {
    for (;;) {
      const ip = this.#random.uint32();
      if (this.#used.has(ip)) continue;
      const host = `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
      if (!isPublicHost(host)) continue;
      this.#used.add(ip);
      return host;
    }
  }

  /** A fresh host inside the given /24 (a Sybil attacker's own block), or undefined when the block is full. */
  nextInBlock(prefix24: string): string | undefined {
    const [a, b, c] = prefix24.split('.').map(Number) as [number, number, number];
    const base = ((a << 24) | (b << 16) | (c << 8)) >>> 0;
    for (let last = 1; last < 255; last++) {
      const ip = (base | last) >>> 0;
      if (this.#used.has(ip)) continue;
      this.#used.add(ip);
      return `${a}.${b}.${c}.${last}`;
    }
    return undefined;
  }
}
