/**
 * The lab's probe server, run inside the Internet namespace:
 *   node --import tsx test/lab/probe-server.ts
 * Four UDP sockets, on two addresses and two ports each:
 *
 *   A1 198.18.0.1:3478   A2 198.18.0.1:3479
 *   B1 198.18.0.2:3478   B2 198.18.0.2:3479
 *
 * Each answers (JSON, one datagram each way; probe-client.ts is the other side):
 *   {"op":"map","t":n}                     -> {"t":n,"mapped":"ip:port"} from the same socket: how a NAT maps us
 *   {"op":"filter","t":n,"via":"other-address"|"other-port","port"?:p}
 *        -> first {"t":n,"via":…} from the socket on the other address (same port) or the other port (same
 *           address), then {"t":n,"ack":true} from the same socket: what a NAT lets in (RFC 4787 §5). With
 *           `port`, the via packet goes to that port of the sender's address (a port mapping's external port)
 * and STUN Binding requests (RFC 5389) with a Binding success carrying XOR-MAPPED-ADDRESS, from the same socket,
 * for miniupnpd's ext_perform_stun (miniupnpd.ts says why the upnp router needs it). Its CHANGE-REQUEST flags are
 * ignored: every answer comes from the socket asked, so miniupnpd concludes that nothing between it and the
 * Internet translates or filters, which is true of the router itself.
 * Answers only go back to the sender's address, and are no bigger than 64 bytes (never an amplifier).
 * Prints {"event":"ready"} once all four are bound; runs until SIGTERM.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

const ADDRESSES = ['198.18.0.1', '198.18.0.2'] as const;
const PORTS = [3478, 3479] as const;
const MAX_REQUEST_BYTES = 512;
const STUN_MAGIC_COOKIE = 0x2112a442;
const STUN_BINDING_REQUEST = 0x0001;
const STUN_BINDING_SUCCESS = 0x0101;
const STUN_XOR_MAPPED_ADDRESS = 0x0020;

interface Endpoint {
  readonly address: number;
  readonly port: number;
  readonly socket: Socket;
}

const endpoints: Endpoint[] = [];
for (let a = 0; a < ADDRESSES.length; a++) {
  for (let p = 0; p < PORTS.length; p++) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(PORTS[p], ADDRESSES[a], () => resolve());
    });
    endpoints.push({ address: a, port: p, socket });
  }
}
const endpointAt = (address: number, port: number): Endpoint =>
  endpoints.find((e) => e.address === address && e.port === port) as Endpoint;

for (const self of endpoints) {
  self.socket.on('message', (bytes, from) => {
    if (bytes.length > MAX_REQUEST_BYTES) return;
    if (isStunBindingRequest(bytes)) {
      self.socket.send(stunBindingSuccess(bytes, from), from.port, from.address);
      return;
    }
    answerProbe(self, bytes, from);
  });
}
process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
process.on('SIGTERM', () => {
  for (const e of endpoints) e.socket.close();
  process.exit(0);
});

function answerProbe(self: Endpoint, bytes: Buffer, from: RemoteInfo): void {
  let request: { op?: unknown; t?: unknown; via?: unknown; port?: unknown };
  try {
    request = JSON.parse(bytes.toString('utf8')) as typeof request;
  } catch {
    return;
  }
  const t = typeof request.t === 'number' ? request.t : 0;
  const reply = (socket: Socket, body: Record<string, unknown>, port = from.port): void => {
    socket.send(JSON.stringify({ t, ...body }), port, from.address);
  };
  if (request.op === 'map') {
    reply(self.socket, { mapped: `${from.address}:${from.port}` });
  } else if (request.op === 'filter' && (request.via === 'other-address' || request.via === 'other-port')) {
    const other =
      request.via === 'other-address'
        ? endpointAt(1 - self.address, self.port)
        : endpointAt(self.address, 1 - self.port);
    const isPort = typeof request.port === 'number' && Number.isInteger(request.port);
    const port = isPort && request.port !== 0 ? (request.port as number) & 0xffff : from.port;
    reply(other.socket, { via: request.via }, port);
    // The ack follows on the socket the NAT has seen, so "no via packet" means filtered, not lost in flight.
    setTimeout(() => reply(self.socket, { ack: true }), 50);
  }
}

function isStunBindingRequest(bytes: Buffer): boolean {
  return (
    bytes.length >= 20 &&
    bytes.readUInt16BE(0) === STUN_BINDING_REQUEST &&
    bytes.readUInt32BE(4) === STUN_MAGIC_COOKIE
  );
}

/** A Binding success with the request's transaction id and one XOR-MAPPED-ADDRESS (IPv4). */
function stunBindingSuccess(request: Buffer, from: RemoteInfo): Buffer {
  const out = Buffer.alloc(32);
  out.writeUInt16BE(STUN_BINDING_SUCCESS, 0);
  out.writeUInt16BE(12, 2);
  request.copy(out, 4, 4, 20); // magic cookie and transaction id
  out.writeUInt16BE(STUN_XOR_MAPPED_ADDRESS, 20);
  out.writeUInt16BE(8, 22);
  out.writeUInt8(0, 24);
  out.writeUInt8(1, 25); // IPv4
  out.writeUInt16BE(from.port ^ (STUN_MAGIC_COOKIE >>> 16), 26);
  const ip = from.address.split('.').reduce((n, octet) => (n << 8) | Number(octet), 0) >>> 0;
  out.writeUInt32BE((ip ^ STUN_MAGIC_COOKIE) >>> 0, 28);
  return out;
}
