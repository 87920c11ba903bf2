/**
 * Incoming `dhtchat_forward` (dhtchat extension, note-relay.ts): pass a note on to an address that queried us
 * recently. Every refusal is a KRPC error the caller can count; nothing is sent to the target then.
 */
import type { UdpAddress } from '../../runtime/index.ts';
import type { DhtchatForwardQuery } from '../krpc-message.ts';
import { type HandlerContext, type HandlerReply, reject, respond } from './handler-context.ts';

export function handleDhtchatForward(
  query: DhtchatForwardQuery,
  from: UdpAddress,
  ctx: HandlerContext,
): HandlerReply {
  if (ctx.notes === undefined) return reject('UNKNOWN_METHOD');
  switch (ctx.notes.forward(query, from, ctx.nowMs)) {
    case 'forwarded':
      return respond({});
    case 'too-big':
      return reject('FORWARD_NOTE_TOO_BIG');
    case 'unknown-target':
      return reject('FORWARD_UNKNOWN_TARGET');
    case 'rate-limited':
      return reject('FORWARD_RATE_LIMITED');
    case 'amplification':
      return reject('FORWARD_AMPLIFICATION');
  }
}
