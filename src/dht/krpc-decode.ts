/**
 * Bytes → typed KRPC message (BEP 5, 32, 33, 43, 44, 51). Strict: every field the BEPs define is checked for its
 * exact type and length before anything is read, and the first violation ends decoding with a stable code.
 * Never throws. Together with krpc-encode.ts this is the only place wire names (`info_hash`, `nodes6`) appear.
 *
 * Deviations and choices the BEPs leave open:
 * - Informational fields (`v` client version, top-level `ip`) that are malformed are ignored, not fatal: a
 *   response is still useful without them.
 * - `values` entries of the wrong size (not 6 or 18 bytes) are skipped, as libtorrent does.
 * - Unknown `want` entries are ignored (BEP 32 may grow); a `want` that is not a list is fatal.
 * - BEP 44 size limits on `v` (205) and `salt` (207) are the put handler's to answer, so they pass here; `k`
 *   (32 bytes) and `sig` (64 bytes) of the wrong length are protocol errors (203), as in libtorrent.
 */
import {
  COMPACT_NODE_V4_BYTES,
  COMPACT_NODE_V6_BYTES,
  KRPC_MAX_DEPTH,
  KRPC_MAX_ITEMS,
  MAX_INCOMING_PACKET_BYTES,
  MAX_TID_BYTES,
  MAX_TOKEN_BYTES,
  MAX_VERSION_BYTES,
} from './constants.ts';
import type { BDict, BValue, NodeInfo, UdpAddress } from './dht-types.ts';
import type { KrpcError, KrpcMessage, KrpcQuery, KrpcResponse, WantFamily } from './krpc-message.ts';
import { NODE_ID_BYTES } from './node-id.ts';
import { decodeBencode, rawValueAt } from '../wire/index.ts';
import { readCompactAddress, readCompactNodes } from './krpc-compact.ts';
import { scanKrpc } from './krpc-scan.ts';

/** Why a packet was not decoded; stable strings, used as stats keys and in debug logs. */
export const KrpcDecodeCode = {
  tooBig: 'KRPC_TOO_BIG',
  badBencode: 'KRPC_BAD_BENCODE',
  notDict: 'KRPC_NOT_DICT',
  badTid: 'KRPC_BAD_TID',
  badType: 'KRPC_BAD_TYPE',
  badMethod: 'KRPC_BAD_METHOD',
  badArguments: 'KRPC_BAD_ARGUMENTS',
  badId: 'KRPC_BAD_ID',
  badField: 'KRPC_BAD_FIELD',
  missingField: 'KRPC_MISSING_FIELD',
  badError: 'KRPC_BAD_ERROR',
} as const;
export type KrpcDecodeCode = (typeof KrpcDecodeCode)[keyof typeof KrpcDecodeCode];

export type KrpcDecodeResult =
  | { ok: true; message: KrpcMessage }
  | {
      ok: false;
      code: KrpcDecodeCode;
      /** Detail for logs: the offending field. */
      field?: string;
      /** The transaction id, when it could be read (so a query can be answered with 203). */
      tid?: Buffer;
      /** True when the packet claimed to be a query (`y: q`): only those deserve a 203 answer. */
      isQuery: boolean;
    };

const METHOD_MAX_BYTES = 64;
const MAX_PORT = 65_535;

/** Thrown only inside this file, caught in decodeKrpc: keeps the field checks one line each. */
class FieldError {
  readonly code: KrpcDecodeCode;
  readonly field: string;
  constructor(code: KrpcDecodeCode, field: string) {
    this.code = code;
    this.field = field;
  }
}

const fail = (code: KrpcDecodeCode, field: string): never => {
  throw new FieldError(code, field);
};

function optBytes(
  d: BDict,
  key: string,
  minBytes = 0,
  maxBytes = Number.MAX_SAFE_INTEGER,
): Buffer | undefined {
  const v = d[key];
  if (v === undefined) return undefined;
  if (!Buffer.isBuffer(v) || v.length < minBytes || v.length > maxBytes) fail(KrpcDecodeCode.badField, key);
  return v as Buffer;
}

function reqBytes(d: BDict, key: string, minBytes = 0, maxBytes = Number.MAX_SAFE_INTEGER): Buffer {
  return optBytes(d, key, minBytes, maxBytes) ?? fail(KrpcDecodeCode.missingField, key);
}

