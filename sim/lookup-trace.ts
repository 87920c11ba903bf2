/**
 * Watches one probe node's packets to measure what its lookups cost: queries sent (per method) and hops.
 *
 * Hops are the referral depth of the node that decided the result: a node from our own routing table (or a
 * bootstrap contact) is 1 hop away; a node first listed in the answer of a node d hops away is d + 1. A lookup's
 * hop count is the depth of the first node that answered with the item (get) or with peers (get_peers), or the
 * largest depth among the nodes a store went to (put). It is measured outside the node, from the packets, so
 * the lookup engine stays as it is; a probe runs one measured lookup at a time, so every packet in the window
 * belongs to it (apart from the odd maintenance ping, which is not counted: only the lookup's methods are).
 */
import { decodeKrpc, type KrpcMethod } from '../src/dht/index.ts';
import {
  addressKey,
  type DatagramTransport,
  type PacketHandler,
  type UdpAddress,
} from '../src/runtime/index.ts';

export interface LookupWindow {
  queries: number;
  /** Depth of the first node that answered with a value or peers; undefined when none did. */
  valueHops: number | undefined;
  /** Largest depth among the nodes a put/announce_peer went to. */
  storeHops: number;
}

interface PendingQuery {
  method: KrpcMethod;
  to: string;
}

export class LookupTrace {
  readonly transport: DatagramTransport;
  #methods: ReadonlySet<KrpcMethod> | undefined;
  #depth = new Map<string, number>();
  #pending = new Map<string, PendingQuery>();
  #window: LookupWindow = { queries: 0, valueHops: undefined, storeHops: 0 };

  constructor(inner: DatagramTransport) {
    this.transport = {
      send: (bytes, to) => {
        this.#onSend(bytes, to);
        inner.send(bytes, to);
      },
      onPacket: (handler: PacketHandler) =>
        inner.onPacket((bytes, from) => {
          this.#onReceive(bytes, from);
          handler(bytes, from);
        }),
      localAddress: () => inner.localAddress(),
      close: () => inner.close(),
    };
  }

  /** Starts counting one lookup's queries of the given methods (its hops start from our table: depth 1). */
  begin(methods: readonly KrpcMethod[]): void {
    this.#methods = new Set(methods);
    this.#depth.clear();
    this.#pending.clear();
    this.#window = { queries: 0, valueHops: undefined, storeHops: 0 };
  }

  /** Stops counting and returns what the lookup cost. */
  end(): LookupWindow {
    this.#methods = undefined;
    this.#depth.clear();
    this.#pending.clear();
    return this.#window;
  }

  #onSend(bytes: Uint8Array, to: UdpAddress): void {
    if (this.#methods === undefined) return;
    const decoded = decodeKrpc(Buffer.from(bytes));
    if (!decoded.ok || decoded.message.kind !== 'query') return;
    const { method, tid } = decoded.message;
    if (!this.#methods.has(method)) return;
    const key = addressKey(to);
    this.#window.queries++;
    this.#pending.set(`${tid.toString('hex')}|${key}`, { method, to: key });
    if (method === 'put' || method === 'announce_peer')
      this.#window.storeHops = Math.max(this.#window.storeHops, this.#depth.get(key) ?? 1);
  }

  #onReceive(bytes: Buffer, from: UdpAddress): void {
    if (this.#methods === undefined) return;
    const decoded = decodeKrpc(bytes);
    if (!decoded.ok || decoded.message.kind !== 'response') return;
    const response = decoded.message;
    const key = addressKey(from);
    const pendingKey = `${response.tid.toString('hex')}|${key}`;
    if (!this.#pending.has(pendingKey)) return;
    this.#pending.delete(pendingKey);
    const depth = this.#depth.get(key) ?? 1;
    for (const node of response.nodes ?? []) {
      const listed = addressKey(node.address);
      if (!this.#depth.has(listed)) this.#depth.set(listed, depth + 1);
    }
    const hasValue = response.v !== undefined || (response.values?.length ?? 0) > 0;
    if (hasValue && this.#window.valueHops === undefined) this.#window.valueHops = depth;
  }
}
