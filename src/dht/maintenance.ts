/**
 * Routing-table upkeep on the injected Clock (BEP 5 §Routing Table), all driven by one re-armed tick:
 * - ping the questionable nodes the table names (a node that fails twice becomes bad and is replaced);
 * - refresh buckets idle for 15 minutes with a find_node lookup for a random id in the bucket (one at a time);
 * - tell the joiner (joiner.ts) the time and the table's size: it notices a lost DHT and a small table;
 * - purge expired peers and items from the stores.
 * Token rotation needs no timer (tokens.ts rotates lazily); BEP 44 republishing is republisher.ts.
 */
import type { Timer } from '../runtime/index.ts';
import {
  MAINTENANCE_PINGS_PER_TICK,
  MAINTENANCE_REFRESHES_PER_TICK,
  MAINTENANCE_TICK_MS,
} from './constants.ts';
import type { Joiner } from './joiner.ts';
import { findNodeLookup } from './lookups/find-node.ts';
import type { NodeCore } from './node-core.ts';

const STORE_PURGE_MS = 60_000;

export class Maintenance {
  readonly #core: NodeCore;
  readonly #joiner: Joiner;
  #timer: Timer | undefined;
  #isRefreshing = false;
  #lastPurgeMs: number;

  constructor(core: NodeCore, joiner: Joiner) {
    this.#core = core;
    this.#joiner = joiner;
    this.#lastPurgeMs = core.opts.clock.monotonicMs();
  }

  start(): void {
    this.#arm();
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #arm(): void {
    this.#timer = this.#core.opts.clock.setTimer(MAINTENANCE_TICK_MS, () => {
      this.#tick();
      if (this.#timer !== undefined) this.#arm();
    });
  }

  #tick(): void {
    const { clock, random, families, tables, peers, items } = this.#core.opts;
    const nowMs = clock.monotonicMs();
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
    this.#joiner.onTick(nowMs, total);
    if (nowMs - this.#lastPurgeMs >= STORE_PURGE_MS) {
      this.#lastPurgeMs = nowMs;
      peers.purge(nowMs);
      items.purge(nowMs);
    }
  }
}
