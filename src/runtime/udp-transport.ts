/**
 * The real DatagramTransport. Two backends behind one class:
 *   - batched (default where it loads): our recvmmsg/sendmmsg addon through BatchedUdpSocket — every datagram
 *     queued in one callback leaves in one syscall, receives come 64 at a time;
 *   - node:dgram: the fallback when the addon is missing, switched off (DHTCHAT_DGRAM_BATCHING=off or
 *     isBatchingAllowed: false), or the host is not an IP literal.
 * Both report IPv4 peers as dotted quads (never IPv4-mapped) and count failures instead of throwing.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { COMPACT_V4_BYTES, hostFromBytes, writeCompactAddress } from './address-bytes.ts';
import { BatchedUdpSocket } from './batched-udp-socket.ts';
import { type DatagramTransport, normalizeHost, type PacketHandler, type UdpAddress } from './datagram.ts';

export interface UdpBindOptions {
  host?: string;
  port?: number;
  /** Socket buffer sizes in bytes (default 4 MiB: a busy DHT node sees bursts). */
  bufferBytes?: number;
  /** Use the batched addon when it is available (default true); false forces node:dgram. */
  isBatchingAllowed?: boolean;
}

/** Largest datagram the batched backend receives: uTP between dhtchat peers on loopback uses 32,000 bytes. */
const MAX_RECEIVE_BYTES = 65536;
/** Source addresses remembered, so a peer's packets share one UdpAddress object (direct-mapped, by ip ^ port). */
const ADDRESS_CACHE_SLOTS = 256;
/**
 * Received datagrams are copied out of the receive ring into views of one arena of this size (a fresh arena
 * when it is used up): one allocation per ~45 uTP packets instead of one each. Small enough that a handler
 * keeping one view (the rest long gone) pins little memory.
 */
const RECEIVE_ARENA_BYTES = 64 * 1024;

