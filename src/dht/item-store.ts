/**
 * BEP 44 items held for others: immutable and mutable, bounded, expiring 2 hours after their last put.
 * https://www.bittorrent.org/beps/bep_0044.html §Expiration
 *
 * Storage only stores: sizes, tokens, signatures, cas and seq are all checked in handlers/put.ts before an item
 * gets here. One Map keyed by target hex, in last-put order (a put moves the item to the end), gives both the
 * LRU eviction when full and the expiry sweep (expired items are at the front) in O(1) per item.
 */
import type { BValue } from './dht-types.ts';
import { BEP44_ITEM_LIFETIME_MS, ITEM_STORE_MAX_ITEMS } from './constants.ts';

export interface ImmutableItem {
  readonly kind: 'immutable';
  readonly target: Buffer;
  readonly v: BValue;
  /** The exact bencoded bytes of v as received (what the target hashes). */
  readonly vBytes: Buffer;
}

export interface MutableItem {
  readonly kind: 'mutable';
  readonly target: Buffer;
  readonly v: BValue;
  readonly vBytes: Buffer;
  readonly k: Buffer;
  readonly sig: Buffer;
  readonly seq: number;
  readonly salt?: Buffer;
}

export type StoredItem = ImmutableItem | MutableItem;

interface Entry {
  item: StoredItem;
  lastPutMs: number;
}

export interface ItemStoreOptions {
  readonly maxItems?: number;
  readonly lifetimeMs?: number;
}

export class ItemStore {
  readonly #maxItems: number;
  readonly #lifetimeMs: number;
  readonly #entries = new Map<string, Entry>();
  #evicted = 0;

  constructor(opts: ItemStoreOptions = {}) {
    this.#maxItems = Math.max(1, opts.maxItems ?? ITEM_STORE_MAX_ITEMS);
    this.#lifetimeMs = opts.lifetimeMs ?? BEP44_ITEM_LIFETIME_MS;
  }

  /** The live item at target, or undefined (an expired one is dropped on the way). */
  get(target: Buffer, nowMs: number): StoredItem | undefined {
    const key = target.toString('hex');
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#isExpired(entry, nowMs)) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.item;
  }

  /** Stores (or replaces) the item and restarts its lifetime; evicts the least recently put item when full. */
  put(item: StoredItem, nowMs: number): void {
    const key = item.target.toString('hex');
    this.#entries.delete(key);
    this.purge(nowMs);
    while (this.#entries.size >= this.#maxItems) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
      this.#evicted++;
    }
    this.#entries.set(key, { item, lastPutMs: nowMs });
  }

  /** Restarts the lifetime of a stored item (a re-put of the same value, BEP 44 "reset its timeout"). */
  touch(target: Buffer, nowMs: number): boolean {
    const key = target.toString('hex');
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#entries.delete(key);
    entry.lastPutMs = nowMs;
    this.#entries.set(key, entry);
    return true;
  }

  /** Drops every expired item; returns how many. Cheap: stops at the first live one. */
  purge(nowMs: number): number {
    let dropped = 0;
    for (const [key, entry] of this.#entries) {
      if (!this.#isExpired(entry, nowMs)) break;
      this.#entries.delete(key);
      dropped++;
    }
    return dropped;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Items pushed out by newer ones because the store was full. */
  get evictedCount(): number {
    return this.#evicted;
  }

  /** Counts by kind, for stats. */
  counts(): { immutable: number; mutable: number } {
    let mutable = 0;
    for (const entry of this.#entries.values()) if (entry.item.kind === 'mutable') mutable++;
    return { immutable: this.#entries.size - mutable, mutable };
  }

  #isExpired(entry: Entry, nowMs: number): boolean {
    return nowMs - entry.lastPutMs >= this.#lifetimeMs;
  }
}
