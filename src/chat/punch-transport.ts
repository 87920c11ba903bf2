/**
 * The chat socket with two additions the birthday technique needs (punch-birthday.ts), between the UDP socket
 * and the demultiplexer (KRPC / uTP):
 *
 * - Punch packets: a datagram whose first byte is PUNCH_PACKET_MAGIC (neither KRPC's 'd' nor a uTP header) is
 *   handed to onPunchPacket, never to the demultiplexer.
 * - Routes: when a birthday succeeds on one of many extra sockets, the session must use that socket's NAT
 *   mapping (a port-randomising NAT gives no other the same). addRoute(remote, side) sends everything for
 *   `remote` through `side` and hands what `side` receives from `remote` to the demultiplexer as if it came on
 *   the main socket: uTP and KRPC above never know. A route unused for ROUTE_IDLE_MS (uTP keepalives run every
 *   29 s while a session lives) is closed with its socket; at most MAX_ROUTES.
 *
 *   UDP socket ─ PunchTransport ─ DatagramDemux ─ DHT / uTP
 *                  ├ side socket (route to friend A)
 *                  └ punch packets → punch-birthday.ts
 */
import {
  addressKey,
  type Clock,
  type DatagramTransport,
  type PacketHandler,
  type Timer,
  type UdpAddress,
} from '../runtime/index.ts';

export const PUNCH_PACKET_MAGIC = 0xdc;
export const ROUTE_IDLE_MS = 120_000;
export const MAX_ROUTES = 64;

interface Route {
  readonly remote: UdpAddress;
  readonly side: DatagramTransport;
  lastUsedMs: number;
}

export class PunchTransport implements DatagramTransport {
  readonly #inner: DatagramTransport;
  readonly #clock: Clock;
  readonly #routes = new Map<string, Route>();
  #handler: PacketHandler = () => {};
  #punchHandler: PacketHandler = () => {};
  #sweepTimer: Timer | undefined;
  #isClosed = false;

  constructor(inner: DatagramTransport, clock: Clock) {
    this.#inner = inner;
    this.#clock = clock;
    inner.onPacket((bytes, from) => this.#receive(bytes, from));
  }

  send(bytes: Uint8Array, to: UdpAddress): void {
    const route = this.#routes.get(addressKey(to));
    if (route === undefined) {
      this.#inner.send(bytes, to);
      return;
    }
    route.lastUsedMs = this.#clock.monotonicMs();
    route.side.send(bytes, to);
  }

  onPacket(handler: PacketHandler): void {
    this.#handler = handler;
  }

  /** Receives the punch packets that arrive on the main socket. */
  onPunchPacket(handler: PacketHandler): void {
    this.#punchHandler = handler;
  }

  /** Sends on the main socket, whatever the routes (a probe goes out from the one mapping the friend knows). */
  sendDirect(bytes: Uint8Array, to: UdpAddress): void {
    this.#inner.send(bytes, to);
  }

  localAddress(): UdpAddress {
    return this.#inner.localAddress();
  }

  /** From now on `remote` is reached through `side` (which this transport now owns and closes). */
  addRoute(remote: UdpAddress, side: DatagramTransport): boolean {
    if (this.#isClosed) {
      side.close();
      return false;
    }
    const key = addressKey(remote);
    this.#routes.get(key)?.side.close();
    this.#routes.delete(key);
    if (this.#routes.size >= MAX_ROUTES) {
      side.close();
      return false;
    }
    const route: Route = { remote, side, lastUsedMs: this.#clock.monotonicMs() };
    this.#routes.set(key, route);
    side.onPacket((bytes, from) => {
      // Only the friend's endpoint is routed: anything else reaching this socket is not ours to hear.
      if (addressKey(from) !== key || this.#routes.get(key) !== route) return;
      route.lastUsedMs = this.#clock.monotonicMs();
      this.#receive(bytes, from);
    });
    this.#armSweep();
    return true;
  }

  routeCount(): number {
    return this.#routes.size;
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#sweepTimer?.cancel();
    for (const route of this.#routes.values()) route.side.close();
    this.#routes.clear();
    this.#inner.close();
  }

  #receive(bytes: Buffer, from: UdpAddress): void {
    if (bytes[0] === PUNCH_PACKET_MAGIC) this.#punchHandler(bytes, from);
    else this.#handler(bytes, from);
  }

  #armSweep(): void {
    if (this.#sweepTimer !== undefined || this.#isClosed) return;
    this.#sweepTimer = this.#clock.setTimer(ROUTE_IDLE_MS / 4, () => {
      this.#sweepTimer = undefined;
      const nowMs = this.#clock.monotonicMs();
      for (const [key, route] of this.#routes) {
        if (nowMs - route.lastUsedMs <= ROUTE_IDLE_MS) continue;
        route.side.close();
        this.#routes.delete(key);
      }
      if (this.#routes.size > 0) this.#armSweep();
    });
  }
}
