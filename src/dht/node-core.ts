/**
 * The state of one DHT node and its packet path, below the DhtNode facade (after libtorrent's node.cpp, not
 * copied). On every packet:
 *   1. drop it if the source is unusable or over its rate limit (per IP; per ip:port for relaxed hosts);
 *   2. decode it strictly; a malformed query gets a 203 (if we answer queries), anything else is dropped;
 *   3. a query feeds the routing table (nodeQueried: not BEP 43 read-only senders, not BEP 42 non-compliant
 *      ones; an unverified querier is pinged once to confirm it) and is answered by its handler with our id,
 *      top-level `ip` and version, within the size budget (query-dispatch.ts) — unless we are read-only
 *      (BEP 43), then it is not answered at all. A successful announce_peer/put proves the sender's address
 *      (it echoed a token bound to its IP). A query carrying our own id is ourselves: dropped, address noted;
 *   4. a response or error goes to the rpc-manager; if it matched our query from that very address, the
 *      sender is verified (may receive full-size replies), seen by the routing table, and its `ip` is a vote.
 * It also builds the contexts the handlers and the lookups run with.
 */
import type { Clock, DatagramTransport, Logger, Random } from '../runtime/index.ts';
import { addressKey } from '../runtime/index.ts';
import { familyOf } from './address-class.ts';
import { CLIENT_VERSION, K, SLOW_QUERY_MS } from './constants.ts';
import { bump, createCounters, type DhtCounters } from './dht-stats.ts';
import type { NodeInfo, UdpAddress } from './dht-types.ts';
import { keepFirst } from './handlers/closest-nodes.ts';
import type { HandlerContext } from './handlers/handler-context.ts';
import { sharedHostInfo } from './host-info.ts';
import type { ItemStore } from './item-store.ts';
import { decodeKrpc } from './krpc-codec.ts';
import type { KrpcError, KrpcQuery, KrpcResponse, OutgoingQuery, WantFamily } from './krpc-message.ts';
import type { NodeIdentity } from './node-identity.ts';
import type { NoteRelay } from './note-relay.ts';
import type { PeerStore } from './peer-store.ts';
import { dispatchQuery, fitError, fitResponse, replyBudget } from './query-dispatch.ts';
import { OwnAddresses } from './own-addresses.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { RoutingTable } from './routing-table.ts';
import { RpcManager } from './rpc-manager.ts';
import type { TokenIssuer } from './tokens.ts';
import type { LookupContext, LookupStats } from './traversal.ts';

/** Addresses that answered one of our queries, remembered in LRU order. */
const MAX_VERIFIED_ADDRESSES = 8_192;
/**
 * A node that queries us enters the table unconfirmed, and unconfirmed nodes are never handed out (spoofed
 * sources could otherwise poison other tables). So we ping such a querier once, to confirm it (libtorrent does
 * the same through its refresh of un-pinged entries): at most once per address per VERIFY_PING_SUPPRESS_MS,
 * and at most VERIFY_PINGS_PER_SEC overall.
 */
const VERIFY_PING_SUPPRESS_MS = 10 * 60_000;
const VERIFY_PINGS_PER_SEC = 20;
const CONFIRMED_ONLY = { confirmedOnly: true } as const;
const ZERO_ID = Buffer.alloc(20);
const WANT_METHODS: ReadonlySet<string> = new Set(['find_node', 'get_peers', 'get', 'sample_infohashes']);
export interface NodeCoreOptions {
  transport: DatagramTransport;
  transport6?: DatagramTransport;
  families: readonly (4 | 6)[];
  clock: Clock;
  random: Random;
  logger: Logger;
  identity: NodeIdentity;
  tables: Map<4 | 6, RoutingTable>;
  tokens: TokenIssuer;
  peers: PeerStore;
  items: ItemStore;
  rateLimiter: RateLimiter;
  allowPrivate: boolean;
  enforceBep42: boolean;
  isReadOnly: boolean;
  /** The first bootstrap contacts (the joiner replaces them when it re-resolves router names). */
  bootstrap: readonly UdpAddress[];
  k?: number;
  alpha: number;
  queryTimeoutMs?: number;
  queryRetries?: number;
  maxOutstandingQueries?: number;
  /** The dhtchat introducer extension (note-relay.ts); without it those queries are answered 204. */
  notes?: NoteRelay;
}