export class UdpTransport implements DatagramTransport {
  /** Which backend carries the datagrams ('batched' or 'dgram'). */
  readonly backend: 'batched' | 'dgram';
  readonly #dgram: dgram.Socket | undefined;
  readonly #batched: BatchedUdpSocket | undefined;
  /** A dual-stack (udp6) dgram socket reaches IPv4 peers only through their IPv4-mapped form. */
  readonly #isDualStack: boolean;
  /** Cached: the bound address never changes, and getsockname per packet is measurable. */
  readonly #localAddress: UdpAddress;
  #handler: PacketHandler = () => {};
  #sendErrors = 0;
  readonly #onSent = (err: Error | null): void => {
    if (err) this.#sendErrors++;
  };
  // Batched backend: the last destination, parsed (a uTP connection sends to one address object).
  #lastTo: UdpAddress | undefined;
  readonly #lastAddr = Buffer.alloc(18);
  #lastAddrLength = 0;
  readonly #sourceCache: (UdpAddress | undefined)[] = new Array(ADDRESS_CACHE_SLOTS).fill(undefined);
  readonly #sourceIp = new Int32Array(ADDRESS_CACHE_SLOTS);
  #arena = Buffer.allocUnsafeSlow(RECEIVE_ARENA_BYTES);
  #arenaUsed = 0;

  private constructor(
    socket: { dgram: dgram.Socket; isDualStack: boolean } | { batched: BatchedUdpSocket; host: string },
  ) {
    if ('dgram' in socket) {
      this.backend = 'dgram';
      this.#dgram = socket.dgram;
      this.#batched = undefined;
      this.#isDualStack = socket.isDualStack;
      const bound = socket.dgram.address();
      this.#localAddress = { host: normalizeHost(bound.address), port: bound.port };
      socket.dgram.on('message', (msg, rinfo) => {
        this.#handler(msg, { host: normalizeHost(rinfo.address), port: rinfo.port });
      });
      // An ICMP-unreachable or similar on a UDP socket must not kill the process.
      socket.dgram.on('error', () => {
        this.#sendErrors++;
      });
    } else {
      this.backend = 'batched';
      this.#dgram = undefined;
      this.#batched = socket.batched;
      this.#isDualStack = false;
      this.#localAddress = { host: normalizeHost(socket.host), port: socket.batched.localPort() };
      socket.batched.onReceive((count) => this.#receiveBatch(count));
    }
  }

  static bind(options: UdpBindOptions = {}): Promise<UdpTransport> {
    const host = options.host ?? '0.0.0.0';
    const bufferBytes = options.bufferBytes ?? 4 * 1024 * 1024;
    if ((options.isBatchingAllowed ?? true) && isIP(host) !== 0) {
      try {
        const batched = BatchedUdpSocket.open({
          host,
          port: options.port ?? 0,
          bufferBytes,
          slotBytes: MAX_RECEIVE_BYTES,
          // A uTP burst from one peer arrives in one receive: the kernel passes it up whole, not per datagram.
          isGro: true,
        });
        if (batched !== undefined) return Promise.resolve(new UdpTransport({ batched, host }));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return bindDgram(host, options.port ?? 0, bufferBytes).then((s) => new UdpTransport(s));
  }

  send(bytes: Uint8Array, to: UdpAddress): void {
    const batched = this.#batched;
    if (batched !== undefined) {
      if (to !== this.#lastTo) {
        this.#lastAddrLength = writeCompactAddress(to.host, to.port, this.#lastAddr, 0);
        this.#lastTo = to;
      }
      const addrLength = this.#lastAddrLength;
      if (addrLength === 0 || (addrLength !== COMPACT_V4_BYTES && batched.family === 4)) {
        this.#sendErrors++;
        return;
      }
      // A full send ring drops the datagram (batched.sendsDropped): for UDP that is loss, as a full kernel buffer.
      batched.sendToCompact(bytes, 0, bytes.length, this.#lastAddr, 0, addrLength);
      return;
    }
    try {
      // One callback for every send (dgram reports send failures only to a callback, not as 'error').
      const host = this.#isDualStack && isIP(to.host) === 4 ? `::ffff:${to.host}` : to.host;
      this.#dgram!.send(bytes, to.port, host, this.#onSent);
    } catch {
      this.#sendErrors++;
    }
  }

  onPacket(handler: PacketHandler): void {
    this.#handler = handler;
  }

  localAddress(): UdpAddress {
    return this.#localAddress;
  }

  /** Datagrams that could not be sent (and, batched, those dropped on a full send ring). */
  get sendErrors(): number {
    const batched = this.#batched;
    return this.#sendErrors + (batched === undefined ? 0 : batched.sendErrors + batched.sendsDropped);
  }

  close(): void {
    try {
      if (this.#batched !== undefined) this.#batched.close();
      else this.#dgram!.close();
    } catch {
      // Already closed.
    }
  }

  /** Hands each received datagram on as its own Buffer (handlers may keep it) with a shared address object. */
  #receiveBatch(count: number): void {
    const batched = this.#batched!;
    for (let i = 0; i < count; i++) {
      const length = batched.receiveLength(i);
      if (length < 0) continue;
      if (this.#arenaUsed + length > RECEIVE_ARENA_BYTES) {
        this.#arena = Buffer.allocUnsafeSlow(Math.max(RECEIVE_ARENA_BYTES, length));
        this.#arenaUsed = 0;
      }
      const at = this.#arenaUsed;
      const from = batched.receiveOffset(i);
      batched.receiveViews[batched.receiveSlot(i)]!.copy(this.#arena, at, from, from + length);
      // Keep 8-byte alignment for the next datagram's view.
      this.#arenaUsed = (at + length + 7) & ~7;
      this.#handler(this.#arena.subarray(at, at + length), this.#sourceOf(batched, i));
    }
  }

  #sourceOf(batched: BatchedUdpSocket, slot: number): UdpAddress {
    const port = batched.receivePort(slot);
    if (batched.receiveFamily(slot) === 6) {
      return { host: hostFromBytes(batched.receiveAddr, slot * 18, 16), port };
    }
    const ip = batched.receiveIpv4(slot) | 0;
    const index = (Math.imul(ip ^ port, 0x9e3779b1) >>> 24) & (ADDRESS_CACHE_SLOTS - 1);
    const cached = this.#sourceCache[index];
    if (cached !== undefined && cached.port === port && this.#sourceIp[index] === ip) return cached;
    const address: UdpAddress = { host: hostFromBytes(batched.receiveAddr, slot * 18, 4), port };
    this.#sourceCache[index] = address;
    this.#sourceIp[index] = ip;
    return address;
  }
}

function bindDgram(
  host: string,
  port: number,
  bufferBytes: number,
): Promise<{ dgram: dgram.Socket; isDualStack: boolean }> {
  const type = isIPv6(host) ? 'udp6' : 'udp4';
  const socket = dgram.createSocket({ type, ipv6Only: false, lookup: literalFirstLookup });
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      try {
        socket.setRecvBufferSize(bufferBytes);
        socket.setSendBufferSize(bufferBytes);
      } catch {
        // The kernel may cap buffer sizes; the defaults still work.
      }
      resolve({ dgram: socket, isDualStack: type === 'udp6' });
    });
  });
}

/**
 * dgram resolves every destination through dns.lookup, which answers even an IP literal on the next tick (one
 * tick, closure and request per datagram: a measurable share of a uTP stream's CPU). Literals, which is what
 * the DHT and uTP send to, are answered synchronously; names still go to dns.lookup.
 */
function literalFirstLookup(
  hostname: string,
  options: dns.LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dns.lookup(hostname, options, callback);
}