function optId(d: BDict, key: string): Buffer | undefined {
  return optBytes(d, key, NODE_ID_BYTES, NODE_ID_BYTES);
}

/** The sender's `id`: exactly 20 bytes, or the whole message is rejected with KRPC_BAD_ID. */
function senderId(d: BDict): Buffer {
  const v = d['id'];
  return Buffer.isBuffer(v) && v.length === NODE_ID_BYTES ? v : fail(KrpcDecodeCode.badId, 'id');
}

/** A compact address (6 or 18 bytes) the dhtchat extension carries (`to`, `from`). */
function reqAddress(d: BDict, key: string): UdpAddress {
  return readCompactAddress(reqBytes(d, key, 6, 18)) ?? fail(KrpcDecodeCode.badField, key);
}

/** Notes are small (the relay forwards at most NOTE_MAX_BYTES); anything longer is not a note. */
const MAX_NOTE_FIELD_BYTES = 512;

function reqId(d: BDict, key: string): Buffer {
  return reqBytes(d, key, NODE_ID_BYTES, NODE_ID_BYTES);
}

function optInt(d: BDict, key: string, min: number, max: number): number | undefined {
  const v = d[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || v < min || v > max) fail(KrpcDecodeCode.badField, key);
  return v as number;
}

/** Flags like `implied_port`, `scrape`, `noseed`, `seed`: any integer, non-zero means set. */
function flag(d: BDict, key: string): boolean {
  const v = d[key];
  if (v === undefined) return false;
  if (typeof v !== 'number') fail(KrpcDecodeCode.badField, key);
  return v !== 0;
}

function isDict(v: BValue | undefined): v is BDict {
  return v !== undefined && typeof v === 'object' && !Buffer.isBuffer(v) && !Array.isArray(v);
}

function nodesField(d: BDict, key: string, family: 4 | 6): NodeInfo[] | undefined {
  const raw = optBytes(d, key);
  if (raw === undefined) return undefined;
  const size = family === 4 ? COMPACT_NODE_V4_BYTES : COMPACT_NODE_V6_BYTES;
  if (raw.length % size !== 0) fail(KrpcDecodeCode.badField, key);
  return readCompactNodes(raw, family) ?? fail(KrpcDecodeCode.badField, key);
}

function wantField(a: BDict): WantFamily[] {
  const v = a['want'];
  if (v === undefined) return [];
  if (!Array.isArray(v)) return fail(KrpcDecodeCode.badField, 'want');
  const want: WantFamily[] = [];
  for (const item of v) {
    if (!Buffer.isBuffer(item) || item.length !== 2) continue;
    const s = item.toString('latin1');
    if ((s === 'n4' || s === 'n6') && !want.includes(s)) want.push(s);
  }
  return want;
}

function ipField(top: BDict): UdpAddress | undefined {
  const v = top['ip'];
  if (!Buffer.isBuffer(v) || (v.length !== 6 && v.length !== 18)) return undefined;
  return readCompactAddress(v);
}

function versionField(top: BDict): Buffer | undefined {
  const v = top['v'];
  return Buffer.isBuffer(v) && v.length <= MAX_VERSION_BYTES ? v : undefined;
}

