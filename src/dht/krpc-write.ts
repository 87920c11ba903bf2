/**
 * Direct KRPC encoder for the messages a node sends most: responses without BEP 44 `v`, and the queries ping,
 * find_node, get_peers, announce_peer, get and sample_infohashes. It computes the exact length, allocates once
 * and writes keys from precomputed bytes in canonical order, instead of building a dictionary for the generic
 * bencoder to sort and copy (about twice as fast on a get_peers reply).
 *
 * Output is byte-identical to the generic path (the twin test checks it). Whatever it does not handle — other
 * kinds, a host that is not a canonical dotted quad, an integer that is not safe, a non-byte field — returns
 * undefined and encodeKrpc takes the generic path, which reports local mistakes by throwing.
 */
import type { NodeInfo, UdpAddress } from './dht-types.ts';
import type { KrpcQuery, KrpcResponse } from './krpc-message.ts';
import { writeCompactAddress, writeCompactNodes, writeIpv4 } from './krpc-compact.ts';

const key = (k: string): readonly number[] => [...Buffer.from(`${k.length}:${k}`, 'latin1')];
const K_A = key('a');
const K_IP = key('ip');
const K_Q = key('q');
const K_R = key('r');
const K_RO = key('ro');
const K_T = key('t');
const K_V = key('v');
const K_Y = key('y');
const K_BFPE = key('BFpe');
const K_BFSD = key('BFsd');
const K_ID = key('id');
const K_IMPLIED = key('implied_port');
const K_INFO_HASH = key('info_hash');
const K_INTERVAL = key('interval');
const K_K = key('k');
const K_NODES = key('nodes');
const K_NODES6 = key('nodes6');
const K_NOSEED = key('noseed');
const K_NUM = key('num');
const K_PORT = key('port');
const K_SAMPLES = key('samples');
const K_SCRAPE = key('scrape');
const K_SEED = key('seed');
const K_SEQ = key('seq');
const K_SIG = key('sig');
const K_TARGET = key('target');
const K_TOKEN = key('token');
const K_VALUES = key('values');
const K_WANT = key('want');
const WANT_ITEMS = { n4: key('n4'), n6: key('n6') } as const;
const ONE = [0x69, 0x31, 0x65]; // i1e

const V4_NODE = 26;
const CH_D = 0x64;
const CH_E = 0x65;
const CH_L = 0x6c;

// The packet being written (encoding is synchronous and never re-entered).
let out: Buffer = Buffer.alloc(0);
let pos = 0;

const decimalBytes = (n: number): number =>
  n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : String(n).length;
/** Encoded size of a byte string of n bytes. */
const strSize = (n: number): number => decimalBytes(n) + 1 + n;
const intSize = (n: number): number => String(n).length + 2;
const isBytes = (b: unknown): b is Uint8Array => b instanceof Uint8Array;
const isInt = (n: unknown): n is number => Number.isSafeInteger(n);

function raw(bytes: readonly number[]): void {
  for (let i = 0; i < bytes.length; i++) out[pos++] = bytes[i]!;
}

/** Non-negative n in ASCII; small ones digit by digit (String() + write costs more than the whole node). */
function decimal(n: number): void {
  if (n >= 100_000) {
    pos += out.write(String(n), pos, 'latin1');
    return;
  }
  const digits = decimalBytes(n);
  for (let i = digits - 1, rest = n; i >= 0; i--, rest = Math.floor(rest / 10))
    out[pos + i] = 0x30 + (rest % 10);
  pos += digits;
}

function str(b: Uint8Array): void {
  decimal(b.length);
  out[pos++] = 0x3a;
  if (b.length <= 32) for (let i = 0; i < b.length; i++) out[pos++] = b[i]!;
  else {
    out.set(b, pos);
    pos += b.length;
  }
}

function int(n: number): void {
  out[pos++] = 0x69;
  if (n < 0) {
    out[pos++] = 0x2d;
    n = -n;
  }
  decimal(n);
  out[pos++] = CH_E;
}

/** A compact address: 6 bytes written in place for IPv4, else the wire layer's 18 (which may throw). */
function addressSize(a: UdpAddress): number {
  return a.host.includes(':') ? 18 : 6;
}

function address(a: UdpAddress): boolean {
  if (a.host.includes(':')) {
    str(writeCompactAddress(a));
    return true;
  }
  const port = a.port;
  out[pos++] = 0x36; // '6'
  out[pos++] = 0x3a;
  if (!writeIpv4(a.host, out, pos) || (port & 0xffff) !== port) return false;
  out[pos + 4] = port >> 8;
  out[pos + 5] = port & 0xff;
  pos += 6;
  return true;
}