export class NodeCore {
  readonly opts: NodeCoreOptions;
  readonly counters: DhtCounters = createCounters();
  readonly rpc: RpcManager;
  /** Contacts for a join: IP addresses the app resolved (seeds() adds them while the table is small). */
  bootstrapContacts: readonly UdpAddress[];
  /** When a query of ours was last answered (a response or a KRPC error): proof that the DHT still hears us. */
  lastAnswerMs: number;
  /** Our queries that timed out since that answer (joiner.ts decides from both whether the DHT is lost). */
  timeoutsSinceAnswer = 0;
  readonly #verified = new Map<string, number>();
  readonly #verifyPinged = new Map<string, number>();
  readonly #verifyPingBudget: RateLimiter;
  readonly #hosts = sharedHostInfo;
  readonly #own: OwnAddresses;
  /** One context reused for every incoming query (handlers are synchronous and keep nothing of it). */
  readonly #queryContext: HandlerContext & { nowMs: number };
  readonly #isHandable = (n: NodeInfo): boolean => this.isAcceptable(n.address) && this.isCompliant(n);
  #isClosed = false;

  constructor(opts: NodeCoreOptions) {
    this.opts = opts;
    this.bootstrapContacts = opts.bootstrap;
    this.lastAnswerMs = opts.clock.monotonicMs();
    this.#own = new OwnAddresses([opts.transport, opts.transport6], this.#hosts, () =>
      opts.identity.externalAddress(),
    );
    this.#verifyPingBudget = new RateLimiter({
      ratePerSec: VERIFY_PINGS_PER_SEC,
      burst: VERIFY_PINGS_PER_SEC,
      maxSources: 1,
    });
    this.rpc = new RpcManager({
      clock: opts.clock,
      random: opts.random,
      send: (bytes, to) => this.send(bytes, to),
      complete: (q, tid) => this.#completeQuery(q, tid),
      ...(opts.queryTimeoutMs === undefined ? {} : { timeoutMs: opts.queryTimeoutMs }),
      ...(opts.queryRetries === undefined ? {} : { retries: opts.queryRetries }),
      ...(opts.maxOutstandingQueries === undefined ? {} : { maxOutstanding: opts.maxOutstandingQueries }),
      onTimeout: (to) => {
        this.timeoutsSinceAnswer++;
        this.tableFor(to.host)?.nodeFailed(to);
      },
    });
    this.#queryContext = this.handlerContext(0) as HandlerContext & { nowMs: number };
    const onPacket = (bytes: Buffer, from: UdpAddress) => this.handlePacket(bytes, from);
    opts.transport.onPacket(onPacket);
    opts.transport6?.onPacket(onPacket);
  }

  get id(): Buffer {
    return this.opts.identity.id;
  }

  tableFor(host: string): RoutingTable | undefined {
    const family = this.#hosts.get(host).family;
    return this.opts.families.includes(family) ? this.opts.tables.get(family) : undefined;
  }

  /** Hosts where test nodes share an IP: rate limits, tables and stores key them by ip:port. */
  isRelaxed(host: string): boolean {
    return this.opts.allowPrivate && this.#hosts.get(host).isExempt;
  }

  /** May this address be stored in a table, handed out, or queried? */
  isAcceptable(address: UdpAddress): boolean {
    if (address.port <= 0 || address.port > 65_535) return false;
    const { cls, family } = this.#hosts.get(address.host);
    if (cls === 'unspecified' || cls === 'multicast' || cls === 'reserved') return false;
    if (cls !== 'public' && !this.opts.allowPrivate) return false;
    if (!this.opts.families.includes(family)) return false;
    return !this.#own.has(address);
  }

  isCompliant(node: NodeInfo): boolean {
    if (!this.opts.enforceBep42) return true;
    // The identity's rule is "valid id || (exempt && !enforceOnPrivate)": decide the cheap half first.
    const identity = this.opts.identity;
    if (this.#hosts.get(node.address.host).isExempt && !identity.enforcesBep42OnPrivate) return true;
    return identity.isCompliant(node);
  }

  send(bytes: Buffer, to: UdpAddress): void {
    if (this.#isClosed) return;
    this.counters.packetsOut++;
    this.counters.bytesOut += bytes.length;
    const viaV6 = this.opts.transport6 !== undefined && this.#hosts.get(to.host).family === 6;
    (viaV6 ? this.opts.transport6! : this.opts.transport).send(bytes, to);
  }

  close(): void {
    this.#isClosed = true;
    this.rpc.close();
    this.opts.transport.onPacket(() => {});
    this.opts.transport6?.onPacket(() => {});
  }

  handlePacket(bytes: Buffer, from: UdpAddress): void {
    if (this.#isClosed) return;
    this.counters.packetsIn++;
    this.counters.bytesIn += bytes.length;
    if (from.port === 0 || this.#own.has(from)) {
      this.counters.dropped.badSource++;
      return;
    }
    const nowMs = this.opts.clock.monotonicMs();
    const fromKey = addressKey(from);
    const source = this.isRelaxed(from.host) ? fromKey : from.host;
    if (!this.opts.rateLimiter.allow(source, nowMs)) {
      this.counters.dropped.rateLimited++;
      return;
    }
    const decoded = decodeKrpc(bytes);
    if (!decoded.ok) {
      this.counters.dropped.malformed++;
      bump(this.counters.malformedByCode, decoded.code);
      if (decoded.isQuery && decoded.tid !== undefined && !this.opts.isReadOnly) {
        const detail = decoded.field === undefined ? decoded.code : `${decoded.code} (${decoded.field})`;
        const { maxBytes } = replyBudget(bytes.length, this.#verified.has(fromKey));
        this.#sendError(decoded.tid, 203, `invalid message: ${detail}`, from, maxBytes);
      }
      return;
    }
    const message = decoded.message;
    try {
      if (message.kind === 'query') this.#onQuery(message, from, fromKey, bytes.length, nowMs);
      else this.#onAnswer(message, from, nowMs);
    } catch (err) {
      // A bug must not escape into the socket's callback (it would crash the process): count and log it.
      this.counters.dropped.handlerFailures++;
      this.opts.logger.error({ err, kind: message.kind }, 'packet handling failed');
    }
  }

  #onQuery(q: KrpcQuery, from: UdpAddress, fromKey: string, receivedBytes: number, nowMs: number): void {
    if (q.id.equals(this.id)) {
      // Our own query came back (someone listed us under an address we did not know was ours): remember it so
      // lookups skip it, and do not answer ourselves.
      this.#own.noteSelf(fromKey);
      this.counters.dropped.badSource++;
      return;
    }
    this.counters.queriesIn[q.method]++;
    // Any query makes its source a possible forward target for a while (note-relay.ts).
    this.opts.notes?.noteQuerier(fromKey, nowMs);
    const node: NodeInfo = { id: q.id, address: from };
    // BEP 43: never put a read-only node in the table; BEP 42: nor a non-compliant one. (The table copies the
    // id, a view into the packet, when it stores a new entry; a known one is only touched.)
    const isTableWorthy = !q.readOnly && this.isAcceptable(from) && this.isCompliant(node);
    if (isTableWorthy) {
      this.tableFor(from.host)?.nodeQueried(node);
      this.#maybeVerify(from, fromKey, nowMs);
    }
    if (this.opts.isReadOnly) {
      this.counters.dropped.readOnly++;
      return;
    }
    let reply: ReturnType<typeof dispatchQuery>;
    try {
      const ctx = this.#queryContext;
      ctx.nowMs = nowMs;
      reply = dispatchQuery(q, from, ctx);
    } catch (err) {
      this.counters.dropped.handlerFailures++;
      this.opts.logger.warn({ err, method: q.method }, 'query handler threw');
      reply = { kind: 'error', code: 202, message: 'server error' };
    }
    if (reply.kind === 'error') {
      const { maxBytes } = replyBudget(receivedBytes, this.#verified.has(fromKey));
      this.#sendError(q.tid, reply.code, reply.message, from, maxBytes);
      return;
    }
    if (q.method === 'announce_peer' || q.method === 'put') {
      // A write token we issued to this IP came back: the address is not spoofed (libtorrent: node_seen).
      this.#markVerified(fromKey);
      if (isTableWorthy) this.tableFor(from.host)?.nodeSeen(node);
    }
    // Completed in place (handlers return fresh bodies): a spread into a new object cost more than a ping reply.
    const response = reply.body as { -readonly [F in keyof KrpcResponse]?: KrpcResponse[F] };
    response.kind = 'response';
    response.tid = q.tid;
    response.id = this.id;
    response.yourAddress = from;
    response.version = CLIENT_VERSION;
    const budget = replyBudget(receivedBytes, this.#verified.has(fromKey));
    const fitted = fitResponse(response as KrpcResponse, budget);
    if (fitted === undefined) {
      this.counters.dropped.replyTooBig++;
      return;
    }
    if (fitted.isTrimmed) this.counters.repliesTrimmed++;
    if (fitted.isItemWithheld) this.counters.itemsWithheld++;
    this.counters.responsesSent++;
    this.send(fitted.bytes, from);
  }

  #sendError(tid: Buffer, code: number, message: string, to: UdpAddress, maxBytes: number): void {
    const error: KrpcError = { kind: 'error', tid, code, message, yourAddress: to, version: CLIENT_VERSION };
    const bytes = fitError(error, maxBytes);
    if (bytes === undefined) {
      this.counters.dropped.replyTooBig++;
      return;
    }
    bump(this.counters.errorsSent, String(code));
    this.send(bytes, to);
  }

  #onAnswer(message: KrpcResponse | KrpcError, from: UdpAddress, nowMs: number): void {
    const query = this.rpc.handleAnswer(message, from);
    if (query === undefined) {
      this.counters.dropped.unmatched++;
      return;
    }
    this.counters.answersIn++;
    this.lastAnswerMs = nowMs;
    this.timeoutsSinceAnswer = 0;
    this.#markVerified(addressKey(from));
    if (message.yourAddress !== undefined) this.opts.identity.vote(from.host, message.yourAddress, nowMs);
    if (message.kind !== 'response') return;
    // The id is a view into the packet: the table copies it if it keeps a new entry.
    const node: NodeInfo = { id: message.id, address: from };
    if (this.isAcceptable(from) && this.isCompliant(node)) this.tableFor(from.host)?.nodeSeen(node);
    // BEP 32: a dual-stack node asks for both families; the lookup uses the list of its own family, the other
    // one fills the other table.
    const otherFamily = familyOf(from.host) === 4 ? message.nodes6 : message.nodes;
    for (const other of (otherFamily ?? []).slice(0, this.opts.k ?? K)) this.#heardAbout(other);
  }

  #completeQuery(q: OutgoingQuery, tid: Buffer): KrpcQuery {
    const isDual = this.opts.families.length === 2;
    const want: WantFamily[] = isDual && WANT_METHODS.has(q.method) ? ['n4', 'n6'] : [];
    return {
      ...q,
      kind: 'query',
      tid,
      id: this.id,
      readOnly: this.opts.isReadOnly,
      want,
      version: CLIENT_VERSION,
    } as KrpcQuery;
  }

  handlerContext(nowMs: number): HandlerContext {
    const core = this;
    return {
      nowMs,
      // A getter: the reused query context must follow a BEP 42 re-key.
      get ownId() {
        return core.id;
      },
      isReadOnly: this.opts.isReadOnly,
      tokens: this.opts.tokens,
      peers: this.opts.peers,
      items: this.opts.items,
      random: this.opts.random,
      ...(this.opts.notes === undefined ? {} : { notes: this.opts.notes }),
      closestNodes: (target, family, count) => {
        const table = this.opts.families.includes(family) ? this.opts.tables.get(family) : undefined;
        if (table === undefined) return [];
        return keepFirst(table.closest(target, count * 2, CONFIRMED_ONLY), count, this.#isHandable);
      },
    };
  }

  lookupContext(family: 4 | 6, onDone?: (stats: LookupStats) => void): LookupContext {
    const k = this.opts.k ?? K;
    return {
      sender: this.rpc,
      clock: this.opts.clock,
      random: this.opts.random,
      k,
      alpha: this.opts.alpha,
      slowQueryMs: SLOW_QUERY_MS,
      family,
      logger: this.opts.logger,
      // Others may still list our id at an address we left (a restart on a new port): never ask "ourselves"
      // there, or every lookup near our id waits out that query's timeout.
      ownId: this.id,
      seeds: (target) => this.seeds(target, family),
      isCompliant: (node) => this.isCompliant(node),
      isAcceptable: (address) => this.isAcceptable(address),
      onHeardAbout: (node) => this.#heardAbout(node),
      onLookupDone: (stats) => {
        bump(this.counters.lookups, stats.kind);
        this.counters.lookupQueries += stats.queries + stats.storeQueries;
        onDone?.(stats);
      },
    };
  }

  #heardAbout(node: NodeInfo): void {
    if (!this.isAcceptable(node.address) || !this.isCompliant(node)) return;
    // Decoded ids are views into the packet: the table copies one before it keeps it for hours.
    this.tableFor(node.address.host)?.heardAbout(node);
  }

  /**
   * Table contacts closest to target; while the table is small (or always, withBootstrap: a join, which must
   * reach the network even when every node in the table has gone), the bootstrap contacts too (id unknown: zeros).
   */
  seeds(target: Buffer, family: 4 | 6, withBootstrap = false): NodeInfo[] {
    const k = this.opts.k ?? K;
    const table = this.opts.tables.get(family);
    const nodes = table?.closest(target, k * 2) ?? [];
    if (nodes.length >= k && !withBootstrap) return nodes;
    const known = new Set(nodes.map((n) => addressKey(n.address)));
    for (const address of this.bootstrapContacts) {
      if (familyOf(address.host) !== family || known.has(addressKey(address))) continue;
      if (!this.isAcceptable(address)) continue; // a private contact needs allowPrivate like any other
      nodes.push({ id: ZERO_ID, address });
    }
    return nodes;
  }

  /** Pings an unverified querier (see VERIFY_PING_SUPPRESS_MS); the answer confirms it in the table. */
  #maybeVerify(address: UdpAddress, key: string, nowMs: number): void {
    if (this.opts.isReadOnly || this.#verified.has(key)) return;
    const lastMs = this.#verifyPinged.get(key);
    if (lastMs !== undefined && nowMs - lastMs < VERIFY_PING_SUPPRESS_MS) return;
    if (!this.#verifyPingBudget.allow('verify', nowMs)) return;
    touchBounded(this.#verifyPinged, key, nowMs);
    this.rpc.query(address, { method: 'ping' }).catch(() => {});
  }

  #markVerified(key: string): void {
    touchBounded(this.#verified, key, this.opts.clock.monotonicMs());
  }
}

/** Sets key to value as the most recent entry of an LRU-ordered map of at most MAX_VERIFIED_ADDRESSES. */
function touchBounded(map: Map<string, number>, key: string, value: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_VERIFIED_ADDRESSES) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}
