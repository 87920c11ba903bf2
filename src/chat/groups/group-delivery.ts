/**
 * Delivery states of group messages (docs/PROTOCOL.md "Groups", "Delivery states"): who has a message and who
 * has read it, from what each member last said — its heads (`heads` frames: everything they descend from is
 * stored there, since an entry is only stored with its causal past) and its read heads (`read` frames). No
 * receipt per message and member is kept: two small head lists per member cover them all.
 *
 * A message's counts are over the current members other than its author; we count ourselves from our own store
 * (we have it; we read it when it is marked read). The author's state: `queued` (no member has it and it is in
 * no DHT bundle yet), `sent` (some member has it, or it waits in the DHT), `delivered` (every member has it),
 * `read` (every member read it). Someone else's message is `delivered` or `read` (by us).
 */
import type { DagNode, StoredEntry } from '../store/groups.ts';

export type GroupMessageState = 'queued' | 'sent' | 'delivered' | 'read';

export interface DeliveryCounts {
  readonly state: GroupMessageState;
  readonly delivered: number;
  readonly read: number;
  /** The members the counts are out of (everyone but the author). */
  readonly members: number;
}

export interface DeliveryInputs {
  /** The message DAG from the oldest message asked about on (store.groups.dagFrom). */
  readonly dag: readonly DagNode[];
  /** Current members (hex), ourselves included. */
  readonly members: readonly string[];
  readonly ownHex: string;
  readonly have: ReadonlyMap<string, readonly Buffer[]>;
  readonly read: ReadonlyMap<string, readonly Buffer[]>;
  /** Our entries in a bundle put in the DHT (hex). */
  readonly inDht: ReadonlySet<string>;
}

/** Counts and state for each of `messages` (by hash hex). */
export function deliveryCounts(
  messages: readonly StoredEntry[],
  inputs: DeliveryInputs,
): Map<string, DeliveryCounts> {
  const parents = new Map(inputs.dag.map((n) => [n.hash.toString('hex'), n.parents]));
  const covered = (heads: readonly Buffer[] | undefined): Set<string> => {
    const seen = new Set<string>();
    const stack = (heads ?? []).map((h) => h.toString('hex'));
    while (stack.length > 0) {
      const hex = stack.pop() as string;
      if (seen.has(hex)) continue;
      const ps = parents.get(hex);
      if (ps === undefined) continue; // before the window (or unknown to us): nothing to count there
      seen.add(hex);
      for (const p of ps) stack.push(p.toString('hex'));
    }
    return seen;
  };
  const others = inputs.members.filter((m) => m !== inputs.ownHex);
  const hasIt = new Map(others.map((m) => [m, covered(inputs.have.get(m))]));
  const readIt = new Map(others.map((m) => [m, covered(inputs.read.get(m))]));
  const out = new Map<string, DeliveryCounts>();
  for (const message of messages) {
    const hex = message.hash.toString('hex');
    const authorHex = message.author.toString('hex');
    const counted = inputs.members.filter((m) => m !== authorHex);
    let delivered = 0;
    let read = 0;
    for (const m of counted) {
      const isRead = m === inputs.ownHex ? message.isRead : readIt.get(m)?.has(hex) === true;
      const isThere = m === inputs.ownHex || isRead || hasIt.get(m)?.has(hex) === true;
      if (isRead) read++;
      if (isThere) delivered++;
    }
    const isOwn = authorHex === inputs.ownHex;
    const state: GroupMessageState = isOwn
      ? ownState(delivered, read, counted.length, inputs.inDht.has(hex))
      : message.isRead
        ? 'read'
        : 'delivered';
    out.set(hex, { state, delivered, read, members: counted.length });
  }
  return out;
}

function ownState(delivered: number, read: number, members: number, isInDht: boolean): GroupMessageState {
  if (members > 0 && read === members) return 'read';
  if (members > 0 && delivered === members) return 'delivered';
  return delivered > 0 || isInDht ? 'sent' : 'queued';
}
