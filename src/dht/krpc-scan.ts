/**
 * One-pass KRPC decoder for the shapes a node sees nearly all the time: responses (nodes, nodes6, token,
 * values, BEP 33/44/51 fields except `v`) and the queries ping, find_node, get_peers, announce_peer, get and
 * sample_infohashes. It reads the canonical bencode of exactly those dictionaries straight into the typed
 * message, without the generic bencode tree in between (about twice as fast on a get_peers reply).
 *
 * It never rejects: on anything it does not handle or that the strict decoder might reject (unknown key, a
 * value of another type, a bad length, non-canonical bencode), it returns undefined and decodeKrpc runs the
 * generic path, which stays the reference and says why. So it only has to be right on what it accepts; the
 * twin property test checks that every message it returns equals the generic decoder's.
 *
 * Like the bencode decoder it copies the packet once and every byte string is a view of that copy.
 */
import { KRPC_MAX_ITEMS, MAX_TID_BYTES, MAX_TOKEN_BYTES, MAX_VERSION_BYTES } from './constants.ts';
import type { NodeInfo, UdpAddress } from './dht-types.ts';
import type { KrpcMessage, KrpcQuery, KrpcResponse, WantFamily } from './krpc-message.ts';
import { formatIpv4, readCompactAddress } from './krpc-compact.ts';
import { decodeCompactNodes } from '../wire/index.ts';
import * as K from './krpc-scan-keys.ts';
import type { FastMethod, KeyTable } from './krpc-scan-keys.ts';

const CH_0 = 0x30;
const CH_COLON = 0x3a;
const CH_D = 0x64;
const CH_E = 0x65;
const CH_I = 0x69;
const CH_L = 0x6c;
const ID = 20;
const V4_NODE = 26;
const V6_NODE = 38;
const MAX_PORT = 65_535;
const MAX_METHOD_BYTES = 64;

// Scanner state for the packet being decoded (decoding is synchronous and never re-entered).
let src: Buffer = Buffer.alloc(0);
/** src.buffer and src.byteOffset, read once per packet (each read is a getter call). */
let srcArrayBuffer: ArrayBufferLike = src.buffer;
let srcOffset = 0;
let pos = 0;
let end = 0;
let items = 0;
/** Per dictionary level (0 top, 1 a/r): span start (-1 absent), span length, integer value. */
const starts = [new Int32Array(K.TOP.names.length), new Int32Array(K.RESP.names.length)];
const lengths = [new Int32Array(K.TOP.names.length), new Int32Array(K.RESP.names.length)];
const ints = new Float64Array(K.RESP.names.length);
/** Byte-string items of the one list in a/r (values or want): start, length pairs. */
let listSpans = new Int32Array(256);
let listCount = 0;
let roValue = 0;

/** `<len>:` at pos, canonical; returns the start of the bytes and moves pos past them, or -1. */
function span(): number {
  const s = pos;
  let p = s;
  let n = 0;
  let c = src[p]!;
  while (c >= CH_0 && c <= 0x39 && p - s < 5) {
    n = n * 10 + (c - CH_0);
    c = src[++p]!;
  }
  if (c !== CH_COLON || p === s || (src[s] === CH_0 && p - s > 1)) return -1;
  p++;
  if (n > end - p) return -1;
  pos = p + n;
  return p;
}

/** `i<digits>e`, non-negative and canonical; -1 for anything else (negatives go to the generic path). */
function uint(): number {
  let p = pos + 1;
  const s = p;
  let n = 0;
  let c = src[p];
  while (c !== undefined && c >= CH_0 && c <= 0x39 && p - s < 16) {
    n = n * 10 + (c - CH_0);
    c = src[++p];
  }
  if (c !== CH_E || p === s || (src[s] === CH_0 && p - s > 1) || n > Number.MAX_SAFE_INTEGER) return -1;
  pos = p + 1;
  return n;
}

