/**
 * A NAT router for the in-memory network (RFC 4787 vocabulary), so that hole punching runs on virtual time
 * against the behaviours real routers have:
 *
 *   inside hosts ── SimNat (publicHost) ── outside PacketNetwork (a MemoryNetwork, or another SimNat: stacked NATs)
 *
 * - Mapping (RFC 4787 §4.1): endpoint-independent (one external port per inside address, whoever it sends to),
 *   address-dependent or address-and-port-dependent (a new mapping per destination host / host:port: "symmetric").
 * - Port allocation: `preserve` keeps the inside port when it is free on the outside (Linux MASQUERADE), else a
 *   random one; `random` always draws one (MASQUERADE --random-fully) from PORT_RANGE.
 * - Filtering (§5): endpoint-independent (full cone), address-dependent (restricted cone) or
 *   address-and-port-dependent (port-restricted): inbound is let through a mapping only from where its inside
 *   host sent to.
 * - Mapping timeout (§4.3): a mapping idle for mappingTimeoutMs is gone (packets both ways refresh it, as Linux
 *   conntrack does); so are the permissions it held.
 * - Hairpin (§6): an inside host sending to the NAT's own public address reaches the inside host mapped there
 *   (seen as coming from the sender's own mapping), or the packet is dropped.
 * - LAN: inside hosts reach each other directly on their inside addresses.
 *
 * Each mapping owns one transport bound on the outside network at (publicHost, external port), so the outside
 * sees exactly one address per mapping. Expiry is lazy (checked when a packet uses a mapping) plus a sweep when
 * ports are allocated. Every decision is counted; nothing here throws on a packet.
 */
import {
  addressKey,
  type Clock,
  type DatagramTransport,
  type Random,
  type UdpAddress,
} from '../src/runtime/index.ts';
import { RoutedTransport } from './memory-network.ts';

/** Anything that binds transports: a MemoryNetwork, or a SimNat (whose inside is a network for the next NAT). */
export interface PacketNetwork {
  createTransport(address: UdpAddress): DatagramTransport;
}

export type NatDependence = 'endpoint-independent' | 'address-dependent' | 'address-port-dependent';

export interface NatBehaviour {
  readonly mapping: NatDependence;
  readonly filtering: NatDependence;
  readonly portAllocation: 'preserve' | 'random';
  readonly mappingTimeoutMs: number;
  readonly hairpin: boolean;
}

/** Linux's UDP conntrack timeout for a flow that has seen replies is 120 s, unreplied 30 s: we take 30 s. */
const LINUX_UDP_TIMEOUT_MS = 30_000;
/** Ports a NAT allocates from (Linux's default for MASQUERADE without --to-ports). */
export const PORT_RANGE = { first: 1024, last: 65_535 } as const;
const MAX_FLOWS_PER_MAPPING = 4096;

/** The router kinds of the lab (test/lab), as behaviours. */
export const NAT_KINDS = {
  /** Endpoint-independent mapping and filtering: anyone may send to a mapping once it exists. */
  fullCone: {
    mapping: 'endpoint-independent',
    filtering: 'endpoint-independent',
    portAllocation: 'preserve',
    mappingTimeoutMs: LINUX_UDP_TIMEOUT_MS,
    hairpin: true,
  },
  /** Linux MASQUERADE: keeps ports, one mapping for every destination, lets in only what we sent to. */
  portRestricted: {
    mapping: 'endpoint-independent',
    filtering: 'address-port-dependent',
    portAllocation: 'preserve',
    mappingTimeoutMs: LINUX_UDP_TIMEOUT_MS,
    hairpin: false,
  },
  /** MASQUERADE --random-fully: a random port for every destination, port-restricted filtering. */
  symmetric: {
    mapping: 'address-port-dependent',
    filtering: 'address-port-dependent',
    portAllocation: 'random',
    mappingTimeoutMs: LINUX_UDP_TIMEOUT_MS,
    hairpin: false,
  },
} as const satisfies Record<string, NatBehaviour>;

export interface NatCounters {
  outbound: number;
  inbound: number;
  /** Inbound that no live mapping, or the mapping's filter, let through. */
  droppedInbound: number;
  /** To our own public address with hairpin off. */
  droppedHairpin: number;
  hairpinned: number;
  lan: number;
  mappingsCreated: number;
  mappingsExpired: number;
}

