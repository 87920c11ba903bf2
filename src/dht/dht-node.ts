/**
 * DhtNode: the public facade of a BitTorrent Mainline DHT node (BEP 5, 32, 33, 42, 43, 44, 51).
 * It wires the parts and adds nothing of its own but the client operations:
 *   node-core.ts    packet path (rate limit → decode → handlers / rpc-manager), table feeding, BEP 42 votes
 *   node-identity.ts  our id and external address (BEP 42), the compliance rule for others
 *   maintenance.ts  pings, bucket refresh, store purges · republisher.ts  BEP 44 hourly re-put
 *   joiner.ts       joining, and joining again with back-off when the DHT is lost or our address changed
 *   lookups/*.ts    the client operations, run once per address family and merged (BEP 32 dual stack)
 * Time, randomness and I/O come in through the options; nothing here touches the real world.
 */
import type { Ed25519KeyPair } from '../crypto/index.ts';
import {
  type Clock,
  type DatagramTransport,
  DhtchatError,
  type Logger,
  nullLogger,
  type Random,
} from '../runtime/index.ts';
import { addressKey, type UdpAddress } from '../runtime/index.ts';
import { familyOf } from './address-class.ts';
import { mutableTarget } from './bep44.ts';
import { familiesOf } from './transport-families.ts';
import { ALPHA, K } from './constants.ts';
import type { DhtCounters } from './dht-stats.ts';
import type { BValue, NodeInfo } from './dht-types.ts';
import { ItemStore, type ItemStoreOptions } from './item-store.ts';
import { announceLookup } from './lookups/announce.ts';
import { findNodeLookup } from './lookups/find-node.ts';
import {
  type FoundItem,
  getItemLookupWithStats,
  type ItemHolder,
  type RequeryResult,
  requeryItem,
} from './lookups/get-item.ts';
import { type BootstrapSource, type JoinEvent, Joiner } from './joiner.ts';
import { getPeersLookup, MAX_LOOKUP_PEERS, orBlooms } from './lookups/get-peers.ts';
import { putImmutableLookup, putMutableLookup, putMutableToHolders } from './lookups/put-item.ts';
import { Maintenance } from './maintenance.ts';
import { NodeCore } from './node-core.ts';
import { type AddressChange, NodeIdentity } from './node-identity.ts';
import { type NoteListener, NoteRelay, type NoteRelayCounters } from './note-relay.ts';
import { compareDistance } from './node-id.ts';
import { PeerStore, type PeerStoreOptions } from './peer-store.ts';
import { RateLimiter, type RateLimiterOptions } from './rate-limiter.ts';
import { Republisher } from './republisher.ts';
import { RoutingTable } from './routing-table.ts';
import { decodeRoutingTableState, encodeRoutingTableState } from './routing-table-state.ts';
import type { RpcStats } from './rpc-manager.ts';
import { TokenIssuer } from './tokens.ts';
import { mergeOutcomes, type StoreResult } from './store-result.ts';
import type { LookupContext, StoreOutcome } from './traversal.ts';

export interface DhtNodeOptions {
  /** The socket. Bound to '::' (dual-stack) it carries both families; to one IP, that IP's family. */
  transport: DatagramTransport;
  /** A second socket for IPv6 (when `transport` is IPv4-only, e.g. two in-memory endpoints). */
  transport6?: DatagramTransport;
  /** Families to speak; default: what the transports are bound to. */
  families?: readonly (4 | 6)[];
  clock: Clock;
  random: Random;
  logger?: Logger;
  /** Initial node id (re-keyed under BEP 42 once the external IP is confirmed, if it does not match). */
  id?: Buffer;
  /**
   * Contacts for joining: IP addresses, or a function called at every join attempt (the app re-resolves the
   * router names in it; a network that was down at start may be up at the next attempt).
   */
  bootstrap?: BootstrapSource;
  /** Join outcomes: joined, join_failed (with the retry delay), rejoining (joiner.ts). */
  onJoinEvent?: (event: JoinEvent) => void;
  /** Accept, store, hand out and query loopback/private addresses (a loopback test network needs it). */
  allowPrivate?: boolean;
  /** BEP 42 enforcement (default true): non-compliant nodes stay out of tables, lookup results and stores. */
  enforceBep42?: boolean;
  /** Treat private/loopback addresses like public ones for BEP 42 (default false: they are exempt). */
  enforceBep42OnPrivate?: boolean;
  /** BEP 43: never answer queries; flag ours with `ro`. */
  readOnly?: boolean;
  /** Bytes from exportState(): id and nodes, so a restart rejoins without the bootstrap contacts. */
  savedState?: Buffer;
  k?: number;
  alpha?: number;
  queryTimeoutMs?: number;
  /** 0 or 1 resend after a timeout. */
  queryRetries?: number;
  maxOutstandingQueries?: number;
  /** Distinct voters that confirm our external address (default 3). */
  minExternalIpVotes?: number;
  rateLimit?: RateLimiterOptions;
  storeLimits?: { peers?: PeerStoreOptions; items?: ItemStoreOptions };
  /** BEP 44 republish interval (default one hour). */
  republishMs?: number;
}

