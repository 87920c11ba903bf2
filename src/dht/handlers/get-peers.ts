/**
 * Incoming `get_peers` (BEP 5 §get_peers, BEP 32, BEP 33): always the closest nodes and (unless the swarm is
 * full for this requester) a write token; peers of the requester's family as `values` when we have any; with
 * `scrape`, the two BEP 33 bloom filters instead of values.
 * https://www.bittorrent.org/beps/bep_0005.html · bep_0032.html · bep_0033.html
 *
 * Size (BEP 32: ≤ 1024 bytes): values are trimmed to what fits beside the nodes; a scrape reply (two 256-byte
 * filters) carries only the requester-family nodes even when `want` asks for both, as BEP 33 advises.
 * Token withheld when full: BEP 33 §Changed announce accounting and libtorrent — announces then spill over to
 * neighbouring nodes instead of being dropped here.
 */
import type { UdpAddress } from '../../runtime/index.ts';
import { familyOf } from '../address-class.ts';
import { MAX_OUTGOING_PACKET_BYTES, MAX_PEERS_PER_REPLY_V4, MAX_PEERS_PER_REPLY_V6 } from '../constants.ts';
import type { GetPeersQuery } from '../krpc-message.ts';
import { NODE_ID_BYTES } from '../node-id.ts';
import { closestNodesFields, wantedFamilies } from './closest-nodes.ts';
import {
  type HandlerContext,
  type HandlerReply,
  type ReplyBody,
  reject,
  respond,
} from './handler-context.ts';
import { replyBytes, valueEntryBytes, valuesBytes } from './reply-size.ts';

export function handleGetPeers(query: GetPeersQuery, from: UdpAddress, ctx: HandlerContext): HandlerReply {
  if (query.infoHash.length !== NODE_ID_BYTES) return reject('BAD_INFO_HASH');

  const family = familyOf(from.host);
  const scrape = query.scrape ? ctx.peers.scrape(query.infoHash, family, ctx.nowMs) : undefined;
  const families = scrape !== undefined ? [family] : wantedFamilies(query.want, from);
  const body: { -readonly [F in keyof ReplyBody]: ReplyBody[F] } = closestNodesFields(
    query.infoHash,
    families,
    ctx,
  );
  if (!ctx.peers.isFullFor(query.infoHash, from.host, ctx.nowMs)) {
    body.token = ctx.tokens.issue(from.host, query.infoHash);
  }
  if (scrape !== undefined) {
    body.bfsd = scrape.bfsd;
    body.bfpe = scrape.bfpe;
    return respond(body);
  }

  const cap = family === 4 ? MAX_PEERS_PER_REPLY_V4 : MAX_PEERS_PER_REPLY_V6;
  const roomBytes = MAX_OUTGOING_PACKET_BYTES - replyBytes(body) - valuesBytes(0, family);
  const maxCount = Math.min(cap, Math.floor(roomBytes / valueEntryBytes(family)));
  const values = ctx.peers.getPeers(query.infoHash, family, {
    maxCount,
    noSeed: query.noSeed,
    nowMs: ctx.nowMs,
    random: ctx.random,
  });
  if (values.length > 0) body.values = values;
  return respond(body);
}
