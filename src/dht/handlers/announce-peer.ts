/**
 * Incoming `announce_peer` (BEP 5 §announce_peer, BEP 33 `seed`): store the sender as a peer of info_hash.
 * https://www.bittorrent.org/beps/bep_0005.html
 *
 * Guards, in order: info_hash shape (203); the token was issued to this IP for this info-hash (203); the port —
 * with implied_port the UDP source port, else `port` — is 1..65535 (203). The stored address is always the
 * sender's IP (BEP 32: an IPv4 announce can only advertise an IPv4 address). A full swarm still gets a
 * success reply (as libtorrent does): the peer simply is not stored, and get_peers stopped giving it tokens.
 */
import type { UdpAddress } from '../../runtime/index.ts';
import type { AnnouncePeerQuery } from '../krpc-message.ts';
import { NODE_ID_BYTES } from '../node-id.ts';
import { type HandlerContext, type HandlerReply, reject, respond } from './handler-context.ts';

const MAX_PORT = 65_535;

export function handleAnnouncePeer(
  query: AnnouncePeerQuery,
  from: UdpAddress,
  ctx: HandlerContext,
): HandlerReply {
  if (query.infoHash.length !== NODE_ID_BYTES) return reject('BAD_INFO_HASH');
  if (!ctx.tokens.isValid(query.token, from.host, query.infoHash)) return reject('BAD_TOKEN');
  const port = query.impliedPort ? from.port : query.port;
  if (!Number.isInteger(port) || port < 1 || port > MAX_PORT) return reject('BAD_PORT');

  ctx.peers.announce(query.infoHash, { host: from.host, port }, query.seed, ctx.nowMs);
  return respond({});
}
