/**
 * Routing-table upkeep on the injected Clock (BEP 5 §Routing Table), all driven by one re-armed tick:
 * - ping the questionable nodes the table names (a node that fails twice becomes bad and is replaced);
 * - refresh buckets idle for 15 minutes with a find_node lookup for a random id in the bucket (one at a time);
 * - while the table is small (below K), look up our own id again through the bootstrap contacts, at most every
 *   REBOOTSTRAP_MS — and at once after a BEP 42 re-key, so the table fills around the new id;
 * - purge expired peers and items from the stores.
 * Token rotation needs no timer (tokens.ts rotates lazily); BEP 44 republishing is republisher.ts.
 */
import type { Timer } from '../runtime/index.ts';
import {
  MAINTENANCE_PINGS_PER_TICK,
  MAINTENANCE_REFRESHES_PER_TICK,
  MAINTENANCE_TICK_MS,
  MIN_HEALTHY_TABLE_SIZE,
  REBOOTSTRAP_MS,
} from './constants.ts';
import { findNodeLookup } from './lookups/find-node.ts';
import type { NodeCore } from './node-core.ts';

const STORE_PURGE_MS = 60_000;

export class Maintenance {
  readonly #core: NodeCore;
  #timer: Timer | undefined;
  #isRefreshing = false;
  #lastBootstrapMs = Number.NEGATIVE_INFINITY;
  #lastPurgeMs: number;
  #bootstrapRun: Promise<void> | undefined;

  constructor(core: NodeCore) {
    this.#core = core;
    this.#lastPurgeMs = core.opts.clock.now();
  }

  start(): void {
    this.#arm();
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /**
   * Looks up our own id in every family (fills the table). Resolves when all those lookups ended; never rejects.
   * Slow nodes do not hold it open once k answered: a restarted node's saved table often lists a neighbour that
   * has since gone (a friend's daemon just stopped), and everything waiting for the join would wait out its
   * timeout. The slow query still runs to its end, so the table learns whether that node is alive.
   */
  bootstrap(): Promise<void> {
    if (this.#bootstrapRun !== undefined) return this.#bootstrapRun;
    this.#lastBootstrapMs = this.#core.opts.clock.now();
    const run = Promise.all(
      this.#core.opts.families.map((family) =>
        findNodeLookup({ ...this.#core.lookupContext(family), canSkipSlow: true }, this.#core.id).catch(
          (err: unknown) => {
            this.#core.opts.logger.debug({ err, family }, 'bootstrap lookup failed');
          },
        ),
      ),
    ).then(() => {
      this.#bootstrapRun = undefined;
    });
    this.#bootstrapRun = run;
    return run;
  }

  #arm(): void {
    this.#timer = this.#core.opts.clock.setTimer(MAINTENANCE_TICK_MS, () => {
      this.#tick();
      if (this.#timer !== undefined) this.#arm();
    });
  }

  #tick(): void {
    const { clock, random, families, tables, peers, items } = this.#core.opts;
    const nowMs = clock.now();
    let total = 0;
    for (const family of families) {
      const table = tables.get(family);
      if (table === undefined) continue;
      total += table.size();
      for (const node of table.questionableToPing(nowMs, MAINTENANCE_PINGS_PER_TICK)) {
        // The answer (nodeSeen) or the timeout (nodeFailed) reaches the table through the node core.
        this.#core.rpc.query(node.address, { method: 'ping' }).catch(() => {});
      }
      if (!this.#isRefreshing) {
        const targets = table.bucketsToRefresh(nowMs, random).slice(0, MAINTENANCE_REFRESHES_PER_TICK);
        for (const target of targets) {
          this.#isRefreshing = true;
          findNodeLookup(this.#core.lookupContext(family), target)
            .catch(() => {})
            .finally(() => {
              this.#isRefreshing = false;
            });
        }
      }
    }
    if (total < MIN_HEALTHY_TABLE_SIZE * families.length && nowMs - this.#lastBootstrapMs >= REBOOTSTRAP_MS) {
      void this.bootstrap();
    }
    if (nowMs - this.#lastPurgeMs >= STORE_PURGE_MS) {
      this.#lastPurgeMs = nowMs;
      peers.purge(nowMs);
      items.purge(nowMs);
    }
  }
}
