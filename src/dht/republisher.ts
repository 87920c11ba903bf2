/**
 * BEP 44 §Expiration: items we put are re-put every hour (storing nodes drop them after 2 hours) until the
 * caller forgets them. Mutable items are re-put with the same seq (ed25519 signatures are deterministic, so the
 * same bytes go out again); a node holding a newer seq answers 302, which is fine.
 *
 * The BEP's back-off: before re-putting, a `get` lookup asks whether the item is already well kept — more than
 * 8 copies found AND every one of the (up to) 8 closest store-eligible (BEP 42 compliant) responders holding it
 * (for mutable items: at our seq or newer). Then someone else is republishing and this round is skipped.
 */
import type { Ed25519KeyPair } from '../crypto/index.ts';
import type { Timer } from '../runtime/index.ts';
import { BEP44_REPUBLISH_MS } from './constants.ts';
import type { BValue } from './dht-types.ts';
import { verifyItem } from './lookups/get-item.ts';
import { putImmutableLookup, putMutableLookup } from './lookups/put-item.ts';
import type { NodeCore } from './node-core.ts';
import { finishLookup, runTraversal } from './traversal.ts';

/** BEP 44: "more than 8 copies" / "the 8 nodes closest". */
const BACKOFF_COPIES = 8;

export type PublishedItem =
  | { kind: 'immutable'; target: Buffer; v: BValue }
  | { kind: 'mutable'; target: Buffer; keyPair: Ed25519KeyPair; v: BValue; salt?: Buffer; seq: number };

interface Entry {
  item: PublishedItem;
  timer: Timer;
}

export class Republisher {
  readonly #core: NodeCore;
  readonly #intervalMs: number;
  readonly #entries = new Map<string, Entry>();
  skipped = 0;

  constructor(core: NodeCore, intervalMs = BEP44_REPUBLISH_MS) {
    this.#core = core;
    this.#intervalMs = intervalMs;
  }

  /** Starts (or restarts) the hourly republishing of an item we just put. */
  track(item: PublishedItem): void {
    this.forget(item.target);
    const key = item.target.toString('hex');
    this.#entries.set(key, { item, timer: this.#schedule(key) });
  }

  forget(target: Buffer): boolean {
    const key = target.toString('hex');
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    entry.timer.cancel();
    this.#entries.delete(key);
    return true;
  }

  get trackedCount(): number {
    return this.#entries.size;
  }

  stop(): void {
    for (const entry of this.#entries.values()) entry.timer.cancel();
    this.#entries.clear();
  }

  #schedule(key: string): Timer {
    return this.#core.opts.clock.setTimer(this.#intervalMs, () => {
      void this.#republish(key);
    });
  }

  async #republish(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    entry.timer = this.#schedule(key);
    const { item } = entry;
    for (const family of this.#core.opts.families) {
      const ctx = this.#core.lookupContext(family);
      try {
        if (await this.#isWellKept(family, item)) {
          this.skipped++;
          continue;
        }
        if (!this.#entries.has(key)) return;
        if (item.kind === 'immutable') await putImmutableLookup(ctx, item.v);
        else {
          await putMutableLookup(ctx, {
            keyPair: item.keyPair,
            v: item.v,
            seq: item.seq,
            ...(item.salt === undefined ? {} : { salt: item.salt }),
          });
        }
        this.#core.counters.republished++;
      } catch (err) {
        this.#core.opts.logger.debug({ err, target: key.slice(0, 8) }, 'republish failed');
      }
    }
  }

  /** The BEP 44 back-off test, with one get lookup. */
  async #isWellKept(family: 4 | 6, item: PublishedItem): Promise<boolean> {
    const ctx = this.#core.lookupContext(family);
    const salt = item.kind === 'mutable' ? item.salt : undefined;
    const minSeq = item.kind === 'mutable' ? item.seq : undefined;
    const holds = (r: Parameters<typeof verifyItem>[1]): boolean => {
      const found = verifyItem(item.target, r, salt);
      return found !== undefined && (minSeq === undefined || (found.seq ?? -1) >= minSeq);
    };
    let copies = 0;
    const result = await runTraversal(ctx, item.target, {
      kind: 'republish-check',
      query: { method: 'get', target: item.target },
      onResponse(_node, response) {
        if (holds(response)) copies++;
        return 'continue';
      },
    });
    finishLookup(ctx, result);
    const closest = result.closest.slice(0, BACKOFF_COPIES);
    return copies > BACKOFF_COPIES && closest.length > 0 && closest.every(({ response }) => holds(response));
  }
}
