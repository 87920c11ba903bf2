/**
 * The BEP 5 routing table for one address family: K-buckets split only when they hold our own id (the classic
 * scheme), a replacement cache per bucket, good/questionable/bad per bucket.ts, and address rules.
 * https://www.bittorrent.org/beps/bep_0005.html#routing-table
 *
 * Verbs say what happened (after libtorrent): nodeSeen (it answered us), heardAbout (someone listed it),
 * nodeQueried (it queried us), nodeFailed (our query to it failed). The table never sends anything: it tells
 * the node whom to ping (questionableToPing) and which buckets to refresh (bucketsToRefresh).
 *
 * Decisions the BEP leaves open:
 * - Only nodes that answered us ("confirmed") can split a bucket or displace a live entry; a node we only heard
 *   about enters a live bucket when there is room, else the replacement cache.
 * - One entry per IP; at most MAX_SUBNET_NODES_PER_BUCKET of one /24 (/64) per bucket, live and cache together.
 *   For hosts where isRelaxed(host) is true the entry is keyed by ip:port and the subnet rule is off.
 * - Same address, new id: if the node *answered* us with the new id (nodeSeen) the old entry goes and the new one
 *   comes in — the transaction proves the address now speaks for that id (a BEP 42 re-key looks exactly like
 *   this). Hearsay or an incoming query cannot displace an entry (libtorrent: poisoning defence).
 *   Same id, new address: ignored unless the old entry is failing or never answered and the new one answered.
 * - A node that becomes bad is evicted at once and the best replacement promoted.
 */
import type { Clock, Random } from '../runtime/index.ts';
import { addressKey } from '../runtime/index.ts';
import { Bucket, entryStatus, isConfirmed, type RoutingEntry, subnetOf, toNodeInfo } from './bucket.ts';
import {
  BUCKET_REFRESH_MS,
  K,
  MAX_SUBNET_NODES_PER_BUCKET,
  PING_RETRY_MS,
  REPLACEMENT_CACHE_SIZE,
} from './constants.ts';
import type { NodeInfo, UdpAddress } from './dht-types.ts';
import {
  commonPrefixBits,
  compareDistance,
  NODE_ID_BITS,
  NODE_ID_BYTES,
  randomIdWithPrefix,
} from './node-id.ts';

export interface RoutingTableOptions {
  ownId: Buffer;
  clock: Clock;
  k?: number;
  /** True for hosts where test nodes share an IP (allowPrivate + private/loopback): key by ip:port, no /24 rule. */
  isRelaxed(host: string): boolean;
  family: 4 | 6;
}

export interface ClosestOptions {
  /** Leave out nodes that never answered us (use for replies to others; lookups may seed from them). */
  confirmedOnly?: boolean;
}

type Contact = 'seen' | 'heard' | 'queried';

/**
 * A copy of an id in memory of its own. Buffer.from would take 20 bytes of Node's shared 8 KB pool, which the
 * packets we encode fill too: an entry that lives for hours would then keep a whole slab of dead packets alive
 * (measured: ~50 KB of pinned slabs per node of a 2,000-node simulation).
 */
/** questionableToPing hands a node out again only PING_RETRY_MS after the last time. */
function isPingDue(e: RoutingEntry, nowMs: number): boolean {
  return e.lastPingAskedMs === undefined || nowMs - e.lastPingAskedMs >= PING_RETRY_MS;
}

function oldestAnswerFirst(a: RoutingEntry, b: RoutingEntry): number {
  return (a.lastRespondedMs ?? -1) - (b.lastRespondedMs ?? -1);
}

/** The #byId key: latin1 is one character per byte, half the length of hex and cheaper to make. */
function idKey(id: Buffer): string {
  return id.toString('latin1');
}

function ownedCopy(id: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(id.length);
  id.copy(copy);
  return copy;
}

export class RoutingTable {
  readonly #clock: Clock;
  readonly #k: number;
  readonly #isRelaxed: (host: string) => boolean;
  readonly #family: 4 | 6;
  #ownId: Buffer;
  #buckets: Bucket[];
  /** One entry per IP (or per ip:port for relaxed hosts), live and cache alike. */
  #bySlot = new Map<string, RoutingEntry>();
  #byId = new Map<string, RoutingEntry>();

  constructor(opts: RoutingTableOptions) {
    this.#clock = opts.clock;
    this.#k = opts.k ?? K;
    this.#isRelaxed = opts.isRelaxed;
    this.#family = opts.family;
    this.#ownId = Buffer.from(opts.ownId);
    this.#buckets = [new Bucket(this.#clock.monotonicMs())];
  }

  get ownId(): Buffer {
    return this.#ownId;
  }

  nodeSeen(node: NodeInfo): void {
    this.#contact(node, 'seen');
  }

