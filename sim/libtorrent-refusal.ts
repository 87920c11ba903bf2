/**
 * Makes a simulated DhtNode answer like libtorrent, the implementation most Mainline nodes run: the dhtchat
 * extension queries (dhtchat_forward, dhtchat_note) are refused with KRPC 203 "unknown message", as libtorrent's
 * node::incoming_request does for a method it does not know that carries no `target` or `info_hash`. Everything
 * else reaches the node unchanged, so the node is real in every other respect.
 *
 * It wraps the node's transport rather than the node: nothing in src/ learns it is simulated. The check is a
 * byte search for the method prefix, so the other 99.9 % of packets cost one indexOf, not a second decode.
 */
import { decodeKrpc, encodeKrpc, KrpcErrorCode } from '../src/dht/index.ts';
import type { DatagramTransport, PacketHandler, UdpAddress } from '../src/runtime/index.ts';

const EXTENSION_PREFIX = Buffer.from('dhtchat_');

export interface RefusalCounters {
  refused: number;
}

export function refuseDhtchatExtension(
  inner: DatagramTransport,
  counters: RefusalCounters = { refused: 0 },
): DatagramTransport {
  return {
    send: (bytes: Uint8Array, to: UdpAddress) => inner.send(bytes, to),
    localAddress: () => inner.localAddress(),
    close: () => inner.close(),
    onPacket(handler: PacketHandler): void {
      inner.onPacket((bytes, from) => {
        if (bytes.indexOf(EXTENSION_PREFIX) >= 0) {
          const decoded = decodeKrpc(bytes);
          if (decoded.ok && decoded.message.kind === 'query') {
            const { method, tid } = decoded.message;
            if (method === 'dhtchat_forward' || method === 'dhtchat_note') {
              counters.refused++;
              inner.send(
                encodeKrpc({ kind: 'error', tid, code: KrpcErrorCode.protocol, message: 'unknown message' }),
                from,
              );
              return;
            }
          }
        }
        handler(bytes, from);
      });
    },
  };
}
