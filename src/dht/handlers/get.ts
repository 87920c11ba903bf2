/**
 * Incoming `get` (BEP 44 §get message): always a write token for (requester IP, target) and the closest nodes;
 * plus the item when we hold it. https://www.bittorrent.org/beps/bep_0044.html
 *
 * - Immutable item: `v`.
 * - Mutable item: `seq` always; `k`, `v`, `sig` unless the query's `seq` is ≥ the stored one (BEP 44: "the k, v,
 *   and sig fields SHOULD be omitted"; libtorrent also keeps `seq` so the reader learns it is up to date).
 * - A query with `seq` is for a mutable item only: an immutable item at that target is not returned (libtorrent).
 * Size: a 1000-byte v cannot fit BEP 32's 1024 bytes with k, sig and token (BEP 44 allows it anyway and every
 * implementation sends ~1.3 KB then): a reply with v may have MAX_ITEM_PACKET_BYTES (one datagram through a
 * 1,500-byte MTU). We keep v whole and drop the second family's nodes when over that, keeping the
 * requester-family nodes that its lookup needs to go on; query-dispatch.ts trims those too if it must, and
 * withholds the item from an address that has not proven it receives (anti-amplification).
 */
import type { UdpAddress } from '../../runtime/index.ts';
import { familyOf } from '../address-class.ts';
import { MAX_ITEM_PACKET_BYTES, MAX_OUTGOING_PACKET_BYTES } from '../constants.ts';
import type { GetQuery } from '../krpc-message.ts';
import { NODE_ID_BYTES } from '../node-id.ts';
import { closestNodesFields, wantedFamilies } from './closest-nodes.ts';
import {
  type HandlerContext,
  type HandlerReply,
  type ReplyBody,
  reject,
  respond,
} from './handler-context.ts';
import { replyBytes } from './reply-size.ts';

function itemFields(query: GetQuery, ctx: HandlerContext): ReplyBody {
  const item = ctx.items.get(query.target, ctx.nowMs);
  if (item === undefined) return {};
  if (item.kind === 'immutable') return query.seq === undefined ? { v: item.v, vBytes: item.vBytes } : {};
  if (query.seq !== undefined && query.seq >= item.seq) return { seq: item.seq };
  return { seq: item.seq, k: item.k, v: item.v, vBytes: item.vBytes, sig: item.sig };
}

export function handleGet(query: GetQuery, from: UdpAddress, ctx: HandlerContext): HandlerReply {
  if (query.target.length !== NODE_ID_BYTES) return reject('BAD_TARGET');

  const token = ctx.tokens.issue(from.host, query.target);
  const item = itemFields(query, ctx);
  const families = wantedFamilies(query.want, from);
  let body: ReplyBody = { ...closestNodesFields(query.target, families, ctx), token, ...item };
  const maxBytes = item.v === undefined ? MAX_OUTGOING_PACKET_BYTES : MAX_ITEM_PACKET_BYTES;
  if (families.length > 1 && replyBytes(body) > maxBytes) {
    body = { ...closestNodesFields(query.target, [familyOf(from.host)], ctx), token, ...item };
  }
  return respond(body);
}
