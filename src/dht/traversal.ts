/**
 * The one iterative lookup engine (BEP 5 "find_node"/"get_peers" search, Kademlia §2.3). Every operation in
 * lookups/*.ts is a small strategy on it: which query to send, and what to take from each response.
 * https://www.bittorrent.org/beps/bep_0005.html
 *
 * How it runs (after libtorrent's traversal_algorithm, not copied):
 * - Candidates are kept sorted by XOR distance to the target, deduplicated by address and by id, at most
 *   MAX_LOOKUP_CANDIDATES. Seeds with an all-zero id (bootstrap contacts whose id we do not know) sort first.
 * - Up to α queries are "active". A query unanswered after slowQueryMs stops counting against α (the lookup
 *   widens instead of waiting) but stays in flight until the sender resolves or rejects it (its full timeout).
 * - Only nodes closer than the k-th closest compliant responder are ever queried. The lookup ends when the k
 *   closest compliant nodes have answered and nothing closer is in flight or unqueried; or when nothing is in
 *   flight and nothing is left to ask; or when the strategy says stop; or after maxQueries queries.
 * - Non-compliant nodes (BEP 42: ctx.isCompliant false) are queried and their nodes used, but they never count
 *   toward termination and never appear in the result (so they never get stores).
 * - The engine never throws; remote garbage (wrong id length, wrong family, port 0, unacceptable addresses,
 *   oversized node lists) is dropped. Results are handed over as values with LookupStats.
 */
import type { Clock, Logger, Random, Timer } from '../runtime/index.ts';
import { addressKey, DhtchatError } from '../runtime/index.ts';
import { MAX_LOOKUP_CANDIDATES, MAX_LOOKUP_QUERIES, MAX_NODES_PER_RESPONSE } from './constants.ts';
import type { NodeInfo, UdpAddress } from './dht-types.ts';
import type { KrpcResponse, OutgoingQuery } from './krpc-message.ts';
import { NODE_ID_BYTES, shortId, xorDistance } from './node-id.ts';
import type { QuerySender } from './rpc-manager.ts';

export type { QuerySender } from './rpc-manager.ts';

export interface LookupContext {
  sender: QuerySender;
  clock: Clock;
  random: Random;
  k: number;
  /** Active queries at once. 3 is BEP 5's classic α; slow-query widening makes a larger one rarely useful. */
  alpha: number;
  slowQueryMs: number;
  /** Routing table contacts (+ bootstrap contacts with an all-zero id when the table is empty). */
  seeds(target: Buffer): NodeInfo[];
  /** BEP 42 enforcement: non-compliant nodes never count toward termination and never receive stores. */
  isCompliant(node: NodeInfo): boolean;
  /** Drops private/unroutable addresses when !allowPrivate. */
  isAcceptable(address: UdpAddress): boolean;
  family: 4 | 6;
  logger: Logger;
  /**
   * Default false: a slow query among the k closest holds the lookup open until it answers or fully times out
   * (libtorrent does the same; "nothing in flight can be closer"). true: once k compliant nodes answered, a
   * node silent for slowQueryMs is presumed gone — ~30% lower latency, ~7% lower recall on a hostile model
   * network (bench/lookup-alpha.ts, docs/BENCHMARKS.md).
   */
  canSkipSlow?: boolean;
  /** Our own id: others list us, and asking ourselves is a wasted round trip (and a store to ourselves). */
  ownId?: Buffer;
  /** Queries one lookup may send (default MAX_LOOKUP_QUERIES). */
  maxQueries?: number;
  /** Each node a response listed (acceptable, right family): the node tells its routing table heardAbout. */
  onHeardAbout?(node: NodeInfo): void;
  /** Called once per finished lookup (benchmarks, DhtStats). */
  onLookupDone?(stats: LookupStats): void;
}

