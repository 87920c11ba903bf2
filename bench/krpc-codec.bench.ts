/**
 * KRPC codec throughput on one core: decodeKrpc and encodeKrpc of a 306-byte get_peers reply (top-level ip, v;
 * r: id, 8 IPv4 nodes, a 9-byte token; 3-byte t; y), the message a busy node handles most. Decoding is the strict path the node
 * runs on every packet (one-pass scan + field checks + compact nodes → typed message). Also measured in the same
 * run: the generic twins (bencode tree → typed message, dictionary → bencoder), which were the codec before the
 * fast paths, and decoding with a fresh set of node addresses in every packet (the host-string cache misses).
 * Run: node --import tsx bench/krpc-codec.bench.ts   (prints a JSON object, then a table)
 */
import { loadavg } from 'node:os';
import { decodeKrpc, encodeKrpc, type KrpcResponse } from '../src/dht/index.ts';
import { decodeKrpcGeneric } from '../src/dht/krpc-decode.ts';
import { encodeKrpcGeneric } from '../src/dht/krpc-encode.ts';

const fill = (n: number, seed: number): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

const reply: KrpcResponse = {
  kind: 'response',
  tid: Buffer.from('aab'),
  id: fill(20, 1),
  yourAddress: { host: '203.0.113.7', port: 51413 },
  version: Buffer.from('DC\x00\x01', 'latin1'),
  nodes: Array.from({ length: 8 }, (_, i) => ({
    id: fill(20, 10 + i),
    address: { host: `198.51.100.${i + 1}`, port: 6881 + i },
  })),
  token: fill(9, 5),
};
const bytes = encodeKrpc(reply);
if (bytes.length !== 306) throw new Error(`sample is ${bytes.length} bytes, expected 306`);
const check = decodeKrpc(bytes);
if (!check.ok || !encodeKrpc(check.message).equals(bytes)) throw new Error('sample does not round-trip');

interface Rate {
  best: number;
  median: number;
  /** Median batch rate by this process's CPU time: time spent preempted by other load does not count. */
  cpuMedian: number;
}

const BATCH = 5_000;

/**
 * Batches of 5,000, round-robin over all operations for totalMs, so each one sees the same load on a shared VM.
 * Best (least disturbed) and median batch rates in ops/s, by wall clock; plus the median by CPU time.
 */
function measureAll<K extends string>(fns: Record<K, () => void>, totalMs = 12_000): Record<K, Rate> {
  const names = Object.keys(fns) as K[];
  const wall = {} as Record<K, number[]>;
  const cpu = {} as Record<K, number[]>;
  for (const name of names) {
    for (let i = 0; i < 50_000; i++) fns[name]();
    wall[name] = [];
    cpu[name] = [];
  }
  const start = performance.now();
  while (performance.now() - start < totalMs) {
    for (const name of names) {
      const fn = fns[name];
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < BATCH; i++) fn();
      const wallMs = performance.now() - t0;
      const c = process.cpuUsage(c0);
      wall[name].push(BATCH / (wallMs / 1000));
      cpu[name].push(BATCH / ((c.user + c.system) / 1e6));
    }
  }
  const median = (xs: number[]) => Math.round(xs.sort((x, y) => x - y)[xs.length >> 1] ?? 0);
  const out = {} as Record<K, Rate>;
  for (const name of names) {
    const w = wall[name];
    out[name] = { best: Math.round(Math.max(...w)), median: median(w), cpuMedian: median(cpu[name]) };
  }
  return out;
}

/** 4,096 variants of the reply whose 8 nodes have addresses that differ in every packet (32,768 hosts). */
const fresh = Array.from({ length: 4096 }, (_, p) =>
  encodeKrpc({
    ...reply,
    nodes: reply.nodes?.map((n, i) => ({
      id: n.id,
      address: { host: `10.${p >> 4}.${((p & 15) << 3) | i}.${(p * 7 + i) & 255}`, port: n.address.port },
    })),
  }),
);

let sink = 0;
let next = 0;
const decoded = check.message;
const rates = measureAll({
  decode: () => {
    const r = decodeKrpc(bytes);
    if (r.ok) sink += r.message.tid.length;
  },
  decodeFresh: () => {
    const r = decodeKrpc(fresh[next++ & 4095]!);
    if (r.ok) sink += r.message.tid.length;
  },
  encode: () => {
    sink += encodeKrpc(decoded).length;
  },
  roundTrip: () => {
    const r = decodeKrpc(bytes);
    if (r.ok) sink += encodeKrpc(r.message).length;
  },
  decodeGeneric: () => {
    const r = decodeKrpcGeneric(bytes);
    if (r.ok) sink += r.message.tid.length;
  },
  encodeGeneric: () => {
    sink += encodeKrpcGeneric(decoded).length;
  },
});
const { decode, decodeFresh, encode, roundTrip, decodeGeneric, encodeGeneric } = rates;

const result = {
  benchmark: 'krpc-codec',
  messageBytes: bytes.length,
  node: process.version,
  loadAverage1m: loadavg()[0],
  decodePerSec: decode,
  decodeFreshHostsPerSec: decodeFresh,
  encodePerSec: encode,
  decodeThenEncodePerSec: roundTrip,
  genericDecodePerSec: decodeGeneric,
  genericEncodePerSec: encodeGeneric,
  sink: sink > 0,
};
console.log(JSON.stringify(result));
console.log('');
console.log(
  '| operation (306-byte get_peers reply) | best ops/s | median ops/s | median ops/s by CPU time |',
);
console.log('| --- | ---: | ---: | ---: |');
for (const [name, r] of [
  ['decodeKrpc', decode],
  ['decodeKrpc, new node addresses each packet', decodeFresh],
  ['encodeKrpc', encode],
  ['decode + encode', roundTrip],
  ['generic decode (reference twin)', decodeGeneric],
  ['generic encode (reference twin)', encodeGeneric],
] as const) {
  const cells = [r.best, r.median, r.cpuMedian].map((n) => n.toLocaleString('en-US'));
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
