/**
 * Keeps a few introducers (docs/PROTOCOL.md "Reaching a friend behind NAT"): dhtchat DHT nodes we ping every
 * keepaliveMs, which holds our NAT's mapping to them open, so they can forward a friend's "punch to me" note to
 * us (src/dht/note-relay.ts). They go into our rendezvous records; their pings also tell us our endpoint as the
 * world sees it (their `ip` field), which goes into the records as well.
 *
 * A candidate (a DHT node that answered us) becomes an introducer once it proved the whole path: we ping it
 * (learning our address as it sees us), then ask it to forward an empty note to that address — an ack means it
 * speaks the extension and will forward to us (the empty note comes back to us and is ignored). An introducer
 * that misses maxFailures pings in a row is replaced; a candidate that failed is not retried for retryAfterMs.
 * While fewer than `count` are kept, ticks come every fillMs (doubling up to keepaliveMs while rounds find none).
 */
import type { DhtNode } from '../dht/index.ts';
import {
  addressKey,
  type Clock,
  type Logger,
  nullLogger,
  type Random,
  type Timer,
  type UdpAddress,
} from '../runtime/index.ts';

export const INTRODUCER_TIMING = {
  count: 3,
  keepaliveMs: 25_000,
  fillMs: 5000,
  probesPerTick: 4,
  maxFailures: 2,
  retryAfterMs: 10 * 60_000,
  candidatesAsked: 32,
} as const;

export interface IntroducerKeeperOptions {
  readonly dht: Pick<DhtNode, 'ping' | 'forwardNote' | 'answeringNodes'>;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  /** The introducers or our observed endpoint changed (republish the records). */
  onChange?(): void;
}

interface Introducer {
  readonly address: UdpAddress;
  failures: number;
  /** How it last saw us (its `ip` field). */
  seen: UdpAddress | undefined;
}

const EMPTY_NOTE = Buffer.alloc(0);

export class IntroducerKeeper {
  readonly #opts: IntroducerKeeperOptions;
  readonly #log: Logger;
  readonly #kept = new Map<string, Introducer>();
  /** Candidates that failed a probe or were dropped: addressKey → when. */
  readonly #failed = new Map<string, number>();
  #observed: UdpAddress | undefined;
  /** Delay between fill rounds: fillMs, doubled (up to keepaliveMs) after a round that found nobody. */
  #fillDelayMs: number = INTRODUCER_TIMING.fillMs;
  #timer: Timer | undefined;
  #ticking: Promise<void> | undefined;
  #isClosed = false;

