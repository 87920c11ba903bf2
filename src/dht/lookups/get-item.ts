/**
 * BEP 44 get lookup: asks `get` along the search path and keeps only items that verify —
 * immutable: SHA-1(v bytes) == target (the first one ends the lookup: it cannot be bettered);
 * mutable: SHA-1(k ‖ salt) == target and k's signature over (salt, seq, v); the highest seq wins, so a mutable
 * lookup runs to the end. A node sending an item that does not verify is still a routing responder; its item is
 * ignored. https://www.bittorrent.org/beps/bep_0044.html
 */
import { encodeBencode } from '../../wire/index.ts';
import { immutableTarget, mutableTarget, verifyMutableSignature } from '../bep44.ts';
import {
  BEP44_MAX_SALT_BYTES,
  BEP44_MAX_V_BYTES,
  BEP44_PUBLIC_KEY_BYTES,
  BEP44_SIGNATURE_BYTES,
} from '../constants.ts';
import type { BValue } from '../dht-types.ts';
import type { KrpcResponse } from '../krpc-message.ts';
import { finishLookup, type LookupContext, type LookupStats, runTraversal } from '../traversal.ts';

export interface FoundItem {
  target: Buffer;
  v: BValue;
  /** The exact bencoded bytes of v (what BEP 44 hashes and signs). */
  vBytes: Buffer;
  /** Mutable items only. */
  k?: Buffer;
  sig?: Buffer;
  seq?: number;
  salt?: Buffer;
}

export interface GetItemOptions {
  salt?: Buffer;
}

/** Returns undefined when no node had a valid item; throws DHT_LOOKUP_EXHAUSTED when no node answered at all. */
export async function getItemLookup(
  ctx: LookupContext,
  target: Buffer,
  opts: GetItemOptions = {},
): Promise<FoundItem | undefined> {
  return (await getItemLookupWithStats(ctx, target, opts)).item;
}

export async function getItemLookupWithStats(
  ctx: LookupContext,
  target: Buffer,
  opts: GetItemOptions = {},
): Promise<{ item: FoundItem | undefined; stats: LookupStats }> {
  let best: FoundItem | undefined;
  const result = await runTraversal(ctx, target, {
    kind: 'get',
    query: { method: 'get', target },
    onResponse(_node, response) {
      const item = verifyItem(target, response, opts.salt);
      if (item === undefined) return 'continue';
      if (item.k === undefined) {
        best = item;
        return 'stop';
      }
      if (best === undefined || (best.seq ?? -1) < (item.seq ?? -1)) best = item;
      return 'continue';
    },
  });
  finishLookup(ctx, result);
  return { item: best, stats: result.stats };
}

/** The item in a `get` response if it verifies against target (and salt, for mutable items); else undefined. */
export function verifyItem(target: Buffer, r: KrpcResponse, salt: Buffer | undefined): FoundItem | undefined {
  if (r.v === undefined) return undefined;
  const vBytes = r.vBytes ?? encodeBencode(r.v);
  if (vBytes.length > BEP44_MAX_V_BYTES) return undefined;
  if (r.k === undefined) {
    if (r.sig !== undefined || !immutableTarget(vBytes).equals(target)) return undefined;
    return { target, v: r.v, vBytes };
  }
  const { k, sig, seq } = r;
  if (k.length !== BEP44_PUBLIC_KEY_BYTES || sig?.length !== BEP44_SIGNATURE_BYTES) return undefined;
  if (seq === undefined || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  const usedSalt = salt !== undefined && salt.length > 0 ? salt : undefined;
  if (usedSalt !== undefined && usedSalt.length > BEP44_MAX_SALT_BYTES) return undefined;
  if (!mutableTarget(k, usedSalt).equals(target)) return undefined;
  if (!verifyMutableSignature({ k, sig, seq, vBytes, salt: usedSalt })) return undefined;
  const item: FoundItem = { target, v: r.v, vBytes, k, sig, seq };
  if (usedSalt !== undefined) item.salt = usedSalt;
  return item;
}