/** Messages one lookup cost: the search itself plus any store phase (announce_peer / put). */
export interface LookupStats {
  kind: string;
  queries: number;
  responses: number;
  /** Queries rejected: timeouts, KRPC errors, and responses the strategy refused as garbage. */
  failures: number;
  /** Queries that passed slowQueryMs unanswered (α widened for each). */
  slowQueries: number;
  storeQueries: number;
  storeResponses: number;
  durationMs: number;
}

export type ResponseVerdict = 'continue' | 'stop' | 'reject';

export interface TraversalStrategy {
  readonly kind: string;
  /** The query every candidate gets. */
  readonly query: OutgoingQuery;
  /** Looks at one response; 'reject' treats the node as failed, 'stop' ends the lookup now. */
  onResponse?(node: NodeInfo, response: KrpcResponse, isCompliant: boolean): ResponseVerdict | undefined;
}

export interface Responder {
  node: NodeInfo;
  response: KrpcResponse;
}

export interface TraversalResult {
  /** Up to k closest compliant responders, closest first. */
  closest: Responder[];
  /** Every node that answered (compliant or not). */
  respondedCount: number;
  isStoppedEarly: boolean;
  stats: LookupStats;
}

type CandidateState = 'new' | 'active' | 'slow' | 'responded' | 'failed';

interface Candidate {
  node: NodeInfo;
  /** XOR distance to the target; all zeros for a contact whose id we do not know yet. */
  distance: Buffer;
  state: CandidateState;
  isCompliant: boolean;
  response?: KrpcResponse;
  slowTimer?: Timer;
}

export function emptyStats(kind: string): LookupStats {
  return {
    kind,
    queries: 0,
    responses: 0,
    failures: 0,
    slowQueries: 0,
    storeQueries: 0,
    storeResponses: 0,
    durationMs: 0,
  };
}

/** Runs one lookup to completion. Never rejects. */
export function runTraversal(
  ctx: LookupContext,
  target: Buffer,
  strategy: TraversalStrategy,
): Promise<TraversalResult> {
  return new Promise((resolve) => new Traversal(ctx, target, strategy, resolve).start());
}

class Traversal {
  readonly #ctx: LookupContext;
  readonly #target: Buffer;
  readonly #strategy: TraversalStrategy;
  readonly #resolve: (r: TraversalResult) => void;
  readonly #stats: LookupStats;
  readonly #startMs: number;
  readonly #maxQueries: number;
  #candidates: Candidate[] = [];
  readonly #seenAddresses = new Set<string>();
  readonly #seenIds = new Set<string>();
  #respondedCount = 0;
  #isDone = false;

  constructor(
    ctx: LookupContext,
    target: Buffer,
    strategy: TraversalStrategy,
    resolve: (r: TraversalResult) => void,
  ) {
    this.#ctx = ctx;
    this.#target = target;
    this.#strategy = strategy;
    this.#resolve = resolve;
    this.#stats = emptyStats(strategy.kind);
    this.#startMs = ctx.clock.monotonicMs();
    this.#maxQueries = ctx.maxQueries ?? MAX_LOOKUP_QUERIES;
  }