/** The rank of the key src[ks, ks+kl) in table, or -1. */
function rankOf(table: KeyTable, ks: number, kl: number): number {
  if (kl >= K.MAX_KEY_BYTES) return -1;
  const candidates = table.byHead[kl * 256 + src[ks]!];
  if (candidates === undefined) return -1;
  for (const rank of candidates) {
    const name = table.names[rank]!;
    let i = 1;
    while (i < kl && name.charCodeAt(i) === src[ks + i]) i++;
    if (i === kl) return rank;
  }
  return -1;
}

/** A list of byte strings at pos into listSpans; false on anything else. */
function scanList(): boolean {
  pos++;
  listCount = 0;
  while (pos < end && src[pos] !== CH_E) {
    items++;
    const s = span();
    if (s < 0) return false;
    if (listCount * 2 + 2 > listSpans.length) {
      const bigger = new Int32Array(listSpans.length * 2);
      bigger.set(listSpans);
      listSpans = bigger;
    }
    listSpans[listCount * 2] = s;
    listSpans[listCount * 2 + 1] = pos - s;
    listCount++;
  }
  pos++;
  return pos <= end;
}

/** The dict of the args (`a`) or response (`r`) table at pos into level-1 slots; false if not handled. */
function scanInner(table: KeyTable): boolean {
  const st = starts[1]!;
  const ln = lengths[1]!;
  st.fill(-1);
  pos++;
  let prev = -1;
  while (pos < end && src[pos] !== CH_E) {
    const ks = span();
    if (ks < 0) return false;
    const rank = rankOf(table, ks, pos - ks);
    if (rank <= prev || pos >= end) return false; // unknown, unsorted or duplicate: the generic path decides
    prev = rank;
    items++;
    const kind = table.kinds[rank];
    const c = src[pos]!;
    if (kind === K.STR) {
      if (c < CH_0 || c > 0x39) return false;
      const s = span();
      if (s < 0) return false;
      st[rank] = s;
      ln[rank] = pos - s;
    } else if (kind === K.INT) {
      if (c !== CH_I) return false;
      const n = uint();
      if (n < 0) return false;
      st[rank] = 0;
      ints[rank] = n;
    } else {
      if (c !== CH_L || !scanList()) return false;
      st[rank] = 0;
    }
  }
  pos++;
  return pos <= end;
}

/** The top-level dict; returns the rank of its a/r dict (K.T_A, K.T_R) or -1 when not handled. */
function scanTop(): number {
  const st = starts[0]!;
  const ln = lengths[0]!;
  st.fill(-1);
  if (src[0] !== CH_D) return -1;
  pos = 1;
  items = 1;
  let prev = -1;
  let inner = -1;
  while (pos < end && src[pos] !== CH_E) {
    const ks = span();
    if (ks < 0) return -1;
    const rank = rankOf(K.TOP, ks, pos - ks);
    if (rank <= prev || pos >= end) return -1;
    prev = rank;
    items++;
    const c = src[pos]!;
    const kind = K.TOP.kinds[rank];
    if (kind === K.STR) {
      if (c < CH_0 || c > 0x39) return -1;
      const s = span();
      if (s < 0) return -1;
      st[rank] = s;
      ln[rank] = pos - s;
    } else if (kind === K.INT) {
      if (c !== CH_I) return -1;
      roValue = uint(); // `ro` is the only integer at top level
      if (roValue < 0) return -1;
      st[rank] = 0;
    } else {
      if (c !== CH_D || inner >= 0 || !scanInner(rank === K.T_A ? K.ARGS : K.RESP)) return -1;
      inner = rank;
    }
  }
  // Exactly one value, nothing after it, within the item limit.
  return pos + 1 === end && items <= KRPC_MAX_ITEMS ? inner : -1;
}

const view = (s: number, n: number): Buffer => Buffer.from(srcArrayBuffer, srcOffset + s, n);

function v4Nodes(s: number, n: number): NodeInfo[] {
  const nodes: NodeInfo[] = new Array(n / V4_NODE);
  const b = src;
  for (let i = 0, o = s; i < nodes.length; i++, o += V4_NODE) {
    const a = o + ID;
    nodes[i] = { id: view(o, ID), address: { host: formatIpv4(b, a), port: (b[a + 4]! << 8) | b[a + 5]! } };
  }
  return nodes;
}

