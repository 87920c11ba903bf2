/**
 * The simulated Internet: hosts bound by address, datagrams delivered after the latency model's delay (or lost)
 * through the event scheduler. It implements the runtime's DatagramTransport seam, so DhtNodes, uTP endpoints and
 * ChatNodes run on it unmodified; createTransport has MemoryNetwork's shape, so a NAT model written for that
 * (the punch work's sim/nat.ts) can bind its outside mappings here too.
 *
 * Every host belongs to a site (one per public IP by default: a NAT's inside hosts share their router's site),
 * and the latency model gives each pair of sites its RTT. A datagram to a host nobody has bound (a node that left:
 * its site is forgotten) is dropped at once and counted; one to a bound host whose port closed before it arrived
 * vanishes on arrival. Either way the sender only sees a timeout, as on the Internet.
 */
import type { DatagramTransport, PacketHandler, UdpAddress } from '../src/runtime/index.ts';
import { DatagramSlab } from './datagram-slab.ts';
import type { LatencyModel } from './latency-model.ts';
import type { SimRandom } from './sim-random.ts';
import type { EventScheduler } from './event-scheduler.ts';

export interface InternetCounters {
  sent: number;
  bytesSent: number;
  delivered: number;
  lost: number;
  /** Arrived where nobody is bound (the host left, or never was). */
  unroutable: number;
}

const endpointKey = (host: string, port: number): string => `${host}:${port}`;

export class Internet {
  readonly scheduler: EventScheduler;
  readonly latency: LatencyModel;
  readonly counters: InternetCounters = { sent: 0, bytesSent: 0, delivered: 0, lost: 0, unroutable: 0 };
  readonly #random: SimRandom;
  readonly #slab = new DatagramSlab();
  readonly #endpoints = new Map<string, InternetTransport>();
  readonly #sites = new Map<string, number>();
  #nextSite = 0;
  /** Sends are reported here first (tests and reports watch traffic without wrapping every transport). */
  onSend: ((bytes: Uint8Array, from: UdpAddress, to: UdpAddress) => void) | undefined;

  constructor(scheduler: EventScheduler, latency: LatencyModel, random: SimRandom) {
    this.scheduler = scheduler;
    this.latency = latency;
    this.#random = random;
  }

  /** The site of a host: given explicitly once (setSite), else one new site per host on first use. */
  siteOf(host: string): number {
    let site = this.#sites.get(host);
    if (site === undefined) {
      site = this.#nextSite++;
      this.#sites.set(host, site);
    }
    return site;
  }

  /** Puts host in the given site (call before binding it): hosts of one LAN share one. */
  setSite(host: string, site: number): void {
    this.#sites.set(host, site);
  }

  /** A site number no host has yet (for a LAN whose hosts setSite to it). */
  newSite(): number {
    return this.#nextSite++;
  }

  /** Forgets a host's site (a node that left for good), keeping the map as large as the live population. */
  forgetHost(host: string): void {
    this.#sites.delete(host);
  }

  /** Binds a transport at address; port 0 picks a free port on that host. */
  createTransport(address: UdpAddress): DatagramTransport {
    let port = address.port;
    if (port === 0) {
      port = 49_152;
      while (this.#endpoints.has(endpointKey(address.host, port))) port++;
    }
    const key = endpointKey(address.host, port);
    if (this.#endpoints.has(key)) throw new Error(`simulated address in use: ${key}`);
    const transport = new InternetTransport(this, { host: address.host, port }, this.siteOf(address.host));
    this.#endpoints.set(key, transport);
    return transport;
  }

  isBound(address: UdpAddress): boolean {
    return this.#endpoints.has(endpointKey(address.host, address.port));
  }

  get boundCount(): number {
    return this.#endpoints.size;
  }

  /** @internal */
  unbind(transport: InternetTransport): void {
    const a = transport.address;
    const key = endpointKey(a.host, a.port);
    if (this.#endpoints.get(key) === transport) this.#endpoints.delete(key);
  }

  /** @internal */
  route(bytes: Uint8Array, from: InternetTransport, to: UdpAddress): void {
    this.counters.sent++;
    this.counters.bytesSent += bytes.length;
    this.onSend?.(bytes, from.address, to);
    const toSite = this.#sites.get(to.host);
    if (toSite === undefined) {
      // Nobody ever bound there, or the host left for good: the sender sees a timeout either way, and a stale
      // routing table entry must not grow the site map.
      this.counters.unroutable++;
      return;
    }
    const delayMs = this.latency.oneWayMs(from.site, toSite, this.#random);
    if (delayMs === undefined) {
      this.counters.lost++;
      return;
    }
    // A copy: the sender may reuse its buffer once send() returns.
    const payload = this.#slab.copy(bytes);
    const source = from.address;
    const key = endpointKey(to.host, to.port);
    this.scheduler.setTimer(delayMs, () => {
      const target = this.#endpoints.get(key);
      if (target === undefined) {
        this.counters.unroutable++;
        return;
      }
      this.counters.delivered++;
      target.deliver(payload, source);
    });
  }
}

class InternetTransport implements DatagramTransport {
  readonly address: UdpAddress;
  readonly site: number;
  readonly #internet: Internet;
  #handler: PacketHandler = () => {};
  #isClosed = false;

  constructor(internet: Internet, address: UdpAddress, site: number) {
    this.#internet = internet;
    this.address = address;
    this.site = site;
  }

  send(bytes: Uint8Array, to: UdpAddress): void {
    if (!this.#isClosed) this.#internet.route(bytes, this, to);
  }

  onPacket(handler: PacketHandler): void {
    this.#handler = handler;
  }

  localAddress(): UdpAddress {
    return this.address;
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#handler = () => {};
    this.#internet.unbind(this);
  }

  deliver(bytes: Buffer, from: UdpAddress): void {
    if (!this.#isClosed) this.#handler(bytes, from);
  }
}