function nodesV4(nodes: readonly NodeInfo[]): boolean {
  decimal(nodes.length * V4_NODE);
  out[pos++] = 0x3a;
  // Locals, not the module's out/pos: this loop is most of the encode.
  const b = out;
  let p = pos;
  for (let i = 0; i < nodes.length; i++) {
    const { id, address: a } = nodes[i]!;
    const port = a.port;
    if (!isBytes(id) || id.length !== 20 || !writeIpv4(a.host, b, p + 20) || (port & 0xffff) !== port)
      return false;
    for (let j = 0; j < 20; j++) b[p + j] = id[j]!;
    b[p + 24] = port >> 8;
    b[p + 25] = port & 0xff;
    p += V4_NODE;
  }
  pos = p;
  return true;
}

/** The response, or undefined for the generic path. */
export function writeResponse(m: KrpcResponse): Buffer | undefined {
  if (m.v !== undefined || !isBytes(m.id) || !isBytes(m.tid)) return undefined;
  // d 1:r d 2:id … e 1:t … 1:y 1:r e
  let n = 20 + strSize(m.id.length) + strSize(m.tid.length);
  if (m.yourAddress !== undefined) n += 4 + strSize(addressSize(m.yourAddress));
  if (m.version !== undefined) n += isBytes(m.version) ? 3 + strSize(m.version.length) : Number.NaN;
  if (m.bfpe !== undefined) n += isBytes(m.bfpe) ? 6 + strSize(m.bfpe.length) : Number.NaN;
  if (m.bfsd !== undefined) n += isBytes(m.bfsd) ? 6 + strSize(m.bfsd.length) : Number.NaN;
  if (m.interval !== undefined) n += isInt(m.interval) ? 10 + intSize(m.interval) : Number.NaN;
  if (m.k !== undefined) n += isBytes(m.k) ? 3 + strSize(m.k.length) : Number.NaN;
  if (m.nodes !== undefined) n += 7 + strSize(m.nodes.length * V4_NODE);
  const nodes6 = m.nodes6 === undefined ? undefined : writeCompactNodes(m.nodes6, 6);
  if (nodes6 !== undefined) n += 8 + strSize(nodes6.length);
  if (m.num !== undefined) n += isInt(m.num) ? 5 + intSize(m.num) : Number.NaN;
  let samplesBytes = 0;
  if (m.samples !== undefined) for (const s of m.samples) samplesBytes += isBytes(s) ? s.length : Number.NaN;
  if (m.samples !== undefined) n += 9 + strSize(samplesBytes);
  if (m.seq !== undefined) n += isInt(m.seq) ? 5 + intSize(m.seq) : Number.NaN;
  if (m.sig !== undefined) n += isBytes(m.sig) ? 5 + strSize(m.sig.length) : Number.NaN;
  if (m.token !== undefined) n += isBytes(m.token) ? 7 + strSize(m.token.length) : Number.NaN;
  if (m.values !== undefined) {
    n += 8 + 2;
    for (const p of m.values) n += strSize(addressSize(p));
  }
  if (!(n > 0)) return undefined;
  out = Buffer.allocUnsafe(n);
  pos = 0;
  out[pos++] = CH_D;
  if (m.yourAddress !== undefined) {
    raw(K_IP);
    if (!address(m.yourAddress)) return undefined;
  }
  raw(K_R);
  out[pos++] = CH_D;
  if (m.bfpe !== undefined) {
    raw(K_BFPE);
    str(m.bfpe);
  }
  if (m.bfsd !== undefined) {
    raw(K_BFSD);
    str(m.bfsd);
  }
  raw(K_ID);
  str(m.id);
  if (m.interval !== undefined) {
    raw(K_INTERVAL);
    int(m.interval);
  }
  if (m.k !== undefined) {
    raw(K_K);
    str(m.k);
  }
  if (m.nodes !== undefined) {
    raw(K_NODES);
    if (!nodesV4(m.nodes)) return undefined;
  }
  if (nodes6 !== undefined) {
    raw(K_NODES6);
    str(nodes6);
  }
  if (m.num !== undefined) {
    raw(K_NUM);
    int(m.num);
  }
  if (m.samples !== undefined) {
    raw(K_SAMPLES);
    decimal(samplesBytes);
    out[pos++] = 0x3a;
    for (const s of m.samples) {
      out.set(s, pos);
      pos += s.length;
    }
  }
  if (m.seq !== undefined) {
    raw(K_SEQ);
    int(m.seq);
  }
  if (m.sig !== undefined) {
    raw(K_SIG);
    str(m.sig);
  }
  if (m.token !== undefined) {
    raw(K_TOKEN);
    str(m.token);
  }
  if (m.values !== undefined) {
    raw(K_VALUES);
    out[pos++] = CH_L;
    for (const p of m.values) if (!address(p)) return undefined;
    out[pos++] = CH_E;
  }
  out[pos++] = CH_E;
  return finish(m.tid, m.version, 0x72);
}