function peers(): UdpAddress[] {
  const out: UdpAddress[] = [];
  for (let i = 0; i < listCount; i++) {
    const s = listSpans[i * 2]!;
    const n = listSpans[i * 2 + 1]!;
    if (n === 6) out.push({ host: formatIpv4(src, s), port: (src[s + 4]! << 8) | src[s + 5]! });
    else if (n === 18) out.push(readCompactAddress(view(s, n))!);
  }
  return out;
}

function response(tid: Buffer): KrpcResponse | undefined {
  const st = starts[1]!;
  const ln = lengths[1]!;
  if (ln[K.R_ID] !== ID || st[K.R_ID]! < 0) return undefined;
  const out: { -readonly [K in keyof KrpcResponse]: KrpcResponse[K] } = {
    kind: 'response',
    tid,
    id: view(st[K.R_ID]!, ID),
  };
  const ipStart = starts[0]![K.T_IP]!;
  const ipBytes = lengths[0]![K.T_IP]!;
  if (ipStart >= 0 && ipBytes === 6)
    out.yourAddress = { host: formatIpv4(src, ipStart), port: (src[ipStart + 4]! << 8) | src[ipStart + 5]! };
  else if (ipStart >= 0 && ipBytes === 18) out.yourAddress = readCompactAddress(view(ipStart, 18));
  const version = versionField();
  if (version !== undefined) out.version = version;
  for (let rank = 0; rank < K.RESP.names.length; rank++) {
    const s = st[rank]!;
    if (s < 0 || rank === K.R_ID) continue;
    const n = ln[rank]!;
    switch (rank) {
      case K.R_BFPE:
      case K.R_BFSD:
        if (n !== 256) return undefined;
        if (rank === K.R_BFPE) out.bfpe = view(s, n);
        else out.bfsd = view(s, n);
        break;
      case K.R_INTERVAL:
        out.interval = ints[rank]!;
        break;
      case K.R_K:
        if (n !== 32) return undefined;
        out.k = view(s, n);
        break;
      case K.R_NODES:
        if (n % V4_NODE !== 0) return undefined;
        out.nodes = v4Nodes(s, n);
        break;
      case K.R_NODES6:
        if (n % V6_NODE !== 0) return undefined;
        out.nodes6 = decodeCompactNodes(view(s, n), 6);
        break;
      case K.R_NUM:
        out.num = ints[rank]!;
        break;
      case K.R_SAMPLES: {
        if (n % ID !== 0) return undefined;
        const samples: Buffer[] = [];
        for (let o = s; o < s + n; o += ID) samples.push(src.subarray(o, o + ID));
        out.samples = samples;
        break;
      }
      case K.R_SEQ:
        out.seq = ints[rank]!;
        break;
      case K.R_SIG:
        if (n !== 64) return undefined;
        out.sig = view(s, n);
        break;
      case K.R_TOKEN:
        if (n < 1 || n > MAX_TOKEN_BYTES) return undefined;
        out.token = view(s, n);
        break;
      case K.R_VALUES:
        out.values = peers();
        break;
    }
  }
  return out;
}

function versionField(): Buffer | undefined {
  const s = starts[0]![K.T_V]!;
  const n = lengths[0]![K.T_V]!;
  return s >= 0 && n <= MAX_VERSION_BYTES ? view(s, n) : undefined;
}

/** The method name at q, when it is one handled here. */
function methodOf(s: number, n: number): FastMethod | undefined {
  for (const m of K.METHODS) {
    if (m.length !== n) continue;
    let i = 0;
    while (i < n && m.charCodeAt(i) === src[s + i]) i++;
    if (i === n) return m;
  }
  return undefined;
}