  start(): void {
    for (const seed of this.#ctx.seeds(this.#target)) this.#add(seed, true);
    this.#pump();
  }

  #add(node: NodeInfo, isSeed: boolean): void {
    const key = addressKey(node.address);
    if (this.#seenAddresses.has(key)) return;
    if (node.id.length !== NODE_ID_BYTES) return;
    if (!isSeed && !this.#isUsableAddress(node.address)) return;
    const isUnknownId = isSeed && node.id.every((b) => b === 0);
    if (this.#ctx.ownId?.equals(node.id) === true) return;
    const idHex = node.id.toString('hex');
    if (!isUnknownId && this.#seenIds.has(idHex)) return;
    this.#seenAddresses.add(key);
    if (!isUnknownId) this.#seenIds.add(idHex);
    const distance = isUnknownId ? Buffer.alloc(NODE_ID_BYTES) : xorDistance(node.id, this.#target);
    const candidate: Candidate = { node, distance, state: 'new', isCompliant: false };
    let i = this.#candidates.length;
    while (i > 0 && Buffer.compare(this.#candidates[i - 1]!.distance, distance) > 0) i--;
    this.#candidates.splice(i, 0, candidate);
    if (this.#candidates.length > MAX_LOOKUP_CANDIDATES) {
      // Forget the farthest ones not in flight (their addresses stay "seen": they are not re-added).
      for (
        let j = this.#candidates.length - 1;
        j >= 0 && this.#candidates.length > MAX_LOOKUP_CANDIDATES;
        j--
      ) {
        const s = this.#candidates[j]!.state;
        if (s === 'new' || s === 'failed') this.#candidates.splice(j, 1);
      }
    }
  }

  #isUsableAddress(a: UdpAddress): boolean {
    if (!Number.isInteger(a.port) || a.port <= 0 || a.port > 65535) return false;
    if ((a.host.includes(':') ? 6 : 4) !== this.#ctx.family) return false;
    return this.#ctx.isAcceptable(a);
  }

  /** Sends what α allows among the closest, then checks whether the lookup is over. */
  #pump(): void {
    if (this.#isDone) return;
    const k = this.#ctx.k;
    let active = this.#candidates.filter((c) => c.state === 'active').length;
    let results = 0;
    let isTopBusy = false;
    for (const c of this.#candidates) {
      if (results >= k) break;
      if (c.state === 'responded') {
        if (c.isCompliant) results++;
      } else if (c.state === 'active' || (c.state === 'slow' && this.#ctx.canSkipSlow !== true)) {
        isTopBusy = true;
      } else if (c.state === 'new') {
        if (active < this.#ctx.alpha && this.#stats.queries < this.#maxQueries) {
          this.#send(c);
          active++;
          isTopBusy = true;
        } else if (this.#stats.queries < this.#maxQueries) {
          isTopBusy = true;
        }
      }
    }
    const inFlight = this.#candidates.some((c) => c.state === 'active' || c.state === 'slow');
    if ((results >= k && !isTopBusy) || !inFlight) this.#finish(false);
  }

  #send(c: Candidate): void {
    c.state = 'active';
    this.#stats.queries++;
    c.slowTimer = this.#ctx.clock.setTimer(this.#ctx.slowQueryMs, () => {
      if (c.state !== 'active' || this.#isDone) return;
      c.state = 'slow';
      this.#stats.slowQueries++;
      this.#pump();
    });
    let pending: Promise<KrpcResponse>;
    try {
      pending = this.#ctx.sender.query(c.node.address, this.#strategy.query);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (response) => this.#onResponse(c, response),
      (err: unknown) => this.#onFailure(c, err),
    );
  }

  #onResponse(c: Candidate, response: KrpcResponse): void {
    c.slowTimer?.cancel();
    if (this.#isDone) return;
    if (!Buffer.isBuffer(response.id) || response.id.length !== NODE_ID_BYTES) {
      this.#fail(c);
      return;
    }
    if (!response.id.equals(c.node.id)) {
      // A bootstrap contact told us its id, or a node answered with another id than we were told: believe the
      // answer (the transaction proves the address), unless another candidate already holds that id.
      const idHex = response.id.toString('hex');
      if (this.#seenIds.has(idHex) || this.#ctx.ownId?.equals(response.id) === true) {
        this.#fail(c);
        return;
      }
      this.#seenIds.add(idHex);
      c.node = { id: Buffer.from(response.id), address: c.node.address };
      c.distance = xorDistance(c.node.id, this.#target);
      this.#candidates.sort((a, b) => Buffer.compare(a.distance, b.distance));
    }
    c.isCompliant = this.#ctx.isCompliant(c.node);
    let verdict: ResponseVerdict | undefined;
    try {
      verdict = this.#strategy.onResponse?.(c.node, response, c.isCompliant);
    } catch (err) {
      this.#ctx.logger.debug({ err: String(err), node: shortId(c.node.id) }, 'lookup strategy threw');
      verdict = 'reject';
    }
    if (verdict === 'reject') {
      this.#fail(c);
      return;
    }
    c.state = 'responded';
    c.response = response;
    this.#respondedCount++;
    this.#stats.responses++;
    const listed = this.#ctx.family === 4 ? response.nodes : response.nodes6;
    for (const n of (listed ?? []).slice(0, MAX_NODES_PER_RESPONSE)) {
      if (n.id.length !== NODE_ID_BYTES || !this.#isUsableAddress(n.address)) continue;
      this.#ctx.onHeardAbout?.(n);
      this.#add(n, false);
    }
    if (verdict === 'stop') {
      this.#finish(true);
      return;
    }
    this.#pump();
  }

  #onFailure(c: Candidate, err: unknown): void {
    c.slowTimer?.cancel();
    if (this.#isDone) return;
    this.#ctx.logger.debug({ node: shortId(c.node.id), err: String(err) }, 'lookup query failed');
    this.#fail(c);
  }

  #fail(c: Candidate): void {
    c.state = 'failed';
    this.#stats.failures++;
    this.#pump();
  }

  #finish(isStoppedEarly: boolean): void {
    if (this.#isDone) return;
    this.#isDone = true;
    for (const c of this.#candidates) c.slowTimer?.cancel();
    const closest: Responder[] = [];
    for (const c of this.#candidates) {
      if (closest.length >= this.#ctx.k) break;
      if (c.state === 'responded' && c.isCompliant && c.response !== undefined)
        closest.push({ node: c.node, response: c.response });
    }
    this.#stats.durationMs = this.#ctx.clock.monotonicMs() - this.#startMs;
    this.#resolve({
      closest,
      respondedCount: this.#respondedCount,
      isStoppedEarly,
      stats: this.#stats,
    });
  }
}

/** Ends a lookup's bookkeeping: reports its stats and throws when no node answered at all. */
export function finishLookup(
  ctx: LookupContext,
  result: TraversalResult,
  stats: LookupStats = result.stats,
): void {
  ctx.onLookupDone?.(stats);
  if (result.respondedCount === 0) {
    throw new DhtchatError(
      'DHT_LOOKUP_EXHAUSTED',
      `${stats.kind} lookup: no node answered (${stats.queries} queries sent)`,
    );
  }
}

export interface StoreOutcome {
  /** Nodes that acknowledged the store. */
  stored: number;
  /** KRPC error answers by code (e.g. 301 cas mismatch, 302 seq too low). */
  errorCodes: Record<number, number>;
  /** Stores that timed out or failed locally. */
  failed: number;
  /** The nodes that acknowledged, in the order they answered. */
  ackedBy: NodeInfo[];
}

/** Sends one store query (announce_peer / put) to each node in parallel and counts the outcomes. */
export async function storeToAll(
  ctx: LookupContext,
  stores: ReadonlyArray<{ node: NodeInfo; query: OutgoingQuery }>,
  stats: LookupStats,
): Promise<StoreOutcome> {
  const outcome: StoreOutcome = { stored: 0, errorCodes: {}, failed: 0, ackedBy: [] };
  const startMs = ctx.clock.monotonicMs();
  await Promise.all(
    stores.map(async ({ node, query }) => {
      stats.storeQueries++;
      try {
        await ctx.sender.query(node.address, query);
        stats.storeResponses++;
        outcome.stored++;
        outcome.ackedBy.push(node);
      } catch (err) {
        const code = (err as { krpcCode?: unknown } | null)?.krpcCode;
        if (typeof code === 'number') outcome.errorCodes[code] = (outcome.errorCodes[code] ?? 0) + 1;
        else outcome.failed++;
      }
    }),
  );
  stats.durationMs += ctx.clock.monotonicMs() - startMs;
  return outcome;
}
