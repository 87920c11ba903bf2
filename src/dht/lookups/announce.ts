/**
 * announce lookup (BEP 5): a get_peers lookup, then announce_peer with each responder's own token to the k
 * closest compliant responders that gave one. port undefined → implied_port 1 (the receiver uses our source
 * port; we still send port 0 since BEP 5 lists the key as required).
 */
import type { UdpAddress } from '../dht-types.ts';
import {
  finishLookup,
  type LookupContext,
  type LookupStats,
  storeToAll,
  type StoreOutcome,
} from '../traversal.ts';
import { getPeersTraversal } from './get-peers.ts';

export interface AnnounceResult {
  /** Nodes that acknowledged the announce. */
  stored: number;
  peers: UdpAddress[];
  outcome: StoreOutcome;
  stats: LookupStats;
}

/** Throws DHT_LOOKUP_EXHAUSTED when no node answered the search at all. */
export async function announceLookup(
  ctx: LookupContext,
  infoHash: Buffer,
  port: number | undefined,
  seed = false,
): Promise<AnnounceResult> {
  const { result, found } = await getPeersTraversal(ctx, infoHash, {});
  const stats: LookupStats = { ...result.stats, kind: 'announce' };
  if (result.respondedCount === 0) finishLookup(ctx, result, stats);
  const stores = found.closest.flatMap(({ node, token }) =>
    token === undefined
      ? []
      : [
          {
            node,
            query: {
              method: 'announce_peer' as const,
              infoHash,
              port: port ?? 0,
              impliedPort: port === undefined,
              token,
              seed,
            },
          },
        ],
  );
  const outcome = await storeToAll(ctx, stores, stats);
  finishLookup(ctx, result, stats);
  return { stored: outcome.stored, peers: found.peers, outcome, stats };
}
