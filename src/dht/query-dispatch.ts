/**
 * Incoming queries: one handler per method (handlers/*.ts), then the reply is fitted to its size budget.
 *
 * Size budget of a reply (BEP 32 and anti-amplification):
 * - Never more than MAX_OUTGOING_PACKET_BYTES (1024); a reply carrying a BEP 44 item (`v`) to a verified
 *   address up to MAX_ITEM_PACKET_BYTES (1452), so every item we accept can be served (BEP 44 allows v of 1000).
 * - To an address that has not yet proven it receives our packets (it never answered one of our queries nor
 *   echoed one of our tokens), at most UNVERIFIED_AMPLIFICATION × the bytes of the query, for every reply type
 *   and every error — QUIC's anti-amplification rule (RFC 9000 §8.1). A factor of exactly 1 is impossible for
 *   KRPC: the mandatory top-level `ip` makes even a ping answer longer than a ping.
 * - Lists are trimmed to fit, least useful first: `samples`, `nodes6`, `nodes`, `values`, then the BEP 33 bloom
 *   filters. Peers (`values`) are the answer and nodes only hints, so the answer goes last: a fresh node's first
 *   get_peers (its address not yet verified by the responder) must still see the peers.
 * - A BEP 44 item is never cut, it is withheld whole: when `v`, `k` and `sig` do not fit even without lists (a big
 *   item to an unverified address: ~1 KB for an 85-byte get), the reply goes without them — the token and nodes,
 *   and `seq` for a mutable item, as if the reader were up to date — so a put can still collect its token and a
 *   lookup go on. The node pings every unverified querier (node-core.ts); once it answered, a second get is
 *   served in full (lookups/get-item.ts asks again). libtorrent never sees this: it drops nothing it cannot parse,
 *   and a `seq` without `v` is the BEP's own "you are up to date" answer. A KRPC error instead would make lookups
 *   count us as failed and puts lose our token.
 * - A reply that does not fit its budget after all that is not sent.
 */
import { MAX_ITEM_PACKET_BYTES, MAX_OUTGOING_PACKET_BYTES } from './constants.ts';
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

export interface ReplyBudget {
  /** Bytes any reply may have. */
  readonly maxBytes: number;
  /** Bytes a reply carrying a BEP 44 item may have. */
  readonly maxItemBytes: number;
}

/** Bytes allowed for a reply to a query of receivedBytes from an address verified or not. */
export function replyBudget(receivedBytes: number, isVerified: boolean): ReplyBudget {
  if (isVerified) return { maxBytes: MAX_OUTGOING_PACKET_BYTES, maxItemBytes: MAX_ITEM_PACKET_BYTES };
  const maxBytes = Math.min(MAX_OUTGOING_PACKET_BYTES, receivedBytes * UNVERIFIED_AMPLIFICATION);
  return { maxBytes, maxItemBytes: maxBytes };
}

type Trimmable = 'values' | 'samples' | 'nodes6' | 'nodes';
const TRIM_ORDER: readonly Trimmable[] = ['samples', 'nodes6', 'nodes', 'values'];

export interface FittedReply {
  bytes: Buffer;
  isTrimmed: boolean;
  /** The BEP 44 item (`v`, `k`, `sig`) was left out: it did not fit this address's budget. */
  isItemWithheld: boolean;
}

/** Encodes a response within its budget (see the top of this file); undefined when even its bare form is over. */
export function fitResponse(response: KrpcResponse, budget: ReplyBudget): FittedReply | undefined {
  if (response.v === undefined) return trimToFit(response, budget.maxBytes);
  const withItem = trimToFit(response, budget.maxItemBytes);
  if (withItem !== undefined) return withItem;
  const { v: _v, vBytes: _vBytes, k: _k, sig: _sig, ...withheld } = response;
  const fitted = trimToFit(withheld, budget.maxBytes);
  return fitted === undefined ? undefined : { ...fitted, isTrimmed: true, isItemWithheld: true };
}

/** Encodes a response, trimming lists until it fits maxBytes; undefined when it cannot. */
function trimToFit(response: KrpcResponse, maxBytes: number): FittedReply | undefined {
  let bytes = encodeKrpc(response);
  if (bytes.length <= maxBytes) return { bytes, isTrimmed: false, isItemWithheld: false };
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
      if (bytes.length <= maxBytes) return { bytes, isTrimmed: true, isItemWithheld: false };
      if (keep === 0) break;
      keep--;
    }
  }
  if (r.bfsd !== undefined || r.bfpe !== undefined) {
    delete r.bfsd;
    delete r.bfpe;
    bytes = encodeKrpc(r);
    if (bytes.length <= maxBytes) return { bytes, isTrimmed: true, isItemWithheld: false };
  }
  return undefined;
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
