/**
 * A query whose method we do not know. libtorrent's forward-compatibility rule (BEP 51 cites it): if it carries
 * a 20-byte `target` (or `info_hash`, which the codec maps to target), answer it like find_node, so newer
 * lookups can still traverse us; otherwise 204 "Method Unknown" (BEP 5 §Errors).
 */
import type { UdpAddress } from '../../runtime/index.ts';
import type { UnknownQuery } from '../krpc-message.ts';
import { NODE_ID_BYTES } from '../node-id.ts';
import { closestNodesFields, wantedFamilies } from './closest-nodes.ts';
import { type HandlerContext, type HandlerReply, reject, respond } from './handler-context.ts';

export function handleUnknown(query: UnknownQuery, from: UdpAddress, ctx: HandlerContext): HandlerReply {
  if (query.target === undefined || query.target.length !== NODE_ID_BYTES) return reject('UNKNOWN_METHOD');
  return respond(closestNodesFields(query.target, wantedFamilies(query.want, from), ctx));
}
