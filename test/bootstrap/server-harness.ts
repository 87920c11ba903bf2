/** Helpers shared by the bootstrap server tests: a server on captured senders and KRPC client packets. */
import { BootstrapServer, type BootstrapServerOptions } from '../../src/bootstrap/index.ts';
import { nodeIdForHost } from '../../src/dht/index.ts';
import { hostFromBytes, portFromBytes, SeededRandom } from '../../src/runtime/index.ts';
import { type BDict, type BValue, decodeBencode, encodeBencode } from '../../src/wire/index.ts';

export interface Sent {
  bytes: Buffer;
  host: string;
  port: number;
}

export function makeServer(options: Partial<BootstrapServerOptions> = {}): {
  server: BootstrapServer;
  sent: Sent[];
  random: SeededRandom;
} {
  const random = new SeededRandom('bootstrap-server');
  const sent: Sent[] = [];
  const send = (
    bytes: Buffer,
    length: number,
    addr: Uint8Array,
    offset: number,
    addrLength: number,
  ): boolean => {
    const ipLength = addrLength === 6 ? 4 : 16;
    sent.push({
      bytes: Buffer.from(bytes.subarray(0, length)),
      host: hostFromBytes(addr, offset, ipLength),
      port: portFromBytes(addr, offset, ipLength),
    });
    return true;
  };
  const server = new BootstrapServer({
    sockets: [
      { family: 4, ownId: nodeIdForHost('127.0.0.1', random), send },
      { family: 6, ownId: nodeIdForHost('::1', random), send },
    ],
    masterSecret: Buffer.alloc(32, 9),
    randomBytes: (n) => random.bytes(n),
    nodesCapacity: 1000,
    pingQueueCapacity: 1000,
    pingDelayMs: 1000,
    secretRotateMs: 10_000,
    isPrivateAllowed: true,
    ...options,
  });
  return { server, sent, random };
}

export function dict(entries: Record<string, BValue | undefined>): BDict {
  const d = Object.create(null) as BDict;
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) d[k] = v;
  return d;
}

export function query(
  method: string,
  id: Buffer,
  extra: { tid?: string; want?: string[]; ro?: boolean; target?: Buffer } = {},
): Buffer {
  const a = dict({
    id,
    target: method === 'ping' ? undefined : (extra.target ?? Buffer.alloc(20, 0x33)),
    want: extra.want?.map((w) => Buffer.from(w)),
  });
  return encodeBencode(
    dict({
      a,
      q: Buffer.from(method),
      ro: extra.ro ? 1 : undefined,
      t: Buffer.from(extra.tid ?? 'aa'),
      y: Buffer.from('q'),
    }),
  );
}

export function pong(id: Buffer, tid: Buffer): Buffer {
  return encodeBencode(dict({ r: dict({ id }), t: tid, y: Buffer.from('r') }));
}

export function decode(bytes: Buffer): BDict {
  const r = decodeBencode(bytes);
  if (!r.ok) throw new Error(`undecodable reply: ${r.code}`);
  return r.value as BDict;
}

/** Compact entries of `nodes` (26 bytes) in a decoded reply, as "host:port" strings. */
export function nodeAddresses(reply: BDict, key: 'nodes' | 'nodes6' = 'nodes'): string[] {
  const r = reply['r'] as BDict;
  const nodes = r[key] as Buffer | undefined;
  if (nodes === undefined) return [];
  const size = key === 'nodes' ? 26 : 38;
  const out: string[] = [];
  for (let o = 0; o + size <= nodes.length; o += size) {
    const ip =
      key === 'nodes'
        ? [...nodes.subarray(o + 20, o + 24)].join('.')
        : nodes.subarray(o + 20, o + 36).toString('hex');
    out.push(`${ip}:${nodes.readUInt16BE(o + size - 2)}`);
  }
  return out;
}