export interface DhtStats extends DhtCounters {
  id: string;
  rpc: RpcStats;
  outstandingQueries: number;
  routingTable: { 4?: number; 6?: number };
  storedPeers: number;
  storedInfoHashes: number;
  storedItems: number;
  republishing: number;
  rekeys: number;
  /** The dhtchat introducer extension: notes forwarded for others, refused, and received. */
  notes: NoteRelayCounters;
}

export type { StoreResult } from './store-result.ts';

export interface PutMutableArgs {
  keyPair: Ed25519KeyPair;
  v: BValue;
  salt?: Buffer;
  seq?: number;
  cas?: number;
  /** See get(): a node silent for a second does not hold the search open once k answered. */
  isQuick?: boolean;
}

export class DhtNode {
  readonly #core: NodeCore;
  readonly #identity: NodeIdentity;
  readonly #tables = new Map<4 | 6, RoutingTable>();
  readonly #maintenance: Maintenance;
  readonly #joiner: Joiner;
  readonly #republisher: Republisher;
  readonly #notes: NoteRelay;
  readonly #random: Random;
  readonly #clock: Clock;
  readonly #k: number;
  #isStarted = false;
  #isClosed = false;

  constructor(opts: DhtNodeOptions) {
    const logger = opts.logger ?? nullLogger;
    const families = opts.families ?? familiesOf(opts.transport, opts.transport6);
    const allowPrivate = opts.allowPrivate ?? false;
    const saved = opts.savedState === undefined ? undefined : decodeRoutingTableState(opts.savedState);
    if (opts.savedState !== undefined && saved === undefined)
      logger.warn({}, 'saved DHT state unreadable; ignored');
    this.#k = opts.k ?? K;
    this.#identity = new NodeIdentity({
      random: opts.random,
      logger,
      ...(opts.id !== undefined ? { id: opts.id } : saved !== undefined ? { id: saved.id } : {}),
      allowPrivate,
      enforceBep42OnPrivate: opts.enforceBep42OnPrivate ?? false,
      families,
      ...(opts.minExternalIpVotes === undefined ? {} : { minVotes: opts.minExternalIpVotes }),
      onRekey: (newId) => this.#onRekey(newId),
      onAddressChange: (change) => this.#onAddressChange(change),
    });
    const isRelaxed = (host: string) => core.isRelaxed(host);
    this.#random = opts.random;
    this.#clock = opts.clock;
    this.#notes = new NoteRelay({
      random: opts.random,
      ownId: () => this.#identity.id,
      send: (bytes, to) => core.send(bytes, to),
      sourceKey: (a) => (core.isRelaxed(a.host) ? addressKey(a) : a.host),
    });
    for (const family of families) {
      this.#tables.set(
        family,
        new RoutingTable({ ownId: this.#identity.id, clock: opts.clock, k: this.#k, isRelaxed, family }),
      );
    }
    const core: NodeCore = new NodeCore({
      transport: opts.transport,
      ...(opts.transport6 === undefined ? {} : { transport6: opts.transport6 }),
      families,
      clock: opts.clock,
      random: opts.random,
      logger,
      identity: this.#identity,
      tables: this.#tables,
      tokens: new TokenIssuer(opts.clock, opts.random),
      peers: new PeerStore({ isRelaxedHost: isRelaxed, ...opts.storeLimits?.peers }),
      items: new ItemStore(opts.storeLimits?.items),
      rateLimiter: new RateLimiter(opts.rateLimit),
      allowPrivate,
      enforceBep42: opts.enforceBep42 ?? true,
      isReadOnly: opts.readOnly ?? false,
      notes: this.#notes,
      bootstrap: Array.isArray(opts.bootstrap) ? opts.bootstrap : [],
      k: this.#k,
      alpha: opts.alpha ?? ALPHA,
      ...(opts.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: opts.queryTimeoutMs }),
      ...(opts.queryRetries === undefined ? {} : { queryRetries: opts.queryRetries }),
      ...(opts.maxOutstandingQueries === undefined
        ? {}
        : { maxOutstandingQueries: opts.maxOutstandingQueries }),
    });
    this.#core = core;
    for (const node of saved?.nodes ?? []) {
      if (core.isAcceptable(node.address)) core.tableFor(node.address.host)?.heardAbout(node);
    }
    this.#joiner = new Joiner(core, {
      bootstrap: opts.bootstrap ?? [],
      onEvent: opts.onJoinEvent ?? (() => {}),
    });
    this.#maintenance = new Maintenance(core, this.#joiner);
    this.#republisher = new Republisher(core, opts.republishMs);
  }

  /** Our node id; changes on a BEP 42 re-key. */
  get id(): Buffer {
    return this.#identity.id;
  }

  /**
   * Joins (a lookup of our own id through the bootstrap contacts) and starts the maintenance timers. Resolves
   * when that first attempt ended, joined or not: a failed join is retried with back-off (onJoinEvent tells).
   */
  async start(): Promise<void> {
    this.#assertOpen();
    if (this.#isStarted) return;
    this.#isStarted = true;
    this.#maintenance.start();
    await this.#joiner.start();
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#joiner.stop();
    this.#maintenance.stop();
    this.#republisher.stop();
    this.#core.close();
  }

  /** Pings a node; yourAddress: how it sees us (its top-level `ip`), when it said. */
  async ping(address: UdpAddress): Promise<{ id: Buffer; address: UdpAddress; yourAddress?: UdpAddress }> {
    this.#assertOpen();
    const r = await this.#core.rpc.query(address, { method: 'ping' });
    return { id: r.id, address, ...(r.yourAddress === undefined ? {} : { yourAddress: r.yourAddress }) };
  }

  /**
   * Asks an introducer to forward a note (≤ NOTE_MAX_BYTES) to `to` (note-relay.ts); resolves with how it sees
   * us. Rejects: KrpcRemoteError when refused (202, 203; other DHTs: 203/204), DhtchatError on timeout.
   */
  async forwardNote(
    introducer: UdpAddress,
    to: UdpAddress,
    note: Buffer,
  ): Promise<{ yourAddress?: UdpAddress }> {
    this.#assertOpen();
    const r = await this.#core.rpc.query(introducer, { method: 'dhtchat_forward', to, note });
    return r.yourAddress === undefined ? {} : { yourAddress: r.yourAddress };
  }

  /** Notes introducers forward to us (dhtchat_note); returns the unsubscribe. Without a listener: answered 204. */
  onNote(listener: NoteListener): () => void {
    return this.#notes.onNote(listener);
  }

  /** Up to count nodes that answered us, spread over the id space (introducer candidates, diagnostics). */
  answeringNodes(count: number): NodeInfo[] {
    const out: NodeInfo[] = [];
    for (const table of this.#tables.values()) {
      out.push(...table.closest(this.#random.bytes(20), count, { confirmedOnly: true }));
    }
    return out.slice(0, count);
  }

  /** The k closest nodes to target that answered, over every family, closest first. */
  async findNode(target: Buffer): Promise<NodeInfo[]> {
    const lists = await this.#perFamily((ctx) => findNodeLookup(ctx, target));
    return lists
      .flat()
      .sort((a, b) => compareDistance(target, a.id, b.id))
      .slice(0, this.#k * lists.length);
  }

  /**
   * Peers announced on infoHash (BEP 5); isQuick: see get() (for peer lists polled often: relays, requests).
   * `closest`: the closest nodes that answered (each family's), for getPeersFrom.
   */
  async getPeers(
    infoHash: Buffer,
    opts: { scrape?: boolean; noSeed?: boolean; isQuick?: boolean } = {},
  ): Promise<{ peers: UdpAddress[]; closest: NodeInfo[]; bfsd?: Buffer; bfpe?: Buffer }> {
    const { isQuick, ...lookupOpts } = opts;
    const results = await this.#perFamily((ctx) => getPeersLookup(quick(ctx, isQuick), infoHash, lookupOpts));
    const seen = new Set<string>();
    const peers: UdpAddress[] = [];
    for (const peer of results.flatMap((r) => r.peers)) {
      const key = `${peer.host}|${peer.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      peers.push(peer);
    }
    const bfsd = orBlooms(results.map((r) => r.bfsd));
    const bfpe = orBlooms(results.map((r) => r.bfpe));
    const closest = results.flatMap((r) => r.closest.map((c) => c.node));
    return {
      peers,
      closest,
      ...(bfsd === undefined ? {} : { bfsd }),
      ...(bfpe === undefined ? {} : { bfpe }),
    };
  }

  /**
   * Peers announced on infoHash, asked of these nodes only (one get_peers each, no search): a cheap re-read of a
   * topic whose closest nodes a getPeers found. Never rejects; nodes that fail give nothing.
   */
  async getPeersFrom(nodes: readonly NodeInfo[], infoHash: Buffer): Promise<UdpAddress[]> {
    this.#assertOpen();
    const query = { method: 'get_peers', infoHash, scrape: false, noSeed: false } as const;
    const answers = await Promise.all(
      nodes.map((n) => this.#core.rpc.query(n.address, query).catch(() => undefined)),
    );
    const peers = new Map<string, UdpAddress>();
    for (const peer of answers.flatMap((a) => a?.values ?? [])) {
      if (peers.size >= MAX_LOOKUP_PEERS) break;
      if (!Number.isInteger(peer.port) || peer.port <= 0 || peer.port > 65535) continue;
      if (!this.#core.isAcceptable(peer)) continue;
      peers.set(`${peer.host}|${peer.port}`, { host: peer.host, port: peer.port });
    }
    return [...peers.values()];
  }

  /** Announces us as a peer; port undefined → implied_port (the receivers use our source port). */
  async announcePeer(infoHash: Buffer, opts: { port?: number; seed?: boolean } = {}): Promise<StoreResult> {
    const results = await this.#perFamily((ctx) =>
      announceLookup(ctx, infoHash, opts.port, opts.seed ?? false),
    );
    return mergeOutcomes(results.map((r) => r.outcome));
  }

  /** Stores an immutable item (BEP 44) and republishes it hourly until forgetItem(target). isQuick: see get(). */
  async putImmutable(v: BValue, opts: { isQuick?: boolean } = {}): Promise<StoreResult & { target: Buffer }> {
    const results = await this.#perFamily((ctx) => putImmutableLookup(quick(ctx, opts.isQuick), v));
    const target = results[0]!.target;
    this.#republisher.track({ kind: 'immutable', target, v });
    return { target, ...mergeOutcomes(results.map((r) => r.outcome)) };
  }

  /**
   * Stores a mutable item (BEP 44), signed with keyPair; seq undefined → the highest seq found + 1 (1 if none).
   * With two families the first lookup fixes seq for the second, so both store the same item.
   */
  async putMutable(
    args: PutMutableArgs,
  ): Promise<StoreResult & { target: Buffer; seq: number; holders: ItemHolder[] }> {
    this.#assertOpen();
    let seq = args.seq;
    let target: Buffer | undefined;
    const outcomes: StoreOutcome[] = [];
    const holders: ItemHolder[] = [];
    let firstError: unknown;
    for (const family of this.#tables.keys()) {
      try {
        const { isQuick, ...item } = args;
        const r = await putMutableLookup(quick(this.#core.lookupContext(family), isQuick), {
          ...item,
          ...(seq === undefined ? {} : { seq }),
        });
        seq = r.seq;
        target = r.target;
        outcomes.push(r.outcome);
        holders.push(...r.holders);
      } catch (err) {
        firstError ??= err;
      }
    }
    if (target === undefined || seq === undefined) throw firstError;
    this.#republisher.track({
      kind: 'mutable',
      target,
      keyPair: args.keyPair,
      v: args.v,
      seq,
      ...(args.salt === undefined || args.salt.length === 0 ? {} : { salt: args.salt }),
    });
    return { target, seq, holders, ...mergeOutcomes(outcomes) };
  }

  /**
   * A mutable put to nodes a recent put or get found (their tokens), with no search: one round trip. Not
   * republished hourly (the caller publishes again itself). Nodes whose token expired answer 203, counted in
   * errorCodes: then put with putMutable.
   */
  async putMutableTo(
    holders: readonly ItemHolder[],
    args: PutMutableArgs & { seq: number },
  ): Promise<StoreResult & { target: Buffer; seq: number; holders: ItemHolder[] }> {
    const { isQuick: _isQuick, ...item } = args;
    const results = await this.#perHolderFamily(holders, (ctx, some) => putMutableToHolders(ctx, some, item));
    return {
      target: results[0]?.target ?? mutableTarget(args.keyPair.publicKey, args.salt),
      seq: args.seq,
      holders: results.flatMap((r) => r.holders),
      ...mergeOutcomes(results.map((r) => r.outcome)),
    };
  }

  /**
   * Finds an item (BEP 44); for mutable items the highest valid seq over every family. isQuick: once k nodes
   * answered, a node silent for a second is presumed gone instead of holding the lookup open until its query
   * times out (3 s) — for callers that poll again anyway (chat records), at a small cost in recall.
   */
  async get(target: Buffer, opts: { salt?: Buffer; isQuick?: boolean } = {}): Promise<FoundItem | undefined> {
    return (await this.getWithHolders(target, opts)).item;
  }

  /** get(), and the k closest responders of each family with their write tokens (for requery / putMutableTo). */
  async getWithHolders(
    target: Buffer,
    opts: { salt?: Buffer; isQuick?: boolean } = {},
  ): Promise<{ item: FoundItem | undefined; holders: ItemHolder[] }> {
    const lookupOpts = opts.salt === undefined ? {} : { salt: opts.salt };
    const results = await this.#perFamily((ctx) =>
      getItemLookupWithStats(quick(ctx, opts.isQuick), target, lookupOpts),
    );
    let best: FoundItem | undefined;
    for (const { item } of results) {
      if (item === undefined) continue;
      if (best === undefined || (item.seq ?? -1) > (best.seq ?? -1)) best = item;
    }
    return { item: best, holders: results.flatMap((r) => r.holders) };
  }

  /**
   * Asks only these nodes for an item (no search, one round trip; requeryItem in lookups/get-item.ts). With seq,
   * nodes that hold nothing newer answer without v; with maxWaitMs, nodes silent that long count as failed.
   * Never rejects: nodes that fail are counted.
   */
  async requery(
    nodes: readonly NodeInfo[],
    target: Buffer,
    opts: { salt?: Buffer; seq?: number; maxWaitMs?: number } = {},
  ): Promise<RequeryResult> {
    const results = await this.#perHolderFamily(
      nodes.map((node) => ({ node })),
      (ctx, some) =>
        requeryItem(
          ctx,
          some.map((h) => h.node),
          target,
          opts,
        ),
    );
    let item: FoundItem | undefined;
    let highestSeq: number | undefined;
    for (const r of results) {
      if (r.item !== undefined && (item === undefined || (r.item.seq ?? -1) > (item.seq ?? -1)))
        item = r.item;
      if (r.highestSeq !== undefined) highestSeq = Math.max(highestSeq ?? -1, r.highestSeq);
    }
    return {
      item,
      highestSeq,
      holders: results.flatMap((r) => r.holders),
      failures: results.reduce((n, r) => n + r.failures, 0),
    };
  }

  /** Stops republishing an item we put. */
  forgetItem(target: Buffer): boolean {
    return this.#republisher.forget(target);
  }

  /** Our id and every routing table entry, bencoded (write it to the data dir; pass back as savedState). */
  exportState(): Buffer {
    const nodes = [...this.#tables.values()].flatMap((t) => t.all());
    return encodeRoutingTableState({ id: this.id, nodes });
  }

  routingTableSize(): number {
    let n = 0;
    for (const t of this.#tables.values()) n += t.size();
    return n;
  }

  /**
   * How DHT nodes that answered within sinceMs see us: the host most of them name and the port each of those
   * saw us on. One port everywhere: our NAT keeps one mapping (or there is none); a different port per node:
   * it maps per destination (symmetric). Unlike externalAddress() it needs no majority of the last 10 minutes:
   * after a move it names the new address as soon as a few nodes answered.
   */
  externalReports(sinceMs: number): { host: string; ports: number[] } | undefined {
    return this.#identity.externalReports(this.#clock.monotonicMs(), sinceMs);
  }

  /** Our external address as confirmed by BEP 42 voting, if any yet. */
  externalAddress(): UdpAddress | undefined {
    return this.#identity.externalAddress();
  }

  stats(): DhtStats {
    const c = this.#core.counters;
    const routingTable: { 4?: number; 6?: number } = {};
    for (const [family, table] of this.#tables) routingTable[family] = table.size();
    return {
      ...structuredClone(c),
      id: this.id.toString('hex'),
      rpc: { ...this.#core.rpc.stats },
      outstandingQueries: this.#core.rpc.outstandingCount,
      routingTable,
      storedPeers: this.#core.opts.peers.peerCount,
      storedInfoHashes: this.#core.opts.peers.infoHashCount,
      storedItems: this.#core.opts.items.size,
      republishing: this.#republisher.trackedCount,
      rekeys: this.#identity.rekeyCount,
      notes: { ...this.#notes.counters },
    };
  }

  /** Runs op on each family's share of the given nodes (only families we speak, and that have nodes). */
  async #perHolderFamily<H extends { node: NodeInfo }, T>(
    holders: readonly H[],
    op: (ctx: LookupContext, some: H[]) => Promise<T>,
  ): Promise<T[]> {
    this.#assertOpen();
    const runs: Promise<T>[] = [];
    for (const family of this.#tables.keys()) {
      const some = holders.filter((h) => familyOf(h.node.address.host) === family);
      if (some.length > 0) runs.push(op(this.#core.lookupContext(family), some));
    }
    return Promise.all(runs);
  }

  /** Runs a lookup once per family; fails only when every family failed (with the first failure). */
  async #perFamily<T>(run: (ctx: ReturnType<NodeCore['lookupContext']>) => Promise<T>): Promise<T[]> {
    this.#assertOpen();
    const settled = await Promise.allSettled(
      [...this.#tables.keys()].map((f) => run(this.#core.lookupContext(f))),
    );
    const values = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    if (values.length === 0) throw (settled[0] as PromiseRejectedResult).reason;
    return values;
  }

  #onRekey(newId: Buffer): void {
    this.#core.counters.rekeys++;
    for (const table of this.#tables.values()) table.setOwnId(newId);
  }

  /** Join again from where we are now, so the table fills around our (new) id and its neighbours learn it. */
  #onAddressChange(change: AddressChange): void {
    const where =
      change.previousHost === undefined
        ? `our external address is ${change.host}`
        : `our external address changed from ${change.previousHost} to ${change.host}`;
    const reason = change.isRekeyed ? `${where}: new node id (BEP 42)` : where;
    this.#joiner.requestRejoin(reason);
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new DhtchatError('DHT_CLOSED', 'the DHT node is closed');
  }
}

/** A lookup context that presumes slow nodes gone once k answered (isQuick), else ctx itself. */
function quick(ctx: LookupContext, isQuick: boolean | undefined): LookupContext {
  return isQuick === true ? { ...ctx, canSkipSlow: true } : ctx;
}
