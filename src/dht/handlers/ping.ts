/**
 * Incoming `ping` (BEP 5 §ping): the reply is just our id, which the node adds. Nothing to check.
 * https://www.bittorrent.org/beps/bep_0005.html
 */
import type { UdpAddress } from '../../runtime/index.ts';
import type { PingQuery } from '../krpc-message.ts';
import { type HandlerContext, type HandlerReply, respond } from './handler-context.ts';

export function handlePing(_query: PingQuery, _from: UdpAddress, _ctx: HandlerContext): HandlerReply {
  return respond({});
}
