/**
 * BEP 44 get lookup: asks `get` along the search path and keeps only items that verify —
 * immutable: SHA-1(v bytes) == target (the first one ends the lookup: it cannot be bettered);
 * mutable: SHA-1(k ‖ salt) == target and k's signature over (salt, seq, v); the highest seq wins, so a mutable
 * lookup runs to the end. A node sending an item that does not verify is still a routing responder; its item is
 * ignored. https://www.bittorrent.org/beps/bep_0044.html
 *
 * Asking again: a dhtchat node withholds a big item from an address that has not yet proven it receives
 * (anti-amplification, query-dispatch.ts) and pings that address; once we answered, it serves the item. So when
 * the search ends, nodes that may hold more than we found are asked once more, in parallel: those that answered
 * a `seq` without `v` above the best seq found (a withheld mutable item), and — when nothing was found and no salt
 * says the item is mutable — the k closest responders (an immutable item withheld looks like none). A found
 * item costs nothing extra; a miss of an unsalted target costs one more round trip to k nodes.
 */
import { addressKey } from '../../runtime/index.ts';
import { encodeBencode } from '../../wire/index.ts';
import { immutableTarget, mutableTarget, verifyMutableSignature } from '../bep44.ts';
import {
  BEP44_MAX_SALT_BYTES,
  BEP44_MAX_V_BYTES,
  BEP44_PUBLIC_KEY_BYTES,
  BEP44_SIGNATURE_BYTES,
} from '../constants.ts';
import type { BValue, NodeInfo } from '../dht-types.ts';
import type { KrpcResponse, OutgoingQuery } from '../krpc-message.ts';
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

/**
 * A node near an item's target that answered our `get`, with the write token it gave us then: asking it again
 * (requeryItem) or putting to it (putMutableToHolders) needs no new search. Tokens are valid for 5–10 minutes
 * (BEP 5 says 10; libtorrent and we rotate the secret every 5 and accept the previous one).
 */
export interface ItemHolder {
  readonly node: NodeInfo;
  readonly token: Buffer;
  /** When the token was given (our clock). */
  readonly tokenAtMs: number;
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
): Promise<{ item: FoundItem | undefined; stats: LookupStats; holders: ItemHolder[] }> {
  let best: FoundItem | undefined;
  /** Responders that announced a mutable item's seq without sending it, by address. */
  const withheld = new Map<string, { node: NodeInfo; seq: number }>();
  const consider = (response: KrpcResponse): 'continue' | 'stop' => {
    const item = verifyItem(target, response, opts.salt);
    if (item === undefined) return 'continue';
    if (item.k === undefined) {
      best = item;
      return 'stop';
    }
    if (best === undefined || (best.seq ?? -1) < (item.seq ?? -1)) best = item;
    return 'continue';
  };
  const query: OutgoingQuery = { method: 'get', target };
  const result = await runTraversal(ctx, target, {
    kind: 'get',
    query,
    onResponse(node, response) {
      if (response.v === undefined && response.seq !== undefined) {
        withheld.set(addressKey(node.address), { node, seq: response.seq });
      }
      return consider(response);
    },
  });
  const again = new Map<string, NodeInfo>();
  for (const [key, { node, seq }] of withheld) if (seq > (best?.seq ?? -1)) again.set(key, node);
  if (best === undefined && opts.salt === undefined) {
    for (const { node } of result.closest) again.set(addressKey(node.address), node);
  }
  const stats = result.stats;
  const startMs = ctx.clock.monotonicMs();
  await Promise.all(
    [...again.values()].map(async (node) => {
      stats.queries++;
      try {
        consider(await ctx.sender.query(node.address, query));
        stats.responses++;
      } catch {
        stats.failures++;
      }
    }),
  );
  stats.durationMs += ctx.clock.monotonicMs() - startMs;
  finishLookup(ctx, result);
  return { item: best, stats, holders: holdersOf(result.closest, startMs) };
}

/** The responders that gave a token, closest first. */
export function holdersOf(
  responders: ReadonlyArray<{ node: NodeInfo; response: KrpcResponse }>,
  atMs: number,
): ItemHolder[] {
  return responders.flatMap(({ node, response }) =>
    Buffer.isBuffer(response.token) && response.token.length > 0
      ? [{ node, token: response.token, tokenAtMs: atMs }]
      : [],
  );
}

export interface RequeryResult {
  /** The best valid item the nodes sent (for a mutable item, only one above `seq` when seq was given). */
  item: FoundItem | undefined;
  /** The highest seq any node announced (with or without v): above ours means there is news to fetch. */
  highestSeq: number | undefined;
  /** The nodes that answered, with fresh tokens. */
  holders: ItemHolder[];
  /** Nodes that did not answer (timeout or error). */
  failures: number;
}

/**
 * Asks only the given nodes (no search): one round trip. With `seq`, a node holding that seq or lower answers
 * without v (BEP 44: "the k, v and sig fields SHOULD be omitted"), so an unchanged item costs a few bytes.
 * A record's reader re-asks the holders its last lookup found instead of searching again every few seconds.
 */
export async function requeryItem(
  ctx: LookupContext,
  nodes: readonly NodeInfo[],
  target: Buffer,
  opts: GetItemOptions & { seq?: number; maxWaitMs?: number } = {},
): Promise<RequeryResult> {
  const query: OutgoingQuery = {
    method: 'get',
    target,
    ...(opts.seq === undefined ? {} : { seq: opts.seq }),
  };
  const answered: Array<{ node: NodeInfo; response: KrpcResponse }> = [];
  let best: FoundItem | undefined;
  let highestSeq: number | undefined;
  let isOver = false;
  const startMs = ctx.clock.monotonicMs();
  const all = Promise.all(
    nodes.map(async (node) => {
      try {
        const response = await ctx.sender.query(node.address, query);
        if (isOver) return;
        answered.push({ node, response });
        if (response.seq !== undefined && Number.isSafeInteger(response.seq)) {
          highestSeq = Math.max(highestSeq ?? -1, response.seq);
        }
        const item = verifyItem(target, response, opts.salt);
        if (item !== undefined && (best === undefined || (item.seq ?? -1) > (best.seq ?? -1))) best = item;
      } catch {
        // Counted below: every node that did not answer in time is a failure.
      }
    }),
  );
  // A silent node must not hold a fast poll for a whole query timeout: after maxWaitMs what answered counts,
  // and late answers are ignored.
  let timer: { cancel(): void } | undefined;
  const maxWaitMs = opts.maxWaitMs;
  const deadline =
    maxWaitMs === undefined
      ? all
      : new Promise<void>((resolve) => {
          timer = ctx.clock.setTimer(maxWaitMs, resolve);
        });
  await Promise.race([all, deadline]);
  timer?.cancel();
  isOver = true;
  const failures = nodes.length - answered.length;
  ctx.onLookupDone?.({
    kind: 'requery',
    queries: nodes.length,
    responses: answered.length,
    failures,
    slowQueries: 0,
    storeQueries: 0,
    storeResponses: 0,
    durationMs: ctx.clock.monotonicMs() - startMs,
  });
  const order = new Map(nodes.map((n, i) => [addressKey(n.address), i]));
  answered.sort(
    (a, b) => (order.get(addressKey(a.node.address)) ?? 0) - (order.get(addressKey(b.node.address)) ?? 0),
  );
  return { item: best, highestSeq, holders: holdersOf(answered, ctx.clock.monotonicMs()), failures };
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
