/**
 * Test fixture for the incoming-query handlers: a HandlerContext over real stores, a ManualClock and a fake
 * routing table, the BEP 5/44 vectors, and an encoder that measures a reply as the node would send it.
 */
import assert from 'node:assert/strict';
import { CLIENT_VERSION, MAX_TID_BYTES } from '../../../src/dht/constants.ts';
import type { HandlerContext, HandlerReply, ReplyBody } from '../../../src/dht/handlers/handler-context.ts';
import { ItemStore } from '../../../src/dht/item-store.ts';
import { decodeKrpc, encodeKrpc } from '../../../src/dht/krpc-codec.ts';
import type { KrpcQuery } from '../../../src/dht/krpc-message.ts';
import { PeerStore, type PeerStoreOptions } from '../../../src/dht/peer-store.ts';
import { TokenIssuer } from '../../../src/dht/tokens.ts';
import { ManualClock, SeededRandom, type UdpAddress } from '../../../src/runtime/index.ts';
import type { NodeInfo } from '../../../src/wire/index.ts';
import { readBepVectors } from '../../helpers/vectors.ts';

export const vectors = readBepVectors();

/** Decodes one of the BEP 5 example packets into a typed query. */
export function exampleQuery<M extends KrpcQuery['method']>(
  name: string,
  method: M,
): Extract<KrpcQuery, { method: M }> {
  const decoded = decodeKrpc(Buffer.from(vectors.bep5_examples_ascii[name]!, 'latin1'));
  assert.ok(decoded.ok && decoded.message.kind === 'query' && decoded.message.method === method, name);
  return decoded.message as Extract<KrpcQuery, { method: M }>;
}

/** n fake nodes of a family, ids spread over the keyspace. */
export function fakeNodes(family: 4 | 6, n: number): NodeInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    id: Buffer.alloc(20, i + (family === 6 ? 100 : 0)),
    address: family === 4 ? { host: `8.8.${i}.1`, port: 6881 } : { host: `2001:db8::${i + 1}`, port: 6881 },
  }));
}

export interface Fixture {
  ctx: HandlerContext;
  clock: ManualClock;
  tokens: TokenIssuer;
  peers: PeerStore;
  items: ItemStore;
}

export function makeFixture(opts: { peers?: PeerStoreOptions; nodesPerFamily?: number } = {}): Fixture {
  const clock = new ManualClock();
  const random = new SeededRandom('handlers');
  const tokens = new TokenIssuer(clock, random);
  const peers = new PeerStore(opts.peers);
  const items = new ItemStore();
  const table = { 4: fakeNodes(4, opts.nodesPerFamily ?? 20), 6: fakeNodes(6, opts.nodesPerFamily ?? 20) };
  const fixture: Fixture = {
    clock,
    tokens,
    peers,
    items,
    get ctx(): HandlerContext {
      return {
        nowMs: clock.monotonicMs(),
        ownId: Buffer.alloc(20, 0xaa),
        isReadOnly: false,
        tokens,
        peers,
        items,
        random,
        closestNodes: (_target, family, count) => table[family].slice(0, count),
      };
    },
  };
  return fixture;
}

export const V4_FROM: UdpAddress = { host: '1.2.3.4', port: 6881 };
export const V6_FROM: UdpAddress = { host: '2001:db8::99', port: 6881 };

/** The body of a response, failing the test on an error reply. */
export function okBody(reply: HandlerReply): ReplyBody {
  assert.equal(reply.kind, 'response', JSON.stringify(reply));
  return (reply as { body: ReplyBody }).body;
}

/** The error code (and named reason) of an error reply. */
export function errorOf(reply: HandlerReply): { code: number; reason: string | undefined } {
  assert.equal(reply.kind, 'error', 'expected an error reply');
  const e = reply as { code: number; reason?: string };
  return { code: e.code, reason: e.reason };
}

/** The reply encoded as the node would send it, with the longest tid we answer and an IPv6 `ip`. */
export function encodedSize(body: ReplyBody): number {
  return encodeKrpc({
    kind: 'response',
    tid: Buffer.alloc(MAX_TID_BYTES, 0x74),
    id: Buffer.alloc(20, 1),
    yourAddress: V6_FROM,
    version: CLIENT_VERSION,
    ...body,
  }).length;
}