function wantList(): WantFamily[] {
  const want: WantFamily[] = [];
  for (let i = 0; i < listCount; i++) {
    const s = listSpans[i * 2]!;
    if (listSpans[i * 2 + 1] !== 2 || src[s] !== 0x6e) continue; // 'n'
    const f = src[s + 1] === 0x34 ? 'n4' : src[s + 1] === 0x36 ? 'n6' : undefined;
    if (f !== undefined && !want.includes(f)) want.push(f);
  }
  return want;
}

function query(tid: Buffer): KrpcQuery | undefined {
  const qStart = starts[0]![K.T_Q]!;
  const qBytes = lengths[0]![K.T_Q]!;
  if (qStart < 0 || qBytes < 1 || qBytes > MAX_METHOD_BYTES) return undefined;
  const method = methodOf(qStart, qBytes);
  const st = starts[1]!;
  const ln = lengths[1]!;
  if (method === undefined || st[K.A_ID]! < 0 || ln[K.A_ID] !== ID) return undefined;
  const id20 = (rank: number): Buffer | undefined =>
    st[rank]! >= 0 && ln[rank] === ID ? view(st[rank]!, ID) : undefined;
  const flag = (rank: number): boolean => st[rank]! >= 0 && ints[rank] !== 0;
  const version = versionField();
  const base = {
    kind: 'query' as const,
    tid,
    id: view(st[K.A_ID]!, ID),
    readOnly: starts[0]![K.T_RO]! >= 0 && roValue === 1,
    want: st[K.A_WANT]! >= 0 ? wantList() : [],
    ...(version === undefined ? {} : { version }),
  };
  switch (method) {
    case 'ping':
      return { ...base, method };
    case 'find_node':
    case 'sample_infohashes': {
      const target = id20(K.A_TARGET);
      return target === undefined ? undefined : { ...base, method, target };
    }
    case 'get_peers': {
      const infoHash = id20(K.A_INFO_HASH);
      if (infoHash === undefined) return undefined;
      return { ...base, method, infoHash, scrape: flag(K.A_SCRAPE), noSeed: flag(K.A_NOSEED) };
    }
    case 'announce_peer': {
      const impliedPort = flag(K.A_IMPLIED);
      const port = ints[K.A_PORT]!;
      const infoHash = id20(K.A_INFO_HASH);
      const tokenBytes = ln[K.A_TOKEN]!;
      if (st[K.A_PORT]! < 0 || port < (impliedPort ? 0 : 1) || port > MAX_PORT || infoHash === undefined)
        return undefined;
      if (st[K.A_TOKEN]! < 0 || tokenBytes < 1 || tokenBytes > MAX_TOKEN_BYTES) return undefined;
      const token = view(st[K.A_TOKEN]!, tokenBytes);
      return { ...base, method, infoHash, port, impliedPort, token, seed: flag(K.A_SEED) };
    }
    case 'get': {
      const target = id20(K.A_TARGET);
      if (target === undefined) return undefined;
      return { ...base, method, target, ...(st[K.A_SEQ]! < 0 ? {} : { seq: ints[K.A_SEQ]! }) };
    }
  }
}

/** The typed message, or undefined when the generic decoder must decide. Never throws. */
export function scanKrpc(bytes: Uint8Array): KrpcMessage | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length < 2) return undefined;
  src = Buffer.allocUnsafe(bytes.length);
  src.set(bytes);
  srcArrayBuffer = src.buffer;
  srcOffset = src.byteOffset;
  end = src.length;
  const inner = scanTop();
  const tStart = starts[0]![K.T_T]!;
  const tBytes = lengths[0]![K.T_T]!;
  const yStart = starts[0]![K.T_Y]!;
  if (inner < 0 || tStart < 0 || tBytes < 1 || tBytes > MAX_TID_BYTES) return undefined;
  if (yStart < 0 || lengths[0]![K.T_Y] !== 1) return undefined;
  const tid = view(tStart, tBytes);
  const y = src[yStart];
  if (y === 0x72 && inner === K.T_R) return response(tid); // 'r'
  if (y === 0x71 && inner === K.T_A) return query(tid); // 'q'
  return undefined;
}
