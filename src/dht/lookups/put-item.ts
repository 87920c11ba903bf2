/**
 * BEP 44 put: a lookup that collects tokens with `get` queries, then a put to exactly the k closest compliant
 * nodes that gave a token (libtorrent's put_data). For a mutable item the search also learns the highest valid
 * seq already stored, so seq undefined → that + 1 (1 when none). `cas` is passed through; nodes answering
 * 301 (cas mismatch) or 302 (seq too low) are counted in outcome.errorCodes, not thrown.
 * https://www.bittorrent.org/beps/bep_0044.html
 */
import { DhtchatError } from '../../runtime/index.ts';
import { type Ed25519KeyPair, ed25519Sign } from '../../crypto/index.ts';
import { encodeBencode } from '../../wire/index.ts';
import { immutableTarget, mutableTarget, signableBuffer } from '../bep44.ts';
import { BEP44_MAX_SALT_BYTES, BEP44_MAX_V_BYTES } from '../constants.ts';
import type { BValue, NodeInfo } from '../dht-types.ts';
import type { KrpcResponse, OutgoingQuery } from '../krpc-message.ts';
import {
  finishLookup,
  type LookupContext,
  type LookupStats,
  runTraversal,
  type StoreOutcome,
  storeToAll,
  type TraversalStrategy,
} from '../traversal.ts';
import { holdersOf, type ItemHolder, verifyItem } from './get-item.ts';

export interface PutResult {
  target: Buffer;
  /** Nodes that acknowledged the put. */
  stored: number;
  outcome: StoreOutcome;
  stats: LookupStats;
  /** The nodes that acknowledged, with the tokens used: a later put may go to them directly. */
  holders: ItemHolder[];
}

export interface PutMutableOptions {
  keyPair: Ed25519KeyPair;
  v: BValue;
  salt?: Buffer;
  /** undefined → highest valid seq found + 1, or 1. */
  seq?: number;
  /** Compare-and-swap: nodes store only if their current seq equals this (else 301). */
  cas?: number;
}

/** Throws DHT_ITEM_TOO_LARGE for v over 1000 bytes, DHT_LOOKUP_EXHAUSTED when no node answered. */
export async function putImmutableLookup(ctx: LookupContext, v: BValue): Promise<PutResult> {
  const vBytes = encodeValue(v);
  const target = immutableTarget(vBytes);
  const { holders, stats } = await collectTokens(ctx, target, () => undefined);
  const outcome = await storeToAll(
    ctx,
    holders.map(({ node, token }) => ({ node, query: { method: 'put', token, v, vBytes } })),
    stats,
  );
  ctx.onLookupDone?.(stats);
  return { target, stored: outcome.stored, outcome, stats, holders: ackedHolders(holders, outcome) };
}

/** Also throws DHT_SALT_TOO_LARGE (salt over 64 bytes) and DHT_BAD_SEQ (seq not a safe integer ≥ 0). */
export async function putMutableLookup(
  ctx: LookupContext,
  opts: PutMutableOptions,
): Promise<PutResult & { seq: number }> {
  const vBytes = encodeValue(opts.v);
  const salt = opts.salt !== undefined && opts.salt.length > 0 ? opts.salt : undefined;
  if (salt !== undefined && salt.length > BEP44_MAX_SALT_BYTES) {
    throw new DhtchatError(
      'DHT_SALT_TOO_LARGE',
      `salt is ${salt.length} bytes (max ${BEP44_MAX_SALT_BYTES})`,
    );
  }
  for (const n of [opts.seq, opts.cas]) {
    if (n !== undefined && (!Number.isSafeInteger(n) || n < 0)) {
      throw new DhtchatError('DHT_BAD_SEQ', `seq/cas must be a safe integer >= 0, got ${n}`);
    }
  }
  const target = mutableTarget(opts.keyPair.publicKey, salt);
  let highestSeq: number | undefined;
  const { holders, stats } = await collectTokens(ctx, target, (response) => {
    const item = verifyItem(target, response, salt);
    if (item?.seq !== undefined && (highestSeq === undefined || item.seq > highestSeq)) highestSeq = item.seq;
  });
  const seq = opts.seq ?? (highestSeq === undefined ? 1 : highestSeq + 1);
  const outcome = await storeToAll(ctx, mutableStores(holders, opts, vBytes, salt, seq), stats);
  ctx.onLookupDone?.(stats);
  return { target, stored: outcome.stored, seq, outcome, stats, holders: ackedHolders(holders, outcome) };
}