interface Mapping {
  readonly key: string;
  readonly inside: UdpAddress;
  readonly external: UdpAddress;
  readonly transport: DatagramTransport;
  lastActiveMs: number;
  /**
   * Filter key (host, or host:port) → when traffic last passed to or from it: each is its own flow, timing out
   * on its own (Linux conntrack); unused with endpoint-independent filtering.
   */
  readonly permitted: Map<string, number>;
}

export interface NatOptions {
  readonly outside: PacketNetwork;
  readonly publicHost: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly behaviour: NatBehaviour;
  /** One-way latency between two inside hosts (default 1 ms). */
  readonly lanLatencyMs?: number;
}

export class SimNat implements PacketNetwork {
  readonly publicHost: string;
  readonly behaviour: NatBehaviour;
  readonly counters: NatCounters = {
    outbound: 0,
    inbound: 0,
    droppedInbound: 0,
    droppedHairpin: 0,
    hairpinned: 0,
    lan: 0,
    mappingsCreated: 0,
    mappingsExpired: 0,
  };
  readonly #opts: NatOptions;
  readonly #inside = new Map<string, RoutedTransport>();
  /** Mapping key (see #mappingKey) → mapping. */
  readonly #mappings = new Map<string, Mapping>();
  /** External port → mapping. */
  readonly #byPort = new Map<number, Mapping>();

  constructor(opts: NatOptions) {
    this.#opts = opts;
    this.publicHost = opts.publicHost;
    this.behaviour = opts.behaviour;
  }

