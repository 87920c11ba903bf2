/**
 * Incoming `find_node` (BEP 5 §find_node, BEP 32 §want): the K closest nodes to target, per wanted family.
 * https://www.bittorrent.org/beps/bep_0005.html
 */
import type { UdpAddress } from '../../runtime/index.ts';
import type { FindNodeQuery } from '../krpc-message.ts';
import { NODE_ID_BYTES } from '../node-id.ts';
import { closestNodesFields, wantedFamilies } from './closest-nodes.ts';
import { type HandlerContext, type HandlerReply, reject, respond } from './handler-context.ts';

export function handleFindNode(query: FindNodeQuery, from: UdpAddress, ctx: HandlerContext): HandlerReply {
  if (query.target.length !== NODE_ID_BYTES) return reject('BAD_TARGET');
  return respond(closestNodesFields(query.target, wantedFamilies(query.want, from), ctx));
}
