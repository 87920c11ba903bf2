/**
 * get_peers lookup (BEP 5, with BEP 33 scrape): collects peers from every responder (deduplicated, filtered
 * like any address), the tokens of the k closest compliant responders (announce uses them), and, for a scrape,
 * the OR of their bloom filters.
 * https://www.bittorrent.org/beps/bep_0005.html · https://www.bittorrent.org/beps/bep_0033.html
 */
import { addressKey } from '../../runtime/index.ts';
import { BEP33_BLOOM_BYTES, MAX_TOKEN_BYTES } from '../constants.ts';
import type { NodeInfo, UdpAddress } from '../dht-types.ts';
import {
  finishLookup,
  type LookupContext,
  type LookupStats,
  runTraversal,
  type TraversalResult,
} from '../traversal.ts';

/** Peers kept per lookup: a popular swarm must not grow one lookup's memory without bound. */
export const MAX_LOOKUP_PEERS = 2_000;

export interface GetPeersOptions {
  /** BEP 33: ask for bloom filters. */
  scrape?: boolean;
  /** BEP 33: leave out seeds. */
  noSeed?: boolean;
}

export interface GetPeersResult {
  peers: UdpAddress[];
  /** The k closest compliant responders, closest first, with the token each gave us (if any). */
  closest: Array<{ node: NodeInfo; token?: Buffer }>;
  /** BEP 33 seeds / downloaders filters, OR-merged over the closest responders (scrape only). */
  bfsd?: Buffer;
  bfpe?: Buffer;
  stats: LookupStats;
}

/** Throws DHT_LOOKUP_EXHAUSTED when no node answered at all. */
export async function getPeersLookup(
  ctx: LookupContext,
  infoHash: Buffer,
  opts: GetPeersOptions = {},
): Promise<GetPeersResult> {
  const { result, found } = await getPeersTraversal(ctx, infoHash, opts);
  finishLookup(ctx, result);
  return found;
}

/** The search part, shared with announce (which reports its own stats). */
export async function getPeersTraversal(
  ctx: LookupContext,
  infoHash: Buffer,
  opts: GetPeersOptions,
): Promise<{ result: TraversalResult; found: GetPeersResult }> {
  const peers = new Map<string, UdpAddress>();
  const result = await runTraversal(ctx, infoHash, {
    kind: opts.scrape ? 'scrape' : 'get_peers',
    query: { method: 'get_peers', infoHash, scrape: opts.scrape === true, noSeed: opts.noSeed === true },
    onResponse(_node, response) {
      for (const peer of response.values ?? []) {
        if (peers.size >= MAX_LOOKUP_PEERS) break;
        if (!Number.isInteger(peer.port) || peer.port <= 0 || peer.port > 65535) continue;
        if (!ctx.isAcceptable(peer)) continue;
        peers.set(addressKey(peer), { host: peer.host, port: peer.port });
      }
      return 'continue';
    },
  });
  const closest = result.closest.map(({ node, response }) => {
    const token = response.token;
    const isTokenOk = Buffer.isBuffer(token) && token.length > 0 && token.length <= MAX_TOKEN_BYTES;
    return isTokenOk ? { node, token } : { node };
  });
  const found: GetPeersResult = { peers: [...peers.values()], closest, stats: result.stats };
  if (opts.scrape) {
    const bfsd = orBlooms(result.closest.map((r) => r.response.bfsd));
    const bfpe = orBlooms(result.closest.map((r) => r.response.bfpe));
    if (bfsd !== undefined) found.bfsd = bfsd;
    if (bfpe !== undefined) found.bfpe = bfpe;
  }
  return { result, found };
}

/** BEP 33: filters from several nodes combine by bitwise OR; wrong-sized ones are ignored. */
export function orBlooms(filters: ReadonlyArray<Buffer | undefined>): Buffer | undefined {
  let merged: Buffer | undefined;
  for (const f of filters) {
    if (!Buffer.isBuffer(f) || f.length !== BEP33_BLOOM_BYTES) continue;
    merged ??= Buffer.alloc(BEP33_BLOOM_BYTES);
    for (let i = 0; i < BEP33_BLOOM_BYTES; i++) merged[i] = (merged[i] ?? 0) | (f[i] ?? 0);
  }
  return merged;
}
