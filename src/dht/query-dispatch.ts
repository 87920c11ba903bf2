/**
 * Incoming queries: one handler per method (handlers/*.ts), then the reply is fitted to its size budget.
 *
 * Size budget of a reply (BEP 32 and anti-amplification):
 * - Never more than MAX_OUTGOING_PACKET_BYTES (1024).
 * - To an address that has not yet proven it receives our packets (never answered one of our queries), at most
 *   UNVERIFIED_AMPLIFICATION × the bytes of the query — QUIC's anti-amplification rule (RFC 9000 §8.1). A factor
 *   of exactly 1 is impossible for KRPC: the mandatory top-level `ip` makes even a ping answer longer than a ping.
 * - Lists are trimmed to fit, least useful first: `samples`, `nodes6`, `nodes`, `values`, then the BEP 33 bloom
 *   filters. Peers (`values`) are the answer and nodes only hints, so the answer goes last: a fresh node's first
 *   get_peers (its address not yet verified by the responder) must still see the peers. BEP 44 item fields (`v`, `k`, `sig`, `seq`) are never cut: a reply without them is a wrong answer,
 *   and an item reply is bounded by the 1024 ceiling and the per-source rate limit. If nothing is left to trim,
 *   the reply goes out as is when it is within 1024 bytes; a reply over 1024 bytes is dropped.
 */
import { MAX_OUTGOING_PACKET_BYTES } from './constants.ts';
import type { UdpAddress } from './dht-types.ts';
import { handleAnnouncePeer } from './handlers/announce-peer.ts';
import { handleDhtchatForward } from './handlers/dhtchat-forward.ts';
import { handleDhtchatNote } from './handlers/dhtchat-note.ts';
import { handleFindNode } from './handlers/find-node.ts';
import { handleGet } from './handlers/get.ts';
import { handleGetPeers } from './handlers/get-peers.ts';
import type { HandlerContext, HandlerReply } from './handlers/handler-context.ts';
import { handlePing } from './handlers/ping.ts';
import { handlePut } from './handlers/put.ts';
import { handleSampleInfohashes } from './handlers/sample-infohashes.ts';
import { handleUnknown } from './handlers/unknown.ts';
import { encodeKrpc } from './krpc-codec.ts';
import type { KrpcError, KrpcQuery, KrpcResponse } from './krpc-message.ts';

/** QUIC's factor: an unverified address gets at most 3× the bytes it sent. */
export const UNVERIFIED_AMPLIFICATION = 3;

/** Runs the handler for q.method. Handlers never throw; a bug that makes one throw is answered with 202. */
export function dispatchQuery(q: KrpcQuery, from: UdpAddress, ctx: HandlerContext): HandlerReply {
  switch (q.method) {
    case 'ping':
      return handlePing(q, from, ctx);
    case 'find_node':
      return handleFindNode(q, from, ctx);
    case 'get_peers':
      return handleGetPeers(q, from, ctx);
    case 'announce_peer':
      return handleAnnouncePeer(q, from, ctx);
    case 'get':
      return handleGet(q, from, ctx);
    case 'put':
      return handlePut(q, from, ctx);
    case 'sample_infohashes':
      return handleSampleInfohashes(q, from, ctx);
    case 'dhtchat_forward':
      return handleDhtchatForward(q, from, ctx);
    case 'dhtchat_note':
      return handleDhtchatNote(q, from, ctx);
    case 'unknown':
      return handleUnknown(q, from, ctx);
  }
}

/** Bytes allowed for a reply to a query of receivedBytes from an address verified or not. */
export function replyBudget(receivedBytes: number, isVerified: boolean): number {
  if (isVerified) return MAX_OUTGOING_PACKET_BYTES;
  return Math.min(MAX_OUTGOING_PACKET_BYTES, receivedBytes * UNVERIFIED_AMPLIFICATION);
}

type Trimmable = 'values' | 'samples' | 'nodes6' | 'nodes';
const TRIM_ORDER: readonly Trimmable[] = ['samples', 'nodes6', 'nodes', 'values'];

export interface FittedReply {
  bytes: Buffer;
  isTrimmed: boolean;
}

/**
 * Encodes a response, trimming lists until it fits maxBytes. Undefined when even the untrimmable part is over
 * MAX_OUTGOING_PACKET_BYTES (it is then not sent).
 */
export function fitResponse(response: KrpcResponse, maxBytes: number): FittedReply | undefined {
  let bytes = encodeKrpc(response);
  if (bytes.length <= maxBytes) return { bytes, isTrimmed: false };
  const r: { -readonly [K in keyof KrpcResponse]: KrpcResponse[K] } = { ...response };
  for (const field of TRIM_ORDER) {
    const list = r[field] as readonly unknown[] | undefined;
    if (list === undefined || list.length === 0) continue;
    // Drop the estimated excess in one step (entries are equal-sized), then one at a time if that fell short.
    const entryBytes = Math.max(1, Math.floor(encodedListBytes(r, field) / list.length));
    let keep = Math.max(0, list.length - Math.ceil((bytes.length - maxBytes) / entryBytes));
    for (;;) {
      (r as Record<string, unknown>)[field] = list.slice(0, keep);
      bytes = encodeKrpc(r);
      if (bytes.length <= maxBytes) return { bytes, isTrimmed: true };
      if (keep === 0) break;
      keep--;
    }
  }
  if (r.bfsd !== undefined || r.bfpe !== undefined) {
    delete r.bfsd;
    delete r.bfpe;
    bytes = encodeKrpc(r);
    if (bytes.length <= maxBytes) return { bytes, isTrimmed: true };
  }
  return bytes.length <= MAX_OUTGOING_PACKET_BYTES ? { bytes, isTrimmed: true } : undefined;
}

function encodedListBytes(r: KrpcResponse, field: Trimmable): number {
  switch (field) {
    case 'values':
      return (r.values ?? []).reduce((n, p) => n + (p.host.includes(':') ? 21 : 8), 0);
    case 'samples':
      return (r.samples ?? []).length * 20;
    case 'nodes6':
      return (r.nodes6 ?? []).length * 38;
    case 'nodes':
      return (r.nodes ?? []).length * 26;
  }
}

/** Encodes an error reply; shortens the message text (never the code) to fit maxBytes, else undefined. */
export function fitError(error: KrpcError, maxBytes: number): Buffer | undefined {
  let bytes = encodeKrpc(error);
  if (bytes.length <= maxBytes) return bytes;
  const excess = bytes.length - maxBytes;
  if (excess <= error.message.length) {
    bytes = encodeKrpc({ ...error, message: error.message.slice(0, error.message.length - excess) });
    if (bytes.length <= maxBytes) return bytes;
  }
  const bare: KrpcError = { kind: 'error', tid: error.tid, code: error.code, message: '' };
  bytes = encodeKrpc(bare);
  return bytes.length <= maxBytes ? bytes : undefined;
}