  /** Binds an inside host's socket; port 0 picks a free one (as the OS would for an ephemeral socket). */
  createTransport(address: UdpAddress): DatagramTransport {
    let bound = address;
    if (bound.port === 0) {
      let port = 40_000;
      while (this.#inside.has(addressKey({ host: bound.host, port }))) port++;
      bound = { host: bound.host, port };
    }
    const key = addressKey(bound);
    if (this.#inside.has(key)) throw new Error(`address in use inside the NAT: ${key}`);
    const transport = new RoutedTransport(this, bound);
    this.#inside.set(key, transport);
    return transport;
  }

  /** Live mappings (tests look at how many and where). */
  mappings(): Array<{ inside: UdpAddress; external: UdpAddress }> {
    this.#sweep();
    return [...this.#mappings.values()].map((m) => ({ inside: m.inside, external: m.external }));
  }

  /** Drops every mapping (a router reboot, or the user has left this network). */
  reset(): void {
    for (const m of this.#mappings.values()) m.transport.close();
    this.#mappings.clear();
    this.#byPort.clear();
  }

  /** @internal */
  unbind(address: UdpAddress): void {
    this.#inside.delete(addressKey(address));
    for (const m of [...this.#mappings.values()]) {
      if (addressKey(m.inside) === addressKey(address)) this.#remove(m);
    }
  }

  /** @internal An inside host sends. */
  route(bytes: Uint8Array, from: UdpAddress, to: UdpAddress): void {
    const lan = this.#inside.get(addressKey(to));
    if (lan !== undefined) {
      this.counters.lan++;
      const payload = Buffer.from(bytes);
      this.#opts.clock.setTimer(this.#opts.lanLatencyMs ?? 1, () => lan.deliver(payload, from));
      return;
    }
    if (to.host === this.publicHost) {
      this.#hairpin(bytes, from, to);
      return;
    }
    const mapping = this.#mappingFor(from, to);
    if (mapping === undefined) return;
    mapping.permitted.set(this.#filterKey(to), this.#opts.clock.monotonicMs());
    if (mapping.permitted.size > MAX_FLOWS_PER_MAPPING) this.#pruneFlows(mapping);
    this.counters.outbound++;
    mapping.transport.send(bytes, to);
  }

  #hairpin(bytes: Uint8Array, from: UdpAddress, to: UdpAddress): void {
    if (!this.behaviour.hairpin) {
      this.counters.droppedHairpin++;
      return;
    }
    const own = this.#mappingFor(from, to);
    const target = this.#live(this.#byPort.get(to.port));
    if (own === undefined || target === undefined) {
      this.counters.droppedHairpin++;
      return;
    }
    own.permitted.set(this.#filterKey(to), this.#opts.clock.monotonicMs());
    if (!this.#isPermitted(target, own.external)) {
      this.counters.droppedInbound++;
      return;
    }
    this.counters.hairpinned++;
    const payload = Buffer.from(bytes);
    this.#opts.clock.setTimer(this.#opts.lanLatencyMs ?? 1, () =>
      this.#inside.get(addressKey(target.inside))?.deliver(payload, own.external),
    );
  }

  #onOutsidePacket(mapping: Mapping, bytes: Buffer, from: UdpAddress): void {
    if (this.#live(mapping) === undefined || !this.#isPermitted(mapping, from)) {
      this.counters.droppedInbound++;
      return;
    }
    const nowMs = this.#opts.clock.monotonicMs();
    mapping.lastActiveMs = nowMs;
    if (this.behaviour.filtering !== 'endpoint-independent')
      mapping.permitted.set(this.#filterKey(from), nowMs);
    this.counters.inbound++;
    this.#inside.get(addressKey(mapping.inside))?.deliver(bytes, from);
  }

  /** Forgets flows that timed out (a DHT node talks to thousands of addresses through one mapping). */
  #pruneFlows(mapping: Mapping): void {
    const nowMs = this.#opts.clock.monotonicMs();
    for (const [key, lastMs] of mapping.permitted) {
      if (nowMs - lastMs > this.behaviour.mappingTimeoutMs) mapping.permitted.delete(key);
    }
  }

  #isPermitted(mapping: Mapping, from: UdpAddress): boolean {
    if (this.behaviour.filtering === 'endpoint-independent') return true;
    const lastMs = mapping.permitted.get(this.#filterKey(from));
    return lastMs !== undefined && this.#opts.clock.monotonicMs() - lastMs <= this.behaviour.mappingTimeoutMs;
  }

  #filterKey(address: UdpAddress): string {
    return this.behaviour.filtering === 'address-dependent' ? address.host : addressKey(address);
  }

  #mappingKey(inside: UdpAddress, to: UdpAddress): string {
    switch (this.behaviour.mapping) {
      case 'endpoint-independent':
        return addressKey(inside);
      case 'address-dependent':
        return `${addressKey(inside)}>${to.host}`;
      case 'address-port-dependent':
        return `${addressKey(inside)}>${addressKey(to)}`;
    }
  }

  #mappingFor(inside: UdpAddress, to: UdpAddress): Mapping | undefined {
    const key = this.#mappingKey(inside, to);
    const nowMs = this.#opts.clock.monotonicMs();
    const known = this.#live(this.#mappings.get(key));
    if (known !== undefined) {
      known.lastActiveMs = nowMs;
      return known;
    }
    const port = this.#allocatePort(inside.port);
    if (port === undefined) return undefined;
    const external = { host: this.publicHost, port };
    const transport = this.#opts.outside.createTransport(external);
    const mapping: Mapping = { key, inside, external, transport, lastActiveMs: nowMs, permitted: new Map() };
    transport.onPacket((bytes, from) => this.#onOutsidePacket(mapping, bytes, from));
    this.#mappings.set(key, mapping);
    this.#byPort.set(port, mapping);
    this.counters.mappingsCreated++;
    return mapping;
  }

  #allocatePort(insidePort: number): number | undefined {
    this.#sweep();
    if (this.behaviour.portAllocation === 'preserve' && !this.#byPort.has(insidePort)) return insidePort;
    const span = PORT_RANGE.last - PORT_RANGE.first + 1;
    for (let tries = 0; tries < 64; tries++) {
      const port = PORT_RANGE.first + this.#opts.random.int(span);
      if (!this.#byPort.has(port)) return port;
    }
    return undefined;
  }

  /** The mapping if it has not timed out; a timed-out one is removed. */
  #live(mapping: Mapping | undefined): Mapping | undefined {
    if (mapping === undefined) return undefined;
    if (this.#opts.clock.monotonicMs() - mapping.lastActiveMs <= this.behaviour.mappingTimeoutMs)
      return mapping;
    this.#remove(mapping);
    this.counters.mappingsExpired++;
    return undefined;
  }

  #sweep(): void {
    for (const m of [...this.#mappings.values()]) this.#live(m);
  }

  #remove(mapping: Mapping): void {
    if (this.#mappings.get(mapping.key) === mapping) this.#mappings.delete(mapping.key);
    if (this.#byPort.get(mapping.external.port) === mapping) this.#byPort.delete(mapping.external.port);
    mapping.transport.close();
  }
}
