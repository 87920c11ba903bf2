/**
 * Where rendezvous records live, remembered: the nodes near a record's target that answered our last search for
 * it. Reading again asks a few of them directly (DhtNode.requery: one round trip, no search; with the seq we have,
 * an unchanged record comes back without its 760 bytes), and publishing again puts to the nodes that stored the
 * last one with the tokens they gave then (DhtNode.putMutableTo). A full search runs when nothing is known, every
 * fullRefreshMs (nodes come and go; the author may have reached a slightly different set), when the holders are
 * silent, when one announces a newer seq without sending it, and for a put when the tokens have aged.
 *
 * Costs (the fast poll's budget in docs/BENCHMARKS.md): a cheap read is readNodes queries; a cheap put is one
 * query per holder (≤ k); a full search is ~15–40 queries and, for a put, k more.
 */
import type { DhtNode, FoundItem, ItemHolder, NodeInfo } from '../dht/index.ts';
import type { Clock } from '../runtime/index.ts';
import type { Ed25519KeyPair } from '../crypto/index.ts';

export const HOLDER_RULES = {
  /** Holders a cheap read asks (the closest that answered): one silent node does not blind us. */
  readNodes: 3,
  /** A cheap read waits this long for the holders (answers take a round trip; a silent one is dropped). */
  readWaitMs: 1000,
  /** A search at least this often for a record we keep reading. */
  fullRefreshMs: 5 * 60_000,
  /** Tokens are valid 5–10 min (BEP 5 rotation; libtorrent and we accept the previous secret): use ≤ 4 min. */
  tokenMaxAgeMs: 4 * 60_000,
  /** A cheap put counts when at least this many holders took it; fewer, and a full put follows. */
  minCheapStores: 3,
  /** Targets remembered (friends × 2 directions × ≤ 2 epochs); the oldest is forgotten first. */
  maxTargets: 4096,
} as const;

export interface HolderRead {
  /** The record found (undefined: none, or unchanged when isUnchanged). */
  readonly item: FoundItem | undefined;
  /** A cheap read found nothing newer than the seq we gave. */
  readonly isUnchanged: boolean;
  readonly isCheap: boolean;
}

interface TargetHolders {
  /** Nodes that answered our last search for the target (reader side), closest first. */
  readers: NodeInfo[];
  readAtMs: number;
  /** Nodes that took our last put, with their tokens (author side). */
  writers: ItemHolder[];
}

export type HolderDht = Pick<
  DhtNode,
  'getWithHolders' | 'requery' | 'putMutable' | 'putMutableTo' | 'forgetItem'
>;

export class RecordHolders {
  readonly #dht: HolderDht;
  readonly #clock: Clock;
  readonly #targets = new Map<string, TargetHolders>();

  constructor(dht: HolderDht, clock: Clock) {
    this.#dht = dht;
    this.#clock = clock;
  }

  /**
   * Reads a mutable item. isCheapAllowed: ask the known holders (with lastSeq) when they are recent enough;
   * otherwise, or when that cannot answer, search. Rejects only when the search does.
   */
  async read(
    target: Buffer,
    salt: Buffer,
    lastSeq: number | undefined,
    isCheapAllowed: boolean,
  ): Promise<HolderRead> {
    const entry = this.#targets.get(target.toString('hex'));
    const nowMs = this.#clock.monotonicMs();
    if (isCheapAllowed && entry !== undefined && entry.readers.length > 0) {
      if (nowMs - entry.readAtMs < HOLDER_RULES.fullRefreshMs) {
        const asked = entry.readers.slice(0, HOLDER_RULES.readNodes);
        const r = await this.#dht.requery(asked, target, {
          salt,
          maxWaitMs: HOLDER_RULES.readWaitMs,
          ...(lastSeq === undefined ? {} : { seq: lastSeq }),
        });
        // Holders that did not answer are dropped (the user's own node that moved away, a node gone): the next
        // read asks the next closest, and a search refills the list when it runs short.
        const answeredKeys = new Set(r.holders.map((h) => `${h.node.address.host}|${h.node.address.port}`));
        entry.readers = entry.readers.filter(
          (n) => !asked.includes(n) || answeredKeys.has(`${n.address.host}|${n.address.port}`),
        );
        if (r.item !== undefined) return { item: r.item, isUnchanged: false, isCheap: true };
        const isNothingNewer = (r.highestSeq ?? -1) <= (lastSeq ?? -1);
        if (r.holders.length > 0 && isNothingNewer)
          return { item: undefined, isUnchanged: true, isCheap: true };
      }
    }
    const found = await this.#dht.getWithHolders(target, { salt, isQuick: true });
    const known = this.#entry(target);
    known.readers = found.holders.map((h) => h.node);
    known.readAtMs = this.#clock.monotonicMs();
    return { item: found.item, isUnchanged: false, isCheap: false };
  }

  /** Puts a mutable item: to the last holders when their tokens are fresh, else with a search. Nodes that stored it. */
  async write(args: {
    keyPair: Ed25519KeyPair;
    salt: Buffer;
    v: Buffer;
    seq: number;
    target: Buffer;
  }): Promise<number> {
    const entry = this.#entry(args.target);
    const nowMs = this.#clock.monotonicMs();
    const fresh = entry.writers.filter((h) => nowMs - h.tokenAtMs < HOLDER_RULES.tokenMaxAgeMs);
    const item = { keyPair: args.keyPair, salt: args.salt, v: args.v, seq: args.seq };
    if (fresh.length >= HOLDER_RULES.minCheapStores) {
      const quick = await this.#dht.putMutableTo(fresh, item).catch(() => undefined);
      if (quick !== undefined && quick.stored >= HOLDER_RULES.minCheapStores) {
        entry.writers = quick.holders;
        return quick.stored;
      }
    }
    const put = await this.#dht.putMutable({ ...item, isQuick: true });
    // This service publishes its records itself, fresh: the DHT's hourly republisher must not.
    this.#dht.forgetItem(put.target);
    entry.writers = put.holders;
    return put.stored;
  }

  /** Forgets where every record lives (we moved: tokens are bound to our old address, and nodes may differ). */
  forgetAll(): void {
    this.#targets.clear();
  }

  #entry(target: Buffer): TargetHolders {
    const hex = target.toString('hex');
    let entry = this.#targets.get(hex);
    if (entry === undefined) {
      entry = { readers: [], readAtMs: 0, writers: [] };
      if (this.#targets.size >= HOLDER_RULES.maxTargets) {
        const oldest = this.#targets.keys().next().value;
        if (oldest !== undefined) this.#targets.delete(oldest);
      }
      this.#targets.set(hex, entry);
    }
    return entry;
  }
}
