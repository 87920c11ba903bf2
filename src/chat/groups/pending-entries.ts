/**
 * Entries that arrived before what they depend on (their parents, and for a message the op of its epoch): held
 * here, bounded, while the missing hashes are fetched (the gaps), and released in dependency order once the last
 * one is known. An entry is only ever stored with its whole causal past (or the boundary a member's history
 * starts at), so every member orders the same set the same way.
 *
 * Bounds: at most maxEntries held per group (a newcomer beyond that is refused: it is asked for again later, by
 * the heads exchange), and nothing is held longer than maxAgeMs (a gap nobody fills is given up).
 */
import type { GroupEntry } from './group-entry.ts';

export const DEFAULT_PENDING_LIMITS = { maxEntries: 2048, maxAgeMs: 5 * 60_000 } as const;

interface Held {
  readonly entry: GroupEntry;
  readonly missing: Set<string>;
  readonly sinceMs: number;
  /** Who sent it: asked first for what it lacks. */
  readonly from: string | undefined;
}

export class PendingEntries {
  readonly #held = new Map<string, Held>();
  /** Missing hash → the held entries waiting for it. */
  readonly #waiting = new Map<string, Set<string>>();
  readonly #limits: { maxEntries: number; maxAgeMs: number };

  constructor(limits: Partial<{ maxEntries: number; maxAgeMs: number }> = {}) {
    this.#limits = { ...DEFAULT_PENDING_LIMITS, ...limits };
  }

  get size(): number {
    return this.#held.size;
  }

  has(hash: Buffer): boolean {
    return this.#held.has(hash.toString('hex'));
  }

  /** Holds an entry until `missing` are known; false when full (or already held). */
  hold(entry: GroupEntry, missing: readonly Buffer[], nowMs: number, from?: string): boolean {
    const hex = entry.hash.toString('hex');
    if (this.#held.has(hex) || this.#held.size >= this.#limits.maxEntries) return false;
    const set = new Set(missing.map((m) => m.toString('hex')));
    this.#held.set(hex, { entry, missing: set, sinceMs: nowMs, from });
    for (const m of set) {
      const waiters = this.#waiting.get(m) ?? new Set<string>();
      waiters.add(hex);
      this.#waiting.set(m, waiters);
    }
    return true;
  }

  /**
   * `hash` is known now (stored, or given up as a boundary): the entries that were waiting only for it, ready to
   * be checked and stored (their own hashes should then be passed here in turn).
   */
  resolve(hash: Buffer): GroupEntry[] {
    const key = hash.toString('hex');
    const waiters = this.#waiting.get(key);
    if (waiters === undefined) return [];
    this.#waiting.delete(key);
    const ready: GroupEntry[] = [];
    for (const hex of waiters) {
      const held = this.#held.get(hex);
      if (held === undefined) continue;
      held.missing.delete(key);
      if (held.missing.size > 0) continue;
      this.#held.delete(hex);
      ready.push(held.entry);
    }
    return ready;
  }

  /** Hashes some held entry waits for, with who sent that entry (to ask first). */
  missing(): { hash: Buffer; from: string | undefined }[] {
    const out: { hash: Buffer; from: string | undefined }[] = [];
    for (const [hex, waiters] of this.#waiting) {
      const first = waiters.values().next().value;
      out.push({
        hash: Buffer.from(hex, 'hex'),
        from: first === undefined ? undefined : this.#held.get(first)?.from,
      });
    }
    return out;
  }

  /** Drops entries held longer than maxAgeMs; returns how many. */
  expire(nowMs: number): number {
    let dropped = 0;
    for (const [hex, held] of this.#held) {
      if (nowMs - held.sinceMs < this.#limits.maxAgeMs) continue;
      this.#drop(hex, held);
      dropped++;
    }
    return dropped;
  }

  clear(): void {
    this.#held.clear();
    this.#waiting.clear();
  }

  #drop(hex: string, held: Held): void {
    this.#held.delete(hex);
    for (const m of held.missing) {
      const waiters = this.#waiting.get(m);
      waiters?.delete(hex);
      if (waiters?.size === 0) this.#waiting.delete(m);
    }
  }
}
