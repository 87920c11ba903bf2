/**
 * A socket that outlives the network under it: the daemon keeps its one UDP socket while the laptop moves from
 * one router to another. moveTo() swaps the transport underneath (closing the old one: its NAT forgets the
 * mappings); the handler stays, and localAddress() reports the new inside address.
 */
import type { DatagramTransport, PacketHandler, UdpAddress } from '../src/runtime/index.ts';

export class RoamingTransport implements DatagramTransport {
  #current: DatagramTransport;
  #handler: PacketHandler = () => {};
  #isClosed = false;

  constructor(initial: DatagramTransport) {
    this.#current = initial;
    this.#attach(initial);
  }

  /** From now on packets go out, and come in, through `next`. */
  moveTo(next: DatagramTransport): void {
    if (this.#isClosed) return;
    const old = this.#current;
    this.#current = next;
    this.#attach(next);
    old.onPacket(() => {});
    old.close();
  }

  send(bytes: Uint8Array, to: UdpAddress): void {
    if (!this.#isClosed) this.#current.send(bytes, to);
  }

  onPacket(handler: PacketHandler): void {
    this.#handler = handler;
  }

  localAddress(): UdpAddress {
    return this.#current.localAddress();
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#current.close();
  }

  #attach(transport: DatagramTransport): void {
    transport.onPacket((bytes, from) => {
      if (this.#current === transport) this.#handler(bytes, from);
    });
  }
}