/**
 * A mutable put to holders a recent lookup found (their tokens must still be valid): no search, one round trip.
 * Nodes whose token expired answer 203 (counted in outcome.errorCodes); the caller then puts with a lookup.
 */
export async function putMutableToHolders(
  ctx: LookupContext,
  holders: readonly ItemHolder[],
  opts: PutMutableOptions & { seq: number },
): Promise<PutResult & { seq: number }> {
  const vBytes = encodeValue(opts.v);
  const salt = opts.salt !== undefined && opts.salt.length > 0 ? opts.salt : undefined;
  if (!Number.isSafeInteger(opts.seq) || opts.seq < 0)
    throw new DhtchatError('DHT_BAD_SEQ', `seq must be a safe integer >= 0, got ${opts.seq}`);
  const target = mutableTarget(opts.keyPair.publicKey, salt);
  const stats: LookupStats = {
    kind: 'put-to-holders',
    queries: 0,
    responses: 0,
    failures: 0,
    slowQueries: 0,
    storeQueries: 0,
    storeResponses: 0,
    durationMs: 0,
  };
  const outcome = await storeToAll(ctx, mutableStores(holders, opts, vBytes, salt, opts.seq), stats);
  ctx.onLookupDone?.(stats);
  return {
    target,
    stored: outcome.stored,
    seq: opts.seq,
    outcome,
    stats,
    holders: ackedHolders(holders, outcome),
  };
}

function mutableStores(
  holders: ReadonlyArray<{ node: NodeInfo; token: Buffer }>,
  opts: PutMutableOptions,
  vBytes: Buffer,
  salt: Buffer | undefined,
  seq: number,
): Array<{ node: NodeInfo; query: OutgoingQuery }> {
  const k = opts.keyPair.publicKey;
  const sig = ed25519Sign(opts.keyPair, signableBuffer({ salt, seq, vBytes }));
  return holders.map(({ node, token }) => {
    const query: OutgoingQuery = {
      method: 'put',
      token,
      v: opts.v,
      vBytes,
      k,
      sig,
      seq,
      ...(opts.cas === undefined ? {} : { cas: opts.cas }),
      ...(salt === undefined ? {} : { salt }),
    };
    return { node, query };
  });
}

function ackedHolders(holders: readonly ItemHolder[], outcome: StoreOutcome): ItemHolder[] {
  const acked = new Set(outcome.ackedBy);
  return holders.filter((h) => acked.has(h.node));
}

function encodeValue(v: BValue): Buffer {
  const vBytes = encodeBencode(v);
  if (vBytes.length > BEP44_MAX_V_BYTES) {
    throw new DhtchatError(
      'DHT_ITEM_TOO_LARGE',
      `v is ${vBytes.length} bytes bencoded (max ${BEP44_MAX_V_BYTES})`,
    );
  }
  return vBytes;
}

/** The search phase: `get` along the path; returns the k closest compliant responders that gave a token. */
async function collectTokens(
  ctx: LookupContext,
  target: Buffer,
  onItem: (response: KrpcResponse) => void,
): Promise<{ holders: ItemHolder[]; stats: LookupStats }> {
  const strategy: TraversalStrategy = {
    kind: 'put',
    query: { method: 'get', target },
    onResponse(_node, response) {
      onItem(response);
      return 'continue';
    },
  };
  const result = await runTraversal(ctx, target, strategy);
  if (result.respondedCount === 0) finishLookup(ctx, result);
  return { holders: holdersOf(result.closest, ctx.clock.monotonicMs()), stats: result.stats };
}
