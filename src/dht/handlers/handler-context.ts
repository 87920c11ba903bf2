/**
 * What every incoming-query handler gets and returns. Handlers are pure functions of (query, sender, context):
 * a ladder of guard clauses in the BEP's order, each refusal a named reason with its KRPC code; they never
 * throw and never send — dht-node.ts dispatches on the method, adds tid/id/ip/version and sends the reply.
 *
 * BEP 43: a read-only node does not answer queries at all; that is the node's decision before dispatch, so
 * handlers answer whatever they are given (`isReadOnly` is there for completeness, not consulted here).
 */
import type { Random } from '../../runtime/index.ts';
import { KrpcErrorCode } from '../constants.ts';
import type { NodeInfo } from '../dht-types.ts';
import type { ItemStore } from '../item-store.ts';
import type { KrpcResponse } from '../krpc-message.ts';
import type { NoteRelay } from '../note-relay.ts';
import type { PeerStore } from '../peer-store.ts';
import type { TokenIssuer } from '../tokens.ts';

export interface HandlerContext {
  readonly nowMs: number;
  readonly ownId: Buffer;
  readonly isReadOnly: boolean;
  readonly tokens: TokenIssuer;
  readonly peers: PeerStore;
  readonly items: ItemStore;
  readonly random: Random;
  /** The dhtchat introducer extension (dhtchat_forward / dhtchat_note); undefined: answered 204. */
  readonly notes?: NoteRelay;
  /** Closest good nodes from the routing table for a family, at most count (already filtered for allowPrivate). */
  closestNodes(target: Buffer, family: 4 | 6, count: number): NodeInfo[];
}

export type ReplyBody = Omit<KrpcResponse, 'kind' | 'tid' | 'id' | 'yourAddress' | 'version'>;

export type HandlerReply =
  | { kind: 'response'; body: ReplyBody }
  | { kind: 'error'; code: number; message: string; reason?: RejectReason };

/**
 * Every refusal a handler can return: a stable name (for counters and logs), the KRPC code and the message sent.
 * Documented in docs/ERRORS.md under "dht storage".
 */
export const REJECTS = {
  BAD_TARGET: { code: KrpcErrorCode.protocol, message: 'target must be 20 bytes' },
  BAD_INFO_HASH: { code: KrpcErrorCode.protocol, message: 'info_hash must be 20 bytes' },
  BAD_PORT: { code: KrpcErrorCode.protocol, message: 'invalid port' },
  BAD_TOKEN: { code: KrpcErrorCode.protocol, message: 'invalid token' },
  UNKNOWN_METHOD: { code: KrpcErrorCode.methodUnknown, message: 'method unknown' },
  FORWARD_NOTE_TOO_BIG: { code: KrpcErrorCode.protocol, message: 'note too long' },
  FORWARD_UNKNOWN_TARGET: { code: KrpcErrorCode.protocol, message: 'target has not queried us recently' },
  FORWARD_RATE_LIMITED: { code: KrpcErrorCode.server, message: 'too many forwards' },
  FORWARD_AMPLIFICATION: { code: KrpcErrorCode.protocol, message: 'forward would amplify' },
  PUT_V_NOT_CANONICAL: { code: KrpcErrorCode.protocol, message: 'v is not canonical bencoding' },
  PUT_INCOMPLETE_MUTABLE: { code: KrpcErrorCode.protocol, message: 'mutable put needs k, sig and seq' },
  PUT_BAD_KEY: { code: KrpcErrorCode.protocol, message: 'k must be 32 bytes' },
  PUT_BAD_SIG_LENGTH: { code: KrpcErrorCode.protocol, message: 'sig must be 64 bytes' },
  PUT_BAD_SEQ: { code: KrpcErrorCode.protocol, message: 'invalid (negative) sequence number' },
  PUT_V_TOO_BIG: { code: KrpcErrorCode.messageTooBig, message: 'message (v field) too big' },
  PUT_SALT_TOO_BIG: { code: KrpcErrorCode.saltTooBig, message: 'salt (salt field) too big' },
  PUT_BAD_SIGNATURE: { code: KrpcErrorCode.invalidSignature, message: 'invalid signature' },
  PUT_CAS_MISMATCH: { code: KrpcErrorCode.casMismatch, message: 'CAS mismatch, re-read value and try again' },
  PUT_SEQ_TOO_LOW: { code: KrpcErrorCode.seqTooLow, message: 'sequence number less than current' },
  PUT_SEQ_SAME_VALUE_DIFFERS: {
    code: KrpcErrorCode.seqTooLow,
    message: 'sequence number not newer than current',
  },
} as const;

export type RejectReason = keyof typeof REJECTS;

/** The error reply for a named refusal. */
export function reject(reason: RejectReason): HandlerReply {
  const { code, message } = REJECTS[reason];
  return { kind: 'error', code, message, reason };
}

/** A successful reply. The body must be a fresh object: the node adds tid/id/ip/version to it in place. */
export function respond(body: ReplyBody): HandlerReply {
  return { kind: 'response', body };
}
