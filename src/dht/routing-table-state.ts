/**
 * Save/restore of the routing table as bytes (the app writes them to the data dir), so a restarted node rejoins
 * without the bootstrap nodes. Format, version 1 — a bencoded dict (keys sorted, like libtorrent's dht state):
 *   { "id": <20 bytes>, "nodes": <compact IPv4 nodes, 26 bytes each>, "nodes6": <compact IPv6 nodes, 38 each>,
 *     "v": 1 }
 * Unknown keys are ignored (a newer writer may add some); a higher "v" is refused rather than misread.
 * Decoding never throws: damaged state is just "no state".
 */
import {
  decodeBencode,
  decodeCompactNodes,
  encodeBencode,
  encodeCompactNodes,
  hostToBytes,
} from '../wire/index.ts';
import type { BDict, BValue, NodeInfo } from './dht-types.ts';
import { NODE_ID_BYTES } from './node-id.ts';

export const ROUTING_STATE_VERSION = 1;
/** More than any table holds (160 buckets × 8); bounds what a damaged or hostile file can make us load. */
export const MAX_STATE_NODES = 2_000;

export interface RoutingTableState {
  id: Buffer;
  nodes: NodeInfo[];
}

export function encodeRoutingTableState(state: RoutingTableState): Buffer {
  const ofFamily = (bytes: number): NodeInfo[] =>
    state.nodes
      .filter((n) => n.id.length === NODE_ID_BYTES && hostToBytes(n.address.host)?.length === bytes)
      .slice(0, MAX_STATE_NODES);
  const v4 = ofFamily(4);
  const v6 = ofFamily(16);
  const dict: BDict = Object.create(null);
  dict['id'] = Buffer.from(state.id);
  dict['nodes'] = encodeCompactNodes(v4, 4);
  dict['nodes6'] = encodeCompactNodes(v6, 6);
  dict['v'] = ROUTING_STATE_VERSION;
  return encodeBencode(dict);
}

export function decodeRoutingTableState(bytes: Uint8Array): RoutingTableState | undefined {
  const decoded = decodeBencode(bytes, { maxBytes: 200_000 });
  if (!decoded.ok) return undefined;
  const dict = asDict(decoded.value);
  if (dict === undefined) return undefined;
  const version = dict['v'];
  if (typeof version !== 'number' || version < 1 || version > ROUTING_STATE_VERSION) return undefined;
  const id = dict['id'];
  if (!Buffer.isBuffer(id) || id.length !== NODE_ID_BYTES) return undefined;
  const nodes: NodeInfo[] = [];
  for (const [key, family] of [
    ['nodes', 4],
    ['nodes6', 6],
  ] as const) {
    const raw = dict[key];
    if (raw === undefined) continue;
    if (!Buffer.isBuffer(raw)) return undefined;
    const list = decodeCompactNodes(raw, family);
    if (list === undefined) return undefined;
    nodes.push(...list.slice(0, MAX_STATE_NODES));
  }
  return { id: Buffer.from(id), nodes };
}

function asDict(v: BValue): BDict | undefined {
  return typeof v === 'object' && !Buffer.isBuffer(v) && !Array.isArray(v) ? v : undefined;
}