function decodeQuery(bytes: Uint8Array, top: BDict, tid: Buffer, version: Buffer | undefined): KrpcQuery {
  const q = top['q'];
  if (!Buffer.isBuffer(q) || q.length === 0 || q.length > METHOD_MAX_BYTES)
    fail(KrpcDecodeCode.badMethod, 'q');
  const a = top['a'];
  if (!isDict(a)) return fail(KrpcDecodeCode.badArguments, 'a');
  const id = senderId(a);
  const ro = top['ro'];
  const base = {
    kind: 'query' as const,
    tid,
    id,
    readOnly: typeof ro === 'number' && ro === 1,
    want: wantField(a),
    ...(version === undefined ? {} : { version }),
  };
  const method = (q as Buffer).toString('latin1');
  switch (method) {
    case 'ping':
      return { ...base, method };
    case 'find_node':
      return { ...base, method, target: reqId(a, 'target') };
    case 'dhtchat_forward':
      return { ...base, method, to: reqAddress(a, 'to'), note: reqBytes(a, 'note', 0, MAX_NOTE_FIELD_BYTES) };
    case 'dhtchat_note':
      return {
        ...base,
        method,
        from: reqAddress(a, 'from'),
        note: reqBytes(a, 'note', 0, MAX_NOTE_FIELD_BYTES),
      };
    case 'get_peers':
      return {
        ...base,
        method,
        infoHash: reqId(a, 'info_hash'),
        scrape: flag(a, 'scrape'),
        noSeed: flag(a, 'noseed'),
      };
    case 'announce_peer': {
      const impliedPort = flag(a, 'implied_port');
      // With implied_port the port is ignored, and some clients send 0 there.
      const port =
        optInt(a, 'port', impliedPort ? 0 : 1, MAX_PORT) ?? fail(KrpcDecodeCode.missingField, 'port');
      return {
        ...base,
        method,
        infoHash: reqId(a, 'info_hash'),
        port,
        impliedPort,
        token: reqBytes(a, 'token', 1, MAX_TOKEN_BYTES),
        seed: flag(a, 'seed'),
      };
    }
    case 'get': {
      const seq = optInt(a, 'seq', 0, Number.MAX_SAFE_INTEGER);
      return { ...base, method, target: reqId(a, 'target'), ...(seq === undefined ? {} : { seq }) };
    }
    case 'put':
      return decodePut(bytes, a, base);
    case 'sample_infohashes':
      return { ...base, method, target: reqId(a, 'target') };
    default: {
      // BEP 5 forward compatibility: unknown queries with a target are answered like find_node.
      const target = optId(a, 'target') ?? optId(a, 'info_hash');
      return { ...base, method: 'unknown', name: method, ...(target === undefined ? {} : { target }) };
    }
  }
}

type QueryBaseFields = Pick<KrpcQuery, 'kind' | 'tid' | 'id' | 'readOnly' | 'want' | 'version'>;

function decodePut(bytes: Uint8Array, a: BDict, base: QueryBaseFields): KrpcQuery {
  const v = a['v'] ?? fail(KrpcDecodeCode.missingField, 'v');
  // BEP 44: hash and sign the verbatim bytes of v as they appeared in the message.
  const vBytes = rawValueAt(bytes, ['a', 'v']) ?? fail(KrpcDecodeCode.badField, 'v');
  const token = reqBytes(a, 'token', 1, MAX_TOKEN_BYTES);
  const k = optBytes(a, 'k', 32, 32);
  const sig = optBytes(a, 'sig', 64, 64);
  const seq = optInt(a, 'seq', 0, Number.MAX_SAFE_INTEGER);
  const cas = optInt(a, 'cas', 0, Number.MAX_SAFE_INTEGER);
  const salt = optBytes(a, 'salt');
  if (k !== undefined && (sig === undefined || seq === undefined))
    fail(KrpcDecodeCode.missingField, sig === undefined ? 'sig' : 'seq');
  if (k === undefined && (sig !== undefined || salt !== undefined || cas !== undefined))
    fail(KrpcDecodeCode.missingField, 'k');
  return {
    ...base,
    method: 'put',
    token,
    v,
    vBytes,
    ...(k === undefined ? {} : { k }),
    ...(sig === undefined ? {} : { sig }),
    ...(seq === undefined ? {} : { seq }),
    ...(cas === undefined ? {} : { cas }),
    ...(salt === undefined ? {} : { salt }),
  };
}

function valuesField(values: BValue | undefined): UdpAddress[] {
  if (!Array.isArray(values)) return fail(KrpcDecodeCode.badField, 'values');
  const peers: UdpAddress[] = [];
  for (const item of values) {
    if (!Buffer.isBuffer(item) || (item.length !== 6 && item.length !== 18)) continue;
    const peer = readCompactAddress(item);
    if (peer !== undefined) peers.push(peer);
  }
  return peers;
}

function samplesField(samples: Buffer): Buffer[] {
  if (samples.length % NODE_ID_BYTES !== 0) fail(KrpcDecodeCode.badField, 'samples');
  const list: Buffer[] = [];
  for (let i = 0; i < samples.length; i += NODE_ID_BYTES) list.push(samples.subarray(i, i + NODE_ID_BYTES));
  return list;
}

