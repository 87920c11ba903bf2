/**
 * Which addresses are this node itself, so it never stores, hands out or queries itself: the bound address; on a
 * wildcard socket, any loopback host with our port (only one socket holds a port); our voted external address;
 * and addresses a query carrying our own id came from (ourselves through some other interface).
 * Asked for every packet and every node handed out, so the bound addresses are read from the transports once
 * they are bound (a socket binds once; asking it is a syscall).
 */
import type { DatagramTransport } from '../runtime/index.ts';
import { addressKey } from '../runtime/index.ts';
import type { UdpAddress } from './dht-types.ts';
import type { HostInfoCache } from './host-info.ts';

const MAX_SELF_ADDRESSES = 16;

export class OwnAddresses {
  readonly #transports: readonly DatagramTransport[];
  readonly #hosts: HostInfoCache;
  readonly #externalAddress: () => UdpAddress | undefined;
  /** Addresses seen sending queries with our own id (bounded). */
  readonly #selfAddresses = new Set<string>();
  #locals: readonly UdpAddress[] | undefined;

  constructor(
    transports: ReadonlyArray<DatagramTransport | undefined>,
    hosts: HostInfoCache,
    externalAddress: () => UdpAddress | undefined,
  ) {
    this.#transports = transports.filter((t) => t !== undefined);
    this.#hosts = hosts;
    this.#externalAddress = externalAddress;
  }

  /** A query carrying our own id came from key (addressKey form). */
  noteSelf(key: string): void {
    if (this.#selfAddresses.size < MAX_SELF_ADDRESSES) this.#selfAddresses.add(key);
  }

  has(address: UdpAddress): boolean {
    for (const local of this.#localAddresses()) {
      if (local.port !== address.port) continue;
      if (local.host === address.host) return true;
      const isWildcard = local.host === '0.0.0.0' || local.host === '::';
      if (isWildcard && this.#hosts.get(address.host).cls === 'loopback') return true;
    }
    if (this.#selfAddresses.size > 0 && this.#selfAddresses.has(addressKey(address))) return true;
    const external = this.#externalAddress();
    return external !== undefined && external.host === address.host && external.port === address.port;
  }

  #localAddresses(): readonly UdpAddress[] {
    if (this.#locals !== undefined) return this.#locals;
    const locals = this.#transports.map((t) => t.localAddress());
    // Port 0: not bound yet (a fake transport in a test, say): ask again next time.
    if (locals.every((a) => a.port !== 0)) this.#locals = locals;
    return locals;
  }
}
