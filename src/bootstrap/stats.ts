/**
 * The bootstrap server's counters: plain numbers bumped on the hot path (never a log line per packet), read and
 * reset once per stats interval. Gauges (buffer and queue sizes) are filled in when a snapshot is taken.
 */

export const COUNTER_NAMES = [
  /** Replies sent to ping / find_node / get_peers / get. */
  'responses',
  /** Datagrams that did not parse as a KRPC message we handle (including unknown queries). */
  'invalidMessages',
  /** Datagrams from sources we never serve (port 0, unspecified, multicast, private without allowPrivate). */
  'invalidSources',
  /** Queries from an IP that asked within the repeat window (answered with fewer nodes). */
  'duplicateIps',
  /** Back-to-back queries from the same IP (dropped). */
  'backToBack',
  /** Read-only (BEP 43) queries: served, never queued. */
  'readOnlyQueries',
  /** Requesters queued for the delayed ping. */
  'queued',
  /** Requesters refused by the queue (already queued, or queue under pressure). */
  'queueRefused',
  'pingsSent',
  /** Pongs with a valid cookie from the pinged address. */
  'validPongs',
  /** Responses with a wrong or stale cookie, or from another address than the one pinged. */
  'invalidPongs',
  /** Pongs with a valid cookie whose node id is not BEP 42-valid for the source IP. */
  'idFailures',
  'nodesAdded',
  /** Replies topped up from recent BEP 42-valid requesters because the buffer was too small. */
  'fillerReplies',
  /** Nodes learned from the cross-pollination peer and queued for verification. */
  'crossPollinated',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];
export type BootstrapCounters = Record<CounterName, number>;

export interface BootstrapGauges {
  nodes4: number;
  nodes6: number;
  queue4: number;
  queue6: number;
}

export type BootstrapStatsSnapshot = BootstrapCounters & BootstrapGauges & { intervalMs: number };

export function zeroCounters(): BootstrapCounters {
  const counters = {} as BootstrapCounters;
  for (const name of COUNTER_NAMES) counters[name] = 0;
  return counters;
}

/** Sums snapshots (of several workers) into one; gauges add up too, since each worker has its own buffers. */
export function sumSnapshots(snapshots: readonly BootstrapStatsSnapshot[]): BootstrapStatsSnapshot {
  const total: BootstrapStatsSnapshot = {
    ...zeroCounters(),
    nodes4: 0,
    nodes6: 0,
    queue4: 0,
    queue6: 0,
    intervalMs: 0,
  };
  for (const s of snapshots) {
    for (const name of COUNTER_NAMES) total[name] += s[name];
    total.nodes4 += s.nodes4;
    total.nodes6 += s.nodes6;
    total.queue4 += s.queue4;
    total.queue6 += s.queue6;
    total.intervalMs = Math.max(total.intervalMs, s.intervalMs);
  }
  return total;
}
