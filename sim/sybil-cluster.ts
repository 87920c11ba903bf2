/**
 * A Sybil attacker for the simulation: many endpoints on addresses of one /24 the attacker owns, with ids chosen
 * right next to a victim's target (the first 16 bytes equal to it), so that they are the closest nodes any lookup
 * for it can find — which BEP 42 forbids, since an id must derive from its IP.
 *
 * What each Sybil does, in KRPC (hand-written answers, no DhtNode behind it):
 * - find_node / get / get_peers: answers with the other Sybils as the closest nodes it knows, a token, and never
 *   a value or a peer (an eclipse: the lookup converges on the attacker);
 * - put / announce_peer: acknowledges, and drops what it was given;
 * - ping: answers.
 * It introduces itself the way any node does: by querying honest nodes (find_node for the target), which puts it
 * in their routing tables unless they enforce BEP 42.
 */
import { decodeKrpc, encodeKrpc, type NodeInfo } from '../src/dht/index.ts';
import type { DatagramTransport, UdpAddress } from '../src/runtime/index.ts';
import type { Internet } from './internet.ts';
import type { PublicAddresses } from './public-addresses.ts';
import type { SimRandom } from './sim-random.ts';

export interface SybilCounters {
  queriesAnswered: number;
  storesDropped: number;
}

export class SybilCluster {
  readonly counters: SybilCounters = { queriesAnswered: 0, storesDropped: 0 };
  readonly nodes: NodeInfo[] = [];
  readonly #transports: DatagramTransport[] = [];
  readonly #random: SimRandom;

  constructor(
    internet: Internet,
    addresses: PublicAddresses,
    random: SimRandom,
    target: Buffer,
    count: number,
  ) {
    this.#random = random;
    const block = addresses.next().split('.').slice(0, 3).join('.');
    for (let i = 0; i < count; i++) {
      const host = addresses.nextInBlock(block);
      if (host === undefined) break;
      const id = Buffer.concat([target.subarray(0, 16), random.bytes(4)]);
      const transport = internet.createTransport({ host, port: 6881 });
      const self: NodeInfo = { id, address: transport.localAddress() };
      this.nodes.push(self);
      this.#transports.push(transport);
      transport.onPacket((bytes, from) => this.#answer(transport, self, bytes, from));
    }
  }

  /** Every Sybil sends find_node(target) to each of these nodes (their answers go unused). */
  introduceTo(honest: readonly UdpAddress[], target: Buffer): void {
    this.#transports.forEach((transport, i) => {
      for (const to of honest) {
        const tid = this.#random.bytes(2);
        transport.send(
          encodeKrpc({
            kind: 'query',
            method: 'find_node',
            tid,
            id: this.nodes[i]!.id,
            target,
            readOnly: false,
            want: [],
          }),
          to,
        );
      }
    });
  }

  close(): void {
    for (const t of this.#transports) t.close();
  }

  #answer(transport: DatagramTransport, self: NodeInfo, bytes: Buffer, from: UdpAddress): void {
    const decoded = decodeKrpc(bytes);
    if (!decoded.ok || decoded.message.kind !== 'query') return;
    const query = decoded.message;
    this.counters.queriesAnswered++;
    if (query.method === 'put' || query.method === 'announce_peer') this.counters.storesDropped++;
    const others = this.nodes.filter((n) => n !== self).slice(0, 8);
    const isLookup = query.method === 'find_node' || query.method === 'get' || query.method === 'get_peers';
    transport.send(
      encodeKrpc({
        kind: 'response',
        tid: query.tid,
        id: self.id,
        ...(isLookup ? { nodes: others, token: Buffer.from('sybiltok') } : {}),
      }),
      from,
    );
  }
}
