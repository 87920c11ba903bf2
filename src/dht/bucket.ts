/**
 * One k-bucket of the routing table: live entries, a replacement cache, and BEP 5's "last changed" time.
 * The status rules (good / questionable / bad) live here so the table and its tests share one definition.
 * https://www.bittorrent.org/beps/bep_0005.html#routing-table
 */
import { hostToBytes } from '../wire/index.ts';
import { NODE_BAD_FAIL_COUNT, NODE_QUESTIONABLE_MS, SUBNET_PREFIX_BITS } from './constants.ts';
import type { NodeInfo, UdpAddress } from './dht-types.ts';

export interface RoutingEntry {
  readonly id: Buffer;
  readonly address: UdpAddress;
  /** The /24 (/64) prefix for the per-bucket subnet rule; '' for relaxed hosts (the rule does not apply). */
  readonly subnet: string;
  /** Last time it answered one of our queries; undefined = never (we only heard about it: "unconfirmed"). */
  lastRespondedMs: number | undefined;
  /** Last time it sent us a query. */
  lastQueriedUsMs: number | undefined;
  /** Queries to it that failed in a row. */
  failCount: number;
  /** Last time questionableToPing handed it out (so the same node is not pinged every tick). */
  lastPingAskedMs: number | undefined;
}

export type NodeStatus = 'good' | 'questionable' | 'bad';

export function isConfirmed(e: RoutingEntry): boolean {
  return e.lastRespondedMs !== undefined;
}

/**
 * BEP 5: good = answered us within 15 minutes, or ever answered us and queried us within 15 minutes; bad = failed
 * repeatedly (we say NODE_BAD_FAIL_COUNT times, or once for a node that never answered at all, like libtorrent);
 * questionable = everything else. A good node that just missed one reply is questionable until it answers again.
 */
export function entryStatus(e: RoutingEntry, nowMs: number): NodeStatus {
  if (e.failCount >= (isConfirmed(e) ? NODE_BAD_FAIL_COUNT : 1)) return 'bad';
  if (e.lastRespondedMs === undefined || e.failCount > 0) return 'questionable';
  if (nowMs - e.lastRespondedMs < NODE_QUESTIONABLE_MS) return 'good';
  if (e.lastQueriedUsMs !== undefined && nowMs - e.lastQueriedUsMs < NODE_QUESTIONABLE_MS) return 'good';
  return 'questionable';
}

/** The /24 (IPv4) or /64 (IPv6) prefix of a host, as hex: the key of the per-bucket subnet rule. */
export function subnetOf(host: string): string {
  const bytes = hostToBytes(host);
  if (bytes === undefined) return host;
  return bytes.subarray(0, SUBNET_PREFIX_BITS[bytes.length === 4 ? 4 : 6] / 8).toString('hex');
}

export function toNodeInfo(e: RoutingEntry): NodeInfo {
  return { id: e.id, address: e.address };
}

export class Bucket {
  readonly live: RoutingEntry[] = [];
  readonly replacements: RoutingEntry[] = [];
  /** BEP 5 "last changed": a node added, replaced, or answering us. */
  lastChangedMs: number;
  /** When bucketsToRefresh last picked it (so one idle bucket yields one refresh per 15 minutes). */
  refreshAskedMs: number | undefined;

  constructor(nowMs: number) {
    this.lastChangedMs = nowMs;
    this.refreshAskedMs = undefined;
  }

  remove(e: RoutingEntry): boolean {
    for (const list of [this.live, this.replacements]) {
      const i = list.indexOf(e);
      if (i >= 0) {
        list.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  isLive(e: RoutingEntry): boolean {
    return this.live.includes(e);
  }

  /**
   * The replacement to promote when a live slot opens: a confirmed one that answered most recently, else the
   * unconfirmed one heard of last (it gets pinged like any questionable node).
   */
  bestReplacement(): RoutingEntry | undefined {
    let best: RoutingEntry | undefined;
    for (const e of this.replacements) {
      if (best === undefined) {
        best = e;
        continue;
      }
      const a = e.lastRespondedMs ?? -1;
      const b = best.lastRespondedMs ?? -1;
      if (a > b || (a === b && e.failCount < best.failCount)) best = e;
    }
    return best;
  }

  /** The live entry a confirmed newcomer may displace: never-answered or failing ones, worst first. */
  worstLive(): RoutingEntry | undefined {
    let worst: RoutingEntry | undefined;
    for (const e of this.live) {
      if (isConfirmed(e) && e.failCount === 0) continue;
      if (
        worst === undefined ||
        (isConfirmed(worst) && !isConfirmed(e)) ||
        (isConfirmed(worst) === isConfirmed(e) && e.failCount > worst.failCount)
      )
        worst = e;
    }
    return worst;
  }
}
