/**
 * Incoming `put` (BEP 44 §put message, §Errors): store an immutable or mutable item after every check — the
 * item store stores; every check is here, one guard per line, in BEP 44's error order:
 *   shape (203) → v ≤ 1000 bytes (205) → salt ≤ 64 bytes (207) → token for this IP and target (203)
 *   → signature over the signable bytes (206) → cas equals the stored seq (301) → seq not lower (302).
 * https://www.bittorrent.org/beps/bep_0044.html
 *
 * Deviations and choices the BEP leaves open:
 * - Same seq, same value: accepted and the item's 2-hour lifetime restarts (BEP 44 "SHOULD reset its timeout").
 * - Same seq, different value: refused with 302 (BEP 44: seq "lower than or equal" MUST be rejected; 302 is the
 *   closest code). libtorrent answers success without storing; both keep the stored value.
 * - `seq` or `k` or `sig` present without the other two: 203 (libtorrent would store it as immutable under the
 *   key's target — not a state worth copying). The codec already refuses most of these; this guard is the rule.
 * - Negative seq: 203, as libtorrent ("MAY reject", BEP 44).
 * - `cas` on a slot we hold nothing for is ignored (BEP 44 "SHOULD be ignored"); `cas` and `salt` on an
 *   immutable put are ignored (salt still must be ≤ 64 bytes, 207, checked before we know the kind).
 */
import type { UdpAddress } from '../../runtime/index.ts';
import { encodeBencode } from '../../wire/index.ts';
import { immutableTarget, mutableTarget, verifyMutableSignature } from '../bep44.ts';
import {
  BEP44_MAX_SALT_BYTES,
  BEP44_MAX_V_BYTES,
  BEP44_PUBLIC_KEY_BYTES,
  BEP44_SIGNATURE_BYTES,
} from '../constants.ts';
import type { PutQuery } from '../krpc-message.ts';
import { type HandlerContext, type HandlerReply, reject, respond } from './handler-context.ts';

/** True when vBytes is exactly the canonical encoding of v (the codec decodes strictly; this is the rule). */
function isCanonical(query: PutQuery): boolean {
  try {
    return query.vBytes.length > 0 && encodeBencode(query.v).equals(query.vBytes);
  } catch {
    return false;
  }
}

export function handlePut(query: PutQuery, from: UdpAddress, ctx: HandlerContext): HandlerReply {
  const { k, sig, seq, salt, cas } = query;
  const isMutable = k !== undefined || sig !== undefined || seq !== undefined;
  if (!isCanonical(query)) return reject('PUT_V_NOT_CANONICAL');
  if (isMutable && (k === undefined || sig === undefined || seq === undefined))
    return reject('PUT_INCOMPLETE_MUTABLE');
  if (k !== undefined && k.length !== BEP44_PUBLIC_KEY_BYTES) return reject('PUT_BAD_KEY');
  if (sig !== undefined && sig.length !== BEP44_SIGNATURE_BYTES) return reject('PUT_BAD_SIG_LENGTH');
  if (seq !== undefined && (!Number.isSafeInteger(seq) || seq < 0)) return reject('PUT_BAD_SEQ');
  if (query.vBytes.length > BEP44_MAX_V_BYTES) return reject('PUT_V_TOO_BIG');
  if (salt !== undefined && salt.length > BEP44_MAX_SALT_BYTES) return reject('PUT_SALT_TOO_BIG');
  const target = k !== undefined ? mutableTarget(k, salt) : immutableTarget(query.vBytes);
  if (!ctx.tokens.isValid(query.token, from.host, target)) return reject('BAD_TOKEN');

  if (k === undefined || sig === undefined || seq === undefined) {
    ctx.items.put({ kind: 'immutable', target, v: query.v, vBytes: query.vBytes }, ctx.nowMs);
    return respond({});
  }

  if (!verifyMutableSignature({ k, salt, seq, vBytes: query.vBytes, sig }))
    return reject('PUT_BAD_SIGNATURE');
  const stored = ctx.items.get(target, ctx.nowMs);
  const storedSeq = stored?.kind === 'mutable' ? stored.seq : undefined;
  if (storedSeq !== undefined && cas !== undefined && cas !== storedSeq) return reject('PUT_CAS_MISMATCH');
  if (storedSeq !== undefined && seq < storedSeq) return reject('PUT_SEQ_TOO_LOW');
  if (storedSeq !== undefined && seq === storedSeq) {
    if (!stored!.vBytes.equals(query.vBytes)) return reject('PUT_SEQ_SAME_VALUE_DIFFERS');
    ctx.items.touch(target, ctx.nowMs);
    return respond({});
  }

  const item = { kind: 'mutable' as const, target, v: query.v, vBytes: query.vBytes, k, sig, seq };
  ctx.items.put(salt !== undefined && salt.length > 0 ? { ...item, salt } : item, ctx.nowMs);
  return respond({});
}