function decodeResponse(
  bytes: Uint8Array,
  top: BDict,
  tid: Buffer,
  version: Buffer | undefined,
): KrpcResponse {
  const r = top['r'];
  if (!isDict(r)) return fail(KrpcDecodeCode.badArguments, 'r');
  const id = senderId(r);
  const out: { -readonly [K in keyof KrpcResponse]: KrpcResponse[K] } = { kind: 'response', tid, id };
  const yourAddress = ipField(top);
  if (yourAddress !== undefined) out.yourAddress = yourAddress;
  if (version !== undefined) out.version = version;
  // One pass over the keys present (a reply has 2-5 of the ~15 possible): faster than probing each name.
  for (const key in r) {
    switch (key) {
      case 'nodes':
        out.nodes = nodesField(r, key, 4);
        break;
      case 'nodes6':
        out.nodes6 = nodesField(r, key, 6);
        break;
      case 'token':
        out.token = optBytes(r, key, 1, MAX_TOKEN_BYTES);
        break;
      case 'values':
        out.values = valuesField(r[key]);
        break;
      case 'BFsd':
        out.bfsd = optBytes(r, key, 256, 256);
        break;
      case 'BFpe':
        out.bfpe = optBytes(r, key, 256, 256);
        break;
      case 'v':
        out.v = r[key];
        out.vBytes = rawValueAt(bytes, ['r', 'v']) ?? fail(KrpcDecodeCode.badField, 'v');
        break;
      case 'k':
        out.k = optBytes(r, key, 32, 32);
        break;
      case 'sig':
        out.sig = optBytes(r, key, 64, 64);
        break;
      case 'seq':
      case 'interval':
      case 'num':
        out[key] = optInt(r, key, 0, Number.MAX_SAFE_INTEGER);
        break;
      case 'samples':
        out.samples = samplesField(optBytes(r, key) ?? Buffer.alloc(0));
        break;
    }
  }
  return out;
}

function decodeError(top: BDict, tid: Buffer, version: Buffer | undefined): KrpcError {
  const e = top['e'];
  if (!Array.isArray(e) || e.length < 1) return fail(KrpcDecodeCode.badError, 'e');
  const code = e[0];
  if (typeof code !== 'number') return fail(KrpcDecodeCode.badError, 'e');
  const text = e[1];
  const yourAddress = ipField(top);
  return {
    kind: 'error',
    tid,
    code,
    message: Buffer.isBuffer(text) ? text.toString('utf8') : '',
    ...(yourAddress === undefined ? {} : { yourAddress }),
    ...(version === undefined ? {} : { version }),
  };
}

/** Decodes one KRPC packet. Never throws. The one-pass scanner takes the common shapes; all else, every
 * rejection included, goes through the generic path below. */
export function decodeKrpc(bytes: Uint8Array): KrpcDecodeResult {
  if (bytes.length > MAX_INCOMING_PACKET_BYTES)
    return { ok: false, code: KrpcDecodeCode.tooBig, isQuery: false };
  const message = scanKrpc(bytes);
  return message !== undefined ? { ok: true, message } : decodeKrpcGeneric(bytes);
}

/** The reference decoder: generic bencode tree, then field checks. Never throws. */
export function decodeKrpcGeneric(bytes: Uint8Array): KrpcDecodeResult {
  if (bytes.length > MAX_INCOMING_PACKET_BYTES)
    return { ok: false, code: KrpcDecodeCode.tooBig, isQuery: false };
  const decoded = decodeBencode(bytes, { maxDepth: KRPC_MAX_DEPTH, maxItems: KRPC_MAX_ITEMS });
  if (!decoded.ok) return { ok: false, code: KrpcDecodeCode.badBencode, isQuery: false };
  const top = decoded.value;
  if (!isDict(top)) return { ok: false, code: KrpcDecodeCode.notDict, isQuery: false };
  const t = top['t'];
  if (!Buffer.isBuffer(t) || t.length === 0 || t.length > MAX_TID_BYTES)
    return { ok: false, code: KrpcDecodeCode.badTid, field: 't', isQuery: false };
  const y = top['y'];
  const type = Buffer.isBuffer(y) && y.length === 1 ? String.fromCharCode(y[0] ?? 0) : '';
  const version = versionField(top);
  try {
    if (type === 'q') return { ok: true, message: decodeQuery(bytes, top, t, version) };
    if (type === 'r') return { ok: true, message: decodeResponse(bytes, top, t, version) };
    if (type === 'e') return { ok: true, message: decodeError(top, t, version) };
    // libtorrent answers a missing/unknown `y` with 203 when a `q` is present: treat that as a query.
    return { ok: false, code: KrpcDecodeCode.badType, field: 'y', tid: t, isQuery: top['q'] !== undefined };
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    return { ok: false, code: err.code, field: err.field, tid: t, isQuery: type === 'q' };
  }
}