/** `1:t…[1:v…]1:y1:<y>e`, then checks the computed length was exact. */
function finish(tid: Uint8Array, version: Uint8Array | undefined, y: number): Buffer | undefined {
  raw(K_T);
  str(tid);
  if (version !== undefined) {
    raw(K_V);
    str(version);
  }
  raw(K_Y);
  out[pos++] = 0x31;
  out[pos++] = 0x3a;
  out[pos++] = y;
  out[pos++] = CH_E;
  return pos === out.length ? out : undefined;
}

const METHOD_KEYS = {
  ping: key('ping'),
  find_node: key('find_node'),
  get_peers: key('get_peers'),
  announce_peer: key('announce_peer'),
  get: key('get'),
  sample_infohashes: key('sample_infohashes'),
} as const;

/** The query, or undefined for the generic path (put, unknown methods, odd field values). */
export function writeQuery(q: KrpcQuery): Buffer | undefined {
  if (q.method === 'put' || q.method === 'unknown' || !isBytes(q.id) || !isBytes(q.tid)) return undefined;
  // The dhtchat extension is rare traffic: the generic encoder is fast enough.
  if (q.method === 'dhtchat_forward' || q.method === 'dhtchat_note') return undefined;
  const methodKey = METHOD_KEYS[q.method];
  // d 1:a d 2:id … e 1:q … 1:t … 1:y 1:q e
  let n = 23 + strSize(20) + methodKey.length + strSize(q.tid.length);
  if (q.readOnly) n += 4 + 3;
  if (q.version !== undefined) n += isBytes(q.version) ? 3 + strSize(q.version.length) : Number.NaN;
  if (q.want.length > 0) n += 6 + 2 + 4 * q.want.length;
  for (const w of q.want) if (WANT_ITEMS[w] === undefined) return undefined;
  let target: Uint8Array | undefined;
  switch (q.method) {
    case 'ping':
      break;
    case 'find_node':
    case 'sample_infohashes':
    case 'get':
      target = q.target;
      n += 8 + strSize(20);
      if (q.method === 'get' && q.seq !== undefined) n += isInt(q.seq) ? 5 + intSize(q.seq) : Number.NaN;
      break;
    case 'get_peers':
      n += 11 + strSize(20) + (q.scrape ? 8 + 3 : 0) + (q.noSeed ? 8 + 3 : 0);
      break;
    case 'announce_peer':
      n += 11 + strSize(20) + 6 + (isInt(q.port) ? intSize(q.port) : Number.NaN);
      n += (q.impliedPort ? 15 + 3 : 0) + (q.seed ? 6 + 3 : 0);
      n += isBytes(q.token) ? 7 + strSize(q.token.length) : Number.NaN;
      break;
  }
  const infoHash = q.method === 'get_peers' || q.method === 'announce_peer' ? q.infoHash : undefined;
  if (!(n > 0) || q.id.length !== 20) return undefined;
  if (
    (target !== undefined && !(isBytes(target) && target.length === 20)) ||
    (infoHash !== undefined && !(isBytes(infoHash) && infoHash.length === 20))
  )
    return undefined;
  out = Buffer.allocUnsafe(n);
  pos = 0;
  out[pos++] = CH_D;
  raw(K_A);
  out[pos++] = CH_D;
  raw(K_ID);
  str(q.id);
  if (q.method === 'announce_peer' && q.impliedPort) {
    raw(K_IMPLIED);
    raw(ONE);
  }
  if (infoHash !== undefined) {
    raw(K_INFO_HASH);
    str(infoHash);
  }
  if (q.method === 'get_peers' && q.noSeed) {
    raw(K_NOSEED);
    raw(ONE);
  }
  if (q.method === 'announce_peer') {
    raw(K_PORT);
    int(q.port);
  }
  if (q.method === 'get_peers' && q.scrape) {
    raw(K_SCRAPE);
    raw(ONE);
  }
  if (q.method === 'announce_peer' && q.seed) {
    raw(K_SEED);
    raw(ONE);
  }
  if (q.method === 'get' && q.seq !== undefined) {
    raw(K_SEQ);
    int(q.seq);
  }
  if (target !== undefined) {
    raw(K_TARGET);
    str(target);
  }
  if (q.method === 'announce_peer') {
    raw(K_TOKEN);
    str(q.token);
  }
  if (q.want.length > 0) {
    raw(K_WANT);
    out[pos++] = CH_L;
    for (const w of q.want) raw(WANT_ITEMS[w]);
    out[pos++] = CH_E;
  }
  out[pos++] = CH_E;
  raw(K_Q);
  raw(methodKey);
  if (q.readOnly) {
    raw(K_RO);
    raw(ONE);
  }
  return finish(q.tid, q.version, 0x71);
}
