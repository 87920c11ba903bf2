/**
 * The daemon's LAN discovery socket (src/chat/local-discovery.ts: friend requests between users behind one NAT):
 * a UDP socket on the BEP 14 port, in the BEP 14 IPv4 group, shared with any BitTorrent client on this host
 * (SO_REUSEADDR: every member socket gets each announce). It multicasts with TTL 1 (the LAN only) and hands what
 * it hears to the chat; it never answers anything itself.
 *
 * Nothing is opened — one `local_discovery_skipped` line says why — when the chat socket is bound to one address
 * (127.0.0.1 in tests: nobody on a LAN could dial it), when every bootstrap contact is loopback (a local test
 * network), or when the port or the group cannot be joined. `--no-local-discovery` turns it off without a line.
 */
import { createSocket } from 'node:dgram';
import type { Logger, UdpAddress } from '../runtime/index.ts';
import { LSD_GROUP_V4, LSD_PORT, MAX_LSD_MESSAGE_BYTES } from '../wire/index.ts';
import { isLoopback } from './port-mapping-wiring.ts';

export interface LocalDiscoveryWiringOptions {
  isEnabled: boolean;
  /** The chat socket's local address (host may be 0.0.0.0). */
  socket: UdpAddress;
  /** The bootstrap contacts' hosts: all loopback means a local test network. */
  bootstrapHosts: readonly string[];
  logger: Logger;
  /** The port to use (tests; default BEP 14's 6771). */
  port?: number;
}

export interface LocalDiscoveryWiring {
  /** For ChatNode's localDiscovery option; undefined when skipped. */
  readonly chat: { send(message: Buffer): void } | undefined;
  /** Where heard datagrams go (set once the chat exists). */
  onMessage(handler: (message: Buffer, from: UdpAddress) => void): void;
  close(): Promise<void>;
}

const OFF: LocalDiscoveryWiring = { chat: undefined, onMessage: () => {}, close: async () => {} };

export async function startLocalDiscovery(opts: LocalDiscoveryWiringOptions): Promise<LocalDiscoveryWiring> {
  if (!opts.isEnabled) return OFF;
  const skip = (reason: string): LocalDiscoveryWiring => {
    opts.logger.info({ event: 'local_discovery_skipped', reason });
    return OFF;
  };
  if (opts.socket.host !== '0.0.0.0' && opts.socket.host !== '::')
    return skip(`socket bound to ${opts.socket.host}`);
  if (opts.bootstrapHosts.length > 0 && opts.bootstrapHosts.every(isLoopback)) {
    return skip('every bootstrap contact is loopback');
  }
  const port = opts.port ?? LSD_PORT;
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  let handler: ((message: Buffer, from: UdpAddress) => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '0.0.0.0', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.addMembership(LSD_GROUP_V4);
    socket.setMulticastTTL(1);
  } catch (error) {
    socket.close();
    return skip(`cannot join ${LSD_GROUP_V4}:${port}: ${String(error)}`);
  }
  // Send failures (no multicast route, an interface going away) cost nothing but this datagram.
  socket.on('error', (error) => opts.logger.debug({ event: 'local_discovery_error', error: String(error) }));
  socket.on('message', (message, rinfo) => {
    if (message.length > MAX_LSD_MESSAGE_BYTES || rinfo.family !== 'IPv4') return;
    handler?.(message, { host: rinfo.address, port: rinfo.port });
  });
  return {
    chat: {
      send: (message) => socket.send(message, port, LSD_GROUP_V4, () => {}),
    },
    onMessage: (h) => {
      handler = h;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
