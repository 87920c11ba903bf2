/**
 * Incoming `dhtchat_note` (dhtchat extension, note-relay.ts): a note an introducer forwards to us. Handed to the
 * listeners (the chat layer opens and judges it); without a listener we answer like a node that does not know
 * the method (204).
 */
import type { UdpAddress } from '../../runtime/index.ts';
import type { DhtchatNoteQuery } from '../krpc-message.ts';
import { type HandlerContext, type HandlerReply, reject, respond } from './handler-context.ts';

export function handleDhtchatNote(
  query: DhtchatNoteQuery,
  from: UdpAddress,
  ctx: HandlerContext,
): HandlerReply {
  if (ctx.notes === undefined || !ctx.notes.deliver(query, from)) return reject('UNKNOWN_METHOD');
  return respond({});
}