  heardAbout(node: NodeInfo): void {
    this.#contact(node, 'heard');
  }

  nodeQueried(node: NodeInfo): void {
    this.#contact(node, 'queried');
  }

  nodeFailed(address: UdpAddress): void {
    const e = this.#bySlot.get(this.#slotKey(address));
    if (e === undefined || e.address.port !== address.port) return;
    e.failCount++;
    if (entryStatus(e, this.#clock.monotonicMs()) === 'bad') this.#evict(e);
  }

  /** Good and questionable nodes closest to target, closest first (bad ones are evicted, so never returned). */
  closest(target: Buffer, count: number, opts: ClosestOptions = {}): NodeInfo[] {
    const found: NodeInfo[] = [];
    for (const b of this.#bucketsByDistance(target)) {
      const group = b.live.filter((e) => !opts.confirmedOnly || isConfirmed(e));
      group.sort((x, y) => compareDistance(target, x.id, y.id));
      for (const e of group) {
        if (found.length >= count) return found;
        found.push(toNodeInfo(e));
      }
      if (found.length >= count) break;
    }
    return found;
  }

  /**
   * Buckets in increasing distance from target; every node of a bucket is closer than every node of the next
   * one, so sorting within each bucket is enough (the naive-twin test checks this against a full sort).
   * With x = ownId ^ target and c = the target's bucket: bucket c comes first. A deeper bucket j (ids sharing
   * exactly j bits with us) differs from target first at bit c, then carries x's bits up to j and ¬x_j at bit j:
   * when x_j = 1 it beats every deeper bucket (emit now), when x_j = 0 it loses to all of them (emit after them,
   * deepest of those first). The last bucket (cpb >= last) sits between the two kinds. Shallower buckets
   * c-1 … 0 follow, each farther than the one before.
   */
  *#bucketsByDistance(target: Buffer): Generator<Bucket> {
    const last = this.#buckets.length - 1;
    const c = Math.min(commonPrefixBits(this.#ownId, target), last);
    yield this.#bucket(c);
    if (c < last) {
      const deferred: Bucket[] = [];
      for (let j = c + 1; j < last; j++) {
        const xBit = (((this.#ownId[j >> 3] ?? 0) ^ (target[j >> 3] ?? 0)) >> (7 - (j & 7))) & 1;
        if (xBit === 1) yield this.#bucket(j);
        else deferred.push(this.#bucket(j));
      }
      yield this.#bucket(last);
      for (let i = deferred.length - 1; i >= 0; i--) yield deferred[i] as Bucket;
    }
    for (let i = c - 1; i >= 0; i--) yield this.#bucket(i);
  }

  /**
   * Whom the node should ping now, most useful first: questionable live nodes of buckets with replacements
   * waiting, other questionable live nodes, then unconfirmed replacements (to confirm them). Each returned
   * node is not returned again for PING_RETRY_MS; its ping ends in nodeSeen or nodeFailed.
   */
  questionableToPing(nowMs: number, max: number): NodeInfo[] {
    // Runs on every maintenance tick of every node: one pass, no closures, and the unconfirmed tier (often
    // dozens of replacements heard of in lookups) cut at max (a 1,000-node simulation spent 6 % of its CPU here).
    const withReplacements: RoutingEntry[] = [];
    const otherLive: RoutingEntry[] = [];
    const unconfirmed: RoutingEntry[] = [];
    for (const b of this.#buckets) {
      const tier = b.replacements.length > 0 ? withReplacements : otherLive;
      for (const e of b.live) {
        if (isPingDue(e, nowMs) && entryStatus(e, nowMs) === 'questionable') tier.push(e);
      }
      // Unconfirmed replacements never answered: one sort key for all, so table order stands and the first max
      // of them are all that can be handed out.
      for (const e of b.replacements) {
        if (unconfirmed.length >= max) break;
        if (!isConfirmed(e) && isPingDue(e, nowMs)) unconfirmed.push(e);
      }
    }
    withReplacements.sort(oldestAnswerFirst);
    otherLive.sort(oldestAnswerFirst);
    const out: NodeInfo[] = [];
    for (const tier of [withReplacements, otherLive, unconfirmed]) {
      for (const e of tier) {
        if (out.length >= max) break;
        e.lastPingAskedMs = nowMs;
        out.push(toNodeInfo(e));
      }
    }
    return out;
  }

  /**
   * Random targets inside buckets unchanged for 15 minutes (BEP 5 refresh), stalest first, at most max (default
   * 1: the maintenance tick runs one refresh lookup at a time). A bucket handed out is not handed out again for
   * a refresh period, even if its lookup found nobody in its range.
   */
  bucketsToRefresh(nowMs: number, random: Random, max = 1): Buffer[] {
    const last = this.#buckets.length - 1;
    // Every maintenance tick asks, and a bucket is rarely due: nothing is allocated until one is.
    let due: Array<{ b: Bucket; i: number }> | undefined;
    for (let i = 0; i <= last; i++) {
      const b = this.#bucket(i);
      if (nowMs - b.lastChangedMs < BUCKET_REFRESH_MS) continue;
      if (b.refreshAskedMs !== undefined && nowMs - b.refreshAskedMs < BUCKET_REFRESH_MS) continue;
      due ??= [];
      due.push({ b, i });
    }
    if (due === undefined) return [];
    return due
      .sort(
        (x, y) =>
          Math.max(x.b.lastChangedMs, x.b.refreshAskedMs ?? 0) -
          Math.max(y.b.lastChangedMs, y.b.refreshAskedMs ?? 0),
      )
      .slice(0, Math.max(0, max))
      .map(({ b, i }) => {
        b.refreshAskedMs = nowMs;
        if (i === last) return randomIdWithPrefix(this.#ownId, last, random);
        // Bucket i holds ids that share exactly i bits with ours: our prefix, then bit i flipped.
        const prefix = Buffer.from(this.#ownId);
        prefix[i >> 3] = (prefix[i >> 3] ?? 0) ^ (0x80 >> (i & 7));
        return randomIdWithPrefix(prefix, i + 1, random);
      });
  }

  /** Live entries. */
  size(): number {
    return this.#buckets.reduce((n, b) => n + b.live.length, 0);
  }

  all(): NodeInfo[] {
    return this.#buckets.flatMap((b) => b.live.map(toNodeInfo));
  }

  /** Counts for stats and tests. */
  summary(): { buckets: number; live: number; replacements: number; good: number; confirmed: number } {
    const nowMs = this.#clock.monotonicMs();
    const live = this.#buckets.flatMap((b) => b.live);
    return {
      buckets: this.#buckets.length,
      live: live.length,
      replacements: this.#buckets.reduce((n, b) => n + b.replacements.length, 0),
      good: live.filter((e) => entryStatus(e, nowMs) === 'good').length,
      confirmed: live.filter(isConfirmed).length,
    };
  }

  /** Live entry sizes per bucket (for tests of the split invariant). */
  bucketSizes(): number[] {
    return this.#buckets.map((b) => b.live.length);
  }

  /** Re-keys the table (BEP 42 id change): every entry is placed again, live ones first, keeping its history. */
  setOwnId(id: Buffer): void {
    const old = this.#buckets;
    this.#ownId = Buffer.from(id);
    this.#buckets = [new Bucket(this.#clock.monotonicMs())];
    this.#bySlot.clear();
    this.#byId.clear();
    for (const e of old.flatMap((b) => b.live)) this.#place(e);
    for (const e of old.flatMap((b) => b.replacements)) this.#place(e);
  }

  #contact(node: NodeInfo, how: Contact): void {
    const { id, address } = node;
    if (id.length !== NODE_ID_BYTES || id.equals(this.#ownId)) return;
    if (address.port <= 0 || address.port > 65535) return;
    if ((address.host.includes(':') ? 6 : 4) !== this.#family) return;
    const nowMs = this.#clock.monotonicMs();

    const atSlot = this.#bySlot.get(this.#slotKey(address));
    if (atSlot !== undefined) {
      const isSameAddress = atSlot.address.port === address.port;
      if (isSameAddress && atSlot.id.equals(id)) {
        this.#touch(atSlot, how, nowMs);
        return;
      }
      // A different id at this address (or another port of this IP): only an answer from it can displace.
      if (how !== 'seen' || (!isSameAddress && isConfirmed(atSlot) && atSlot.failCount === 0)) return;
      this.#evict(atSlot);
    }
    const withId = this.#byId.get(idKey(id));
    if (withId !== undefined) {
      // The id claimed from another address: keep the old one unless it is failing and this one answered.
      if (how !== 'seen' || (isConfirmed(withId) && withId.failCount === 0)) return;
      this.#evict(withId);
    }
    this.#place({
      id: ownedCopy(id),
      address: { host: address.host, port: address.port },
      subnet: this.#isRelaxed(address.host) ? '' : subnetOf(address.host),
      lastRespondedMs: how === 'seen' ? nowMs : undefined,
      lastQueriedUsMs: how === 'queried' ? nowMs : undefined,
      failCount: 0,
      lastPingAskedMs: undefined,
    });
  }

  /** A known node did something: update its history; an answer may promote it from the cache. */
  #touch(e: RoutingEntry, how: Contact, nowMs: number): void {
    if (how === 'heard') return;
    if (how === 'queried') {
      e.lastQueriedUsMs = nowMs;
      return;
    }
    e.lastRespondedMs = nowMs;
    e.failCount = 0;
    const b = this.#bucketFor(e.id);
    b.lastChangedMs = nowMs;
    if (b.isLive(e)) return;
    // A cached node just proved itself: place it again, now confirmed (it may split, displace, or stay cached).
    this.#drop(e, b);
    this.#place(e);
  }

  /** Puts an entry where it belongs: live if room (splitting our own bucket if needed), else the cache. */
  #place(e: RoutingEntry): void {
    if (e.id.equals(this.#ownId)) return;
    const slot = this.#slotKey(e.address);
    if (this.#bySlot.has(slot) || this.#byId.has(idKey(e.id))) return;
    if (e.subnet !== '') {
      const b = this.#bucketFor(e.id);
      let same = 0;
      for (const o of b.live) if (o.subnet === e.subnet) same++;
      for (const o of b.replacements) if (o.subnet === e.subnet) same++;
      if (same >= MAX_SUBNET_NODES_PER_BUCKET) return;
    }
    const nowMs = this.#clock.monotonicMs();
    for (;;) {
      const index = this.#bucketIndex(e.id);
      const b = this.#bucket(index);
      if (b.live.length < this.#k) {
        b.live.push(e);
        if (isConfirmed(e)) b.lastChangedMs = nowMs;
        break;
      }
      const isLast = index === this.#buckets.length - 1;
      if (isLast && isConfirmed(e) && this.#buckets.length < NODE_ID_BITS) {
        this.#split();
        continue;
      }
      const victim = isConfirmed(e) ? b.worstLive() : undefined;
      if (victim !== undefined) {
        this.#drop(victim, b);
        b.live.push(e);
        b.lastChangedMs = nowMs;
        break;
      }
      if (!this.#addReplacement(b, e)) return;
      break;
    }
    this.#bySlot.set(slot, e);
    this.#byId.set(idKey(e.id), e);
  }

  /** Adds to a bucket's cache, evicting unconfirmed ones before confirmed, oldest first. */
  #addReplacement(b: Bucket, e: RoutingEntry): boolean {
    if (b.replacements.length >= REPLACEMENT_CACHE_SIZE) {
      const unconfirmed = b.replacements.find((r) => !isConfirmed(r));
      let victim = unconfirmed;
      if (victim === undefined && isConfirmed(e)) {
        victim = b.replacements.reduce((a, r) =>
          (r.lastRespondedMs ?? 0) < (a.lastRespondedMs ?? 0) ? r : a,
        );
      }
      if (victim === undefined) return false;
      this.#drop(victim, b);
    }
    b.replacements.push(e);
    return true;
  }

  /** Splits the last bucket: entries sharing more bits with our id than its index move to a new last bucket. */
  #split(): void {
    const oldIndex = this.#buckets.length - 1;
    const old = this.#bucket(oldIndex);
    const next = new Bucket(this.#clock.monotonicMs());
    this.#buckets.push(next);
    const moves = (e: RoutingEntry): boolean => commonPrefixBits(this.#ownId, e.id) > oldIndex;
    for (const list of ['live', 'replacements'] as const) {
      const keep = old[list].filter((e) => !moves(e));
      next[list].push(...old[list].filter(moves));
      old[list].splice(0, old[list].length, ...keep);
    }
    // Each half may now have room: promote from its own cache.
    for (const b of [old, next]) while (b.live.length < this.#k && this.#promote(b)) {}
  }

  #evict(e: RoutingEntry): void {
    const b = this.#bucketFor(e.id);
    const wasLive = b.isLive(e);
    this.#drop(e, b);
    if (wasLive) this.#promote(b);
  }

  #promote(b: Bucket): boolean {
    const r = b.bestReplacement();
    if (r === undefined) return false;
    b.remove(r);
    b.live.push(r);
    b.lastChangedMs = this.#clock.monotonicMs();
    return true;
  }

  #drop(e: RoutingEntry, b: Bucket): void {
    b.remove(e);
    this.#bySlot.delete(this.#slotKey(e.address));
    this.#byId.delete(idKey(e.id));
  }

  #bucketIndex(id: Buffer): number {
    return Math.min(commonPrefixBits(this.#ownId, id), this.#buckets.length - 1);
  }

  #bucketFor(id: Buffer): Bucket {
    return this.#bucket(this.#bucketIndex(id));
  }

  #bucket(i: number): Bucket {
    const b = this.#buckets[i];
    if (b === undefined) throw new RangeError(`no bucket ${i}`);
    return b;
  }

  #slotKey(a: UdpAddress): string {
    return this.#isRelaxed(a.host) ? addressKey(a) : a.host;
  }
}
