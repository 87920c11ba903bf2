/**
 * Typed KRPC message → bytes (BEP 5, 32, 33, 43, 44, 51). Writes exactly the fields present on the message, so
 * the BEP 5 example packets round-trip byte for byte. Callers choose counts (nodes, values, samples) so that the
 * packet fits MAX_OUTGOING_PACKET_BYTES (BEP 32); this file does not truncate.
 */
import type { BDict, BValue, UdpAddress } from './dht-types.ts';
import type { KrpcError, KrpcMessage, KrpcQuery, KrpcResponse } from './krpc-message.ts';
import { encodeBencode } from '../wire/index.ts';
import { writeCompactAddress, writeCompactNodes } from './krpc-compact.ts';
import { writeQuery, writeResponse } from './krpc-write.ts';

function dict(): BDict {
  return Object.create(null) as BDict;
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Wire name of each typed method. */
const METHOD_WIRE_NAME = {
  ping: 'ping',
  find_node: 'find_node',
  get_peers: 'get_peers',
  announce_peer: 'announce_peer',
  get: 'get',
  put: 'put',
  sample_infohashes: 'sample_infohashes',
  dhtchat_forward: 'dhtchat_forward',
  dhtchat_note: 'dhtchat_note',
} as const;

function queryArguments(q: KrpcQuery): BDict {
  const a = dict();
  a['id'] = q.id;
  if (q.want.length > 0) a['want'] = q.want.map(ascii);
  switch (q.method) {
    case 'ping':
      break;
    case 'find_node':
    case 'sample_infohashes':
      a['target'] = q.target;
      break;
    case 'get_peers':
      a['info_hash'] = q.infoHash;
      if (q.scrape) a['scrape'] = 1;
      if (q.noSeed) a['noseed'] = 1;
      break;
    case 'announce_peer':
      a['info_hash'] = q.infoHash;
      a['port'] = q.port;
      if (q.impliedPort) a['implied_port'] = 1;
      a['token'] = q.token;
      if (q.seed) a['seed'] = 1;
      break;
    case 'get':
      a['target'] = q.target;
      if (q.seq !== undefined) a['seq'] = q.seq;
      break;
    case 'put':
      a['token'] = q.token;
      a['v'] = q.v;
      if (q.k !== undefined) a['k'] = q.k;
      if (q.sig !== undefined) a['sig'] = q.sig;
      if (q.seq !== undefined) a['seq'] = q.seq;
      if (q.cas !== undefined) a['cas'] = q.cas;
      if (q.salt !== undefined && q.salt.length > 0) a['salt'] = q.salt;
      break;
    case 'dhtchat_forward':
      a['to'] = writeCompactAddress(q.to);
      a['note'] = q.note;
      break;
    case 'dhtchat_note':
      a['from'] = writeCompactAddress(q.from);
      a['note'] = q.note;
      break;
    case 'unknown':
      if (q.target !== undefined) a['target'] = q.target;
      break;
  }
  return a;
}

function encodeQuery(q: KrpcQuery): BDict {
  const top = dict();
  top['t'] = q.tid;
  top['y'] = ascii('q');
  top['q'] = ascii(q.method === 'unknown' ? q.name : METHOD_WIRE_NAME[q.method]);
  top['a'] = queryArguments(q);
  // BEP 43: a read-only node flags every query with a top-level `ro: 1`.
  if (q.readOnly) top['ro'] = 1;
  if (q.version !== undefined) top['v'] = q.version;
  return top;
}

function encodeResponse(m: KrpcResponse): BDict {
  const r = dict();
  r['id'] = m.id;
  if (m.nodes !== undefined) r['nodes'] = writeCompactNodes(m.nodes, 4);
  if (m.nodes6 !== undefined) r['nodes6'] = writeCompactNodes(m.nodes6, 6);
  if (m.token !== undefined) r['token'] = m.token;
  if (m.values !== undefined) r['values'] = m.values.map((p: UdpAddress) => writeCompactAddress(p));
  if (m.bfsd !== undefined) r['BFsd'] = m.bfsd;
  if (m.bfpe !== undefined) r['BFpe'] = m.bfpe;
  if (m.v !== undefined) r['v'] = m.v;
  if (m.k !== undefined) r['k'] = m.k;
  if (m.sig !== undefined) r['sig'] = m.sig;
  if (m.seq !== undefined) r['seq'] = m.seq;
  if (m.interval !== undefined) r['interval'] = m.interval;
  if (m.num !== undefined) r['num'] = m.num;
  if (m.samples !== undefined) r['samples'] = Buffer.concat(m.samples as Buffer[]);
  const top = dict();
  top['t'] = m.tid;
  top['y'] = ascii('r');
  top['r'] = r;
  if (m.yourAddress !== undefined) top['ip'] = writeCompactAddress(m.yourAddress);
  if (m.version !== undefined) top['v'] = m.version;
  return top;
}

function encodeError(m: KrpcError): BDict {
  const top = dict();
  top['t'] = m.tid;
  top['y'] = ascii('e');
  top['e'] = [m.code, Buffer.from(m.message, 'utf8')] as BValue[];
  if (m.yourAddress !== undefined) top['ip'] = writeCompactAddress(m.yourAddress);
  if (m.version !== undefined) top['v'] = m.version;
  return top;
}

/** The reference encoder: a dictionary for the generic bencoder. Same bytes as encodeKrpc. */
export function encodeKrpcGeneric(message: KrpcMessage): Buffer {
  switch (message.kind) {
    case 'query':
      return encodeBencode(encodeQuery(message));
    case 'response':
      return encodeBencode(encodeResponse(message));
    case 'error':
      return encodeBencode(encodeError(message));
  }
}

/**
 * Encodes one KRPC message. Throws only on a programming error (e.g. a v the bencoder rejects). The direct
 * writer takes the common messages; the rest, and every mistake, goes through the generic bencoder below.
 */
export function encodeKrpc(message: KrpcMessage): Buffer {
  switch (message.kind) {
    case 'query':
      return writeQuery(message) ?? encodeBencode(encodeQuery(message));
    case 'response':
      return writeResponse(message) ?? encodeBencode(encodeResponse(message));
    case 'error':
      return encodeBencode(encodeError(message));
  }
}
