/**
 * An in-memory UDP network on virtual time: every transport it creates is a real DatagramTransport, so the same
 * protocol code runs here as on sockets. Delivery is scheduled on the given Clock with a seeded latency, loss
 * and duplication, so a run replays exactly from its seed.
 */
import {
  addressKey,
  type Clock,
  type DatagramTransport,
  type PacketHandler,
  type Random,
  type UdpAddress,
} from '../src/runtime/index.ts';

export interface LinkModel {
  /** Base one-way latency in ms. */
  latencyMs: number;
  /** Extra uniformly random latency in ms (reorders packets). */
  jitterMs: number;
  /** Probability in [0, 1] that a packet is dropped. */
  lossRate: number;
  /** Probability in [0, 1] that a packet is delivered twice. */
  duplicateRate: number;
  /**
   * Bottleneck rate in bytes per second, per direction (0 = unlimited). Packets wait their turn in a FIFO queue,
   * so a sender that sends too fast sees delay grow (what delay-based congestion control such as LEDBAT reacts to).
   */
  bandwidthBytesPerSec?: number;
  /** Bytes that queue may hold before tail drop (0 = unlimited). */
  queueBytes?: number;
}

const DEFAULT_LINK: LinkModel = { latencyMs: 5, jitterMs: 0, lossRate: 0, duplicateRate: 0 };

export interface NetworkCounters {
  sent: number;
  delivered: number;
  dropped: number;
  unroutable: number;
}

export class MemoryNetwork {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #endpoints = new Map<string, RoutedTransport>();
  /** Per direction (from→to): when the bottleneck is free again, in ms. */
  readonly #linkFreeAtMs = new Map<string, number>();
  link: LinkModel;
  readonly counters: NetworkCounters = { sent: 0, delivered: 0, dropped: 0, unroutable: 0 };

  constructor(clock: Clock, random: Random, link: Partial<LinkModel> = {}) {
    this.#clock = clock;
    this.#random = random;
    this.link = { ...DEFAULT_LINK, ...link };
  }

  /** Binds a transport at address; port 0 picks a free port on that host. */
  createTransport(address: UdpAddress): DatagramTransport {
    let bound = address;
    if (bound.port === 0) {
      let port = 20000;
      while (this.#endpoints.has(addressKey({ host: bound.host, port }))) port++;
      bound = { host: bound.host, port };
    }
    const key = addressKey(bound);
    if (this.#endpoints.has(key)) throw new Error(`address in use: ${key}`);
    const transport = new RoutedTransport(this, bound);
    this.#endpoints.set(key, transport);
    return transport;
  }

  /** @internal */
  unbind(address: UdpAddress): void {
    this.#endpoints.delete(addressKey(address));
  }

  /** @internal */
  route(bytes: Uint8Array, from: UdpAddress, to: UdpAddress): void {
    this.counters.sent++;
    if (this.link.lossRate > 0 && this.#chance(this.link.lossRate)) {
      this.counters.dropped++;
      return;
    }
    const queueMs = this.#queueDelayMs(bytes.length, from, to);
    if (queueMs === undefined) {
      this.counters.dropped++;
      return;
    }
    const copies = this.link.duplicateRate > 0 && this.#chance(this.link.duplicateRate) ? 2 : 1;
    const payload = Buffer.from(bytes);
    for (let i = 0; i < copies; i++) {
      const jitter = this.link.jitterMs > 0 ? this.#random.int(this.link.jitterMs + 1) : 0;
      this.#clock.setTimer(queueMs + this.link.latencyMs + jitter, () => {
        const target = this.#endpoints.get(addressKey(to));
        if (target === undefined) {
          this.counters.unroutable++;
          return;
        }
        this.counters.delivered++;
        target.deliver(payload, from);
      });
    }
  }

  /** Waiting plus transmission time at the bottleneck, or undefined when its queue is full (tail drop). */
  #queueDelayMs(length: number, from: UdpAddress, to: UdpAddress): number | undefined {
    const rate = this.link.bandwidthBytesPerSec ?? 0;
    if (rate <= 0) return 0;
    const key = `${addressKey(from)}>${addressKey(to)}`;
    const nowMs = this.#clock.monotonicMs();
    const startMs = Math.max(nowMs, this.#linkFreeAtMs.get(key) ?? 0);
    const limit = this.link.queueBytes ?? 0;
    if (limit > 0 && ((startMs - nowMs) * rate) / 1000 > limit) return undefined;
    const doneMs = startMs + (length * 1000) / rate;
    this.#linkFreeAtMs.set(key, doneMs);
    return doneMs - nowMs;
  }

  #chance(p: number): boolean {
    return this.#random.int(1_000_000) < p * 1_000_000;
  }
}

/** What a simulated transport sends through: a network or a NAT that routes its datagrams and frees its port. */
export interface DatagramRouter {
  route(bytes: Uint8Array, from: UdpAddress, to: UdpAddress): void;
  unbind(address: UdpAddress): void;
}

/** A transport bound at one address of a simulated router (the memory network, a NAT's inside). */
export class RoutedTransport implements DatagramTransport {
  readonly #router: DatagramRouter;
  readonly #address: UdpAddress;
  #handler: PacketHandler = () => {};
  #isClosed = false;

  constructor(router: DatagramRouter, address: UdpAddress) {
    this.#router = router;
    this.#address = address;
  }

  send(bytes: Uint8Array, to: UdpAddress): void {
    if (!this.#isClosed) this.#router.route(bytes, this.#address, to);
  }

  onPacket(handler: PacketHandler): void {
    this.#handler = handler;
  }

  localAddress(): UdpAddress {
    return this.#address;
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#router.unbind(this.#address);
  }

  deliver(bytes: Buffer, from: UdpAddress): void {
    if (!this.#isClosed) this.#handler(bytes, from);
  }
}
