/**
 * find_node lookup (BEP 5): the k closest compliant nodes to a target that answered us. Used for bootstrap
 * (target = our own id) and bucket refresh.
 */
import type { NodeInfo } from '../dht-types.ts';
import { finishLookup, type LookupContext, runTraversal } from '../traversal.ts';

/** Throws DHT_LOOKUP_EXHAUSTED when no node answered at all. */
export async function findNodeLookup(ctx: LookupContext, target: Buffer): Promise<NodeInfo[]> {
  const result = await runTraversal(ctx, target, {
    kind: 'find_node',
    query: { method: 'find_node', target },
  });
  finishLookup(ctx, result);
  return result.closest.map((r) => r.node);
}
