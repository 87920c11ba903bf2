/**
 * The `nodes` / `nodes6` part of find_node, get_peers, get, sample_infohashes and unknown-query replies.
 * BEP 32 §want: "n4" asks for `nodes`, "n6" for `nodes6`; without `want`, the family the query came in on.
 * https://www.bittorrent.org/beps/bep_0032.html · K = 8 closest good nodes per family (BEP 5).
 */
import type { UdpAddress } from '../../runtime/index.ts';
import { familyOf } from '../address-class.ts';
import { K } from '../constants.ts';
import type { NodeInfo } from '../dht-types.ts';
import type { WantFamily } from '../krpc-message.ts';
import type { HandlerContext, ReplyBody } from './handler-context.ts';

/** The families a reply should carry nodes for. */
export function wantedFamilies(want: readonly WantFamily[], from: UdpAddress): Array<4 | 6> {
  if (want.length === 0) return [familyOf(from.host)];
  const families: Array<4 | 6> = [];
  if (want.includes('n4')) families.push(4);
  if (want.includes('n6')) families.push(6);
  return families;
}

/** `{ nodes?, nodes6? }` with the K closest nodes to target of each family in `families`. */
export function closestNodesFields(
  target: Buffer,
  families: ReadonlyArray<4 | 6>,
  ctx: HandlerContext,
): Pick<ReplyBody, 'nodes' | 'nodes6'> {
  const fields: { nodes?: ReplyBody['nodes']; nodes6?: ReplyBody['nodes6'] } = {};
  // The routing table's view is trusted, but a reply must never carry more than K or a node of the wrong family.
  if (families.includes(4)) fields.nodes = ofFamily(ctx.closestNodes(target, 4, K), 4);
  if (families.includes(6)) fields.nodes6 = ofFamily(ctx.closestNodes(target, 6, K), 6);
  return fields;
}

/** At most K of the nodes, only those of the family. */
function ofFamily(nodes: readonly NodeInfo[], family: 4 | 6): NodeInfo[] {
  const out: NodeInfo[] = [];
  for (const n of nodes) {
    if (out.length === K) break;
    // A host without ':' can only be IPv4; parse (to tell IPv4-mapped IPv6 apart) only the others.
    const host = n.address.host;
    if ((host.includes(':') ? familyOf(host) : 4) === family) out.push(n);
  }
  return out;
}

/** The first count nodes that pass keep, in place (for a fresh array the caller owns, such as closest()'s). */
export function keepFirst(nodes: NodeInfo[], count: number, keep: (n: NodeInfo) => boolean): NodeInfo[] {
  let kept = 0;
  for (const n of nodes) {
    if (kept === count) break;
    if (keep(n)) nodes[kept++] = n;
  }
  nodes.length = kept;
  return nodes;
}