  constructor(opts: IntroducerKeeperOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nullLogger).child({ component: 'introducers' });
  }

  /** Starts ticking (the first tick at once). */
  start(): void {
    if (this.#isClosed || this.#timer !== undefined || this.#ticking !== undefined) return;
    void this.tick();
  }

  close(): void {
    this.#isClosed = true;
    this.#timer?.cancel();
  }

  introducers(): UdpAddress[] {
    return [...this.#kept.values()].map((i) => ({ ...i.address }));
  }

  /** Our endpoint as our introducers last saw it (undefined until one answered). */
  observedEndpoint(): UdpAddress | undefined {
    return this.#observed === undefined ? undefined : { ...this.#observed };
  }

  /** One round: keep-alive pings, then probes to fill up. Resolves when done; never rejects. */
  tick(): Promise<void> {
    if (this.#ticking !== undefined) return this.#ticking;
    this.#ticking = this.#tickOnce()
      .catch((err: unknown) => this.#log.warn({ err: String(err) }, 'introducer tick failed'))
      .finally(() => {
        this.#ticking = undefined;
        this.#schedule();
      });
    return this.#ticking;
  }

  async #tickOnce(): Promise<void> {
    const before = this.#fingerprint();
    await Promise.all([...this.#kept.values()].map((i) => this.#keepAlive(i)));
    if (this.#kept.size < INTRODUCER_TIMING.count && !this.#isClosed) await this.#fill();
    this.#observed = this.#vote();
    if (this.#fingerprint() !== before && !this.#isClosed) {
      this.#log.info(
        {
          introducers: this.introducers().map(addressKey),
          observed: this.#observed && addressKey(this.#observed),
        },
        'introducers changed',
      );
      this.#opts.onChange?.();
    }
  }

  async #keepAlive(i: Introducer): Promise<void> {
    try {
      const r = await this.#opts.dht.ping(i.address);
      i.failures = 0;
      if (r.yourAddress !== undefined) i.seen = r.yourAddress;
    } catch {
      i.failures++;
      if (i.failures >= INTRODUCER_TIMING.maxFailures) {
        this.#kept.delete(addressKey(i.address));
        this.#failed.set(addressKey(i.address), this.#opts.clock.monotonicMs());
      }
    }
  }

  async #fill(): Promise<void> {
    const nowMs = this.#opts.clock.monotonicMs();
    const candidates = this.#opts.dht
      .answeringNodes(INTRODUCER_TIMING.candidatesAsked)
      .map((n) => n.address)
      .filter((a) => {
        const key = addressKey(a);
        if (this.#kept.has(key)) return false;
        const failedMs = this.#failed.get(key);
        return failedMs === undefined || nowMs - failedMs > INTRODUCER_TIMING.retryAfterMs;
      });
    const wanted = INTRODUCER_TIMING.count - this.#kept.size;
    const probes = candidates.slice(0, Math.min(INTRODUCER_TIMING.probesPerTick, wanted + 1));
    const accepted = await Promise.all(probes.map((a) => this.#probe(a)));
    this.#fillDelayMs = accepted.some((seen) => seen !== undefined)
      ? INTRODUCER_TIMING.fillMs
      : Math.min(INTRODUCER_TIMING.keepaliveMs, this.#fillDelayMs * 2);
    for (const [index, seen] of accepted.entries()) {
      const address = probes[index]!;
      if (seen === undefined) this.#failed.set(addressKey(address), nowMs);
      else if (this.#kept.size < INTRODUCER_TIMING.count)
        this.#kept.set(addressKey(address), { address, failures: 0, seen });
    }
    if (this.#failed.size > 1024) this.#failed.clear(); // bounded; forgetting only means re-probing
  }

  /** Ping, then an empty note forwarded to ourselves: how it sees us when both succeeded, else undefined. */
  async #probe(address: UdpAddress): Promise<UdpAddress | undefined> {
    try {
      const r = await this.#opts.dht.ping(address);
      if (r.yourAddress === undefined) return undefined;
      const ack = await this.#opts.dht.forwardNote(address, r.yourAddress, EMPTY_NOTE);
      return ack.yourAddress ?? r.yourAddress;
    } catch {
      return undefined;
    }
  }

  /**
   * Our endpoint: the one most introducers report; on a tie the current one stays. Behind a symmetric NAT each
   * introducer sees another port, and this keeps the record (and its republishing) from flapping.
   */
  #vote(): UdpAddress | undefined {
    const counts = new Map<string, { address: UdpAddress; n: number }>();
    for (const i of this.#kept.values()) {
      if (i.seen === undefined) continue;
      const key = addressKey(i.seen);
      const entry = counts.get(key) ?? { address: i.seen, n: 0 };
      entry.n++;
      counts.set(key, entry);
    }
    const best = Math.max(0, ...[...counts.values()].map((c) => c.n));
    if (best === 0) return this.#observed;
    const current = this.#observed === undefined ? undefined : counts.get(addressKey(this.#observed));
    if (current !== undefined && current.n === best) return this.#observed;
    return [...counts.values()].find((c) => c.n === best)?.address;
  }

  #schedule(): void {
    if (this.#isClosed) return;
    const isFull = this.#kept.size >= INTRODUCER_TIMING.count;
    const baseMs = isFull ? INTRODUCER_TIMING.keepaliveMs : this.#fillDelayMs;
    // ±10 % jitter so many nodes do not ping an introducer in lockstep.
    const delayMs = Math.round(baseMs * (0.9 + this.#opts.random.int(201) / 1000));
    this.#timer?.cancel();
    this.#timer = this.#opts.clock.setTimer(delayMs, () => {
      this.#timer = undefined;
      void this.tick();
    });
  }

  #fingerprint(): string {
    const observed = this.#observed === undefined ? '' : addressKey(this.#observed);
    return `${[...this.#kept.keys()].join(',')}|${observed}`;
  }
}
