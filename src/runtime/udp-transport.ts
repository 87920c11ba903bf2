/** The real DatagramTransport: a thin adapter over node:dgram. */
import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { type DatagramTransport, normalizeHost, type PacketHandler, type UdpAddress } from './datagram.ts';

export interface UdpBindOptions {
  host?: string;
  port?: number;
  /** Socket buffer sizes in bytes (default 4 MiB: a busy DHT node sees bursts). */
  bufferBytes?: number;
}

export class UdpTransport implements DatagramTransport {
  readonly #socket: dgram.Socket;
  /** A dual-stack (udp6) socket reaches IPv4 peers only through their IPv4-mapped form. */
  readonly #isDualStack: boolean;
  /** Cached: the bound address never changes, and getsockname per packet is measurable. */
  readonly #localAddress: UdpAddress;
  #handler: PacketHandler = () => {};
  sendErrors = 0;
  readonly #onSent = (err: Error | null): void => {
    if (err) this.sendErrors++;
  };

  private constructor(socket: dgram.Socket, isDualStack: boolean) {
    this.#socket = socket;
    this.#isDualStack = isDualStack;
    const bound = socket.address();
    this.#localAddress = { host: normalizeHost(bound.address), port: bound.port };
    socket.on('message', (msg, rinfo) => {
      this.#handler(msg, { host: normalizeHost(rinfo.address), port: rinfo.port });
    });
    // An ICMP-unreachable or similar on a UDP socket must not kill the process.
    socket.on('error', () => {
      this.sendErrors++;
    });
  }

  static bind(options: UdpBindOptions = {}): Promise<UdpTransport> {
    const host = options.host ?? '0.0.0.0';
    const type = isIPv6(host) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, ipv6Only: false, lookup: literalFirstLookup });
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.bind(options.port ?? 0, host, () => {
        socket.off('error', onError);
        const bytes = options.bufferBytes ?? 4 * 1024 * 1024;
        try {
          socket.setRecvBufferSize(bytes);
          socket.setSendBufferSize(bytes);
        } catch {
          // The kernel may cap buffer sizes; the defaults still work.
        }
        resolve(new UdpTransport(socket, type === 'udp6'));
      });
    });
  }

  send(bytes: Uint8Array, to: UdpAddress): void {
    try {
      // One callback for every send (dgram reports send failures only to a callback, not as 'error').
      const host = this.#isDualStack && isIP(to.host) === 4 ? `::ffff:${to.host}` : to.host;
      this.#socket.send(bytes, to.port, host, this.#onSent);
    } catch {
      this.sendErrors++;
    }
  }

  onPacket(handler: PacketHandler): void {
    this.#handler = handler;
  }

  localAddress(): UdpAddress {
    return this.#localAddress;
  }

  close(): void {
    try {
      this.#socket.close();
    } catch {
      // Already closed.
    }
  }
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
