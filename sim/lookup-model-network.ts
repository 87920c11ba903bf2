/**
 * A model DHT for lookup tests: N simulated nodes answering typed queries through a fake QuerySender on a
 * ManualClock — no codec, no sockets. Each node knows up to 8 others per shared-prefix length (a Kademlia
 * table built by brute force), and behaves as told: ok, dead (never answers; the sender rejects after its full
 * timeout), slow (answers after slowMs), error (KRPC 202), garbage (lists poisoned nodes that do not exist, bad
 * ids, bogus items), noncompliant (fine, but ctx.isCompliant is false for it).
 */
import { createHash } from 'node:crypto';
import { BEP33_BLOOM_BYTES } from '../src/dht/constants.ts';
import type { BValue, NodeInfo, UdpAddress } from '../src/dht/dht-types.ts';
import type { KrpcResponse, OutgoingQuery } from '../src/dht/krpc-message.ts';
import { commonPrefixBits, xorDistance } from '../src/dht/node-id.ts';
import { KrpcRemoteError, type QuerySender } from '../src/dht/rpc-manager.ts';
import type { LookupContext, LookupStats } from '../src/dht/traversal.ts';
import { addressKey, DhtchatError, ManualClock, nullLogger, SeededRandom } from '../src/runtime/index.ts';

export type Behaviour = 'ok' | 'dead' | 'slow' | 'error' | 'garbage' | 'noncompliant';

interface StoredItem {
  v: BValue;
  vBytes: Buffer;
  k?: Buffer;
  sig?: Buffer;
  seq?: number;
}

export interface ModelNode extends NodeInfo {
  behaviour: Behaviour;
  latencyMs: number;
  known: NodeInfo[];
  peers: Map<string, UdpAddress[]>;
  items: Map<string, StoredItem>;
  bfsd?: Buffer;
  received: number;
}

export interface ModelOptions {
  seed: string;
  size: number;
  /** Fractions of nodes with each non-ok behaviour. */
  mix?: Partial<Record<Behaviour, number>>;
  timeoutMs?: number;
  slowMs?: number;
}

/** Deterministic Fisher-Yates shuffle. */
export function shuffle<T>(items: readonly T[], random: SeededRandom): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const sorted = (target: Buffer, nodes: NodeInfo[]): NodeInfo[] =>
  [...nodes].sort((a, b) => Buffer.compare(xorDistance(a.id, target), xorDistance(b.id, target)));

export class ModelNetwork {
  readonly clock = new ManualClock();
  readonly random: SeededRandom;
  readonly nodes: ModelNode[] = [];
  readonly #byAddress = new Map<string, ModelNode>();
  readonly timeoutMs: number;
  readonly slowMs: number;
  /** Queries the client sent, by method. */
  readonly sent = new Map<string, number>();
  readonly lookups: LookupStats[] = [];

  constructor(opts: ModelOptions) {
    this.random = new SeededRandom(opts.seed);
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.slowMs = opts.slowMs ?? 2000;
    const behaviours: Behaviour[] = [];
    for (const [b, fraction] of Object.entries(opts.mix ?? {}) as Array<[Behaviour, number]>) {
      for (let i = 0; i < Math.round(fraction * opts.size); i++) behaviours.push(b);
    }
    for (let i = 0; i < opts.size; i++) {
      const node: ModelNode = {
        id: this.random.bytes(20),
        address: { host: `10.${(i >> 8) & 255}.${i & 255}.1`, port: 6881 },
        behaviour: 'ok',
        latencyMs: 10 + this.random.int(90),
        known: [],
        peers: new Map(),
        items: new Map(),
        received: 0,
      };
      this.nodes.push(node);
      this.#byAddress.set(addressKey(node.address), node);
    }
    // Spread the behaviours over random nodes.
    const order = shuffle(
      this.nodes.map((_, i) => i),
      this.random,
    );
    behaviours.forEach((b, i) => {
      const n = this.nodes[order[i] ?? 0];
      if (n) n.behaviour = b;
    });
    // Real tables evict nodes that stop answering, so dead ones only fill slots nobody live wants.
    const liveFirst = [...this.nodes].sort(
      (a, b) => Number(a.behaviour === 'dead') - Number(b.behaviour === 'dead'),
    );
    for (const n of this.nodes) {
      const perPrefix = new Map<number, number>();
      for (const o of liveFirst) {
        if (o === n) continue;
        const c = commonPrefixBits(n.id, o.id);
        const have = perPrefix.get(c) ?? 0;
        if (have >= 8) continue;
        perPrefix.set(c, have + 1);
        n.known.push({ id: o.id, address: o.address });
      }
    }
  }

  node(address: UdpAddress): ModelNode | undefined {
    return this.#byAddress.get(addressKey(address));
  }

  isCompliant = (n: NodeInfo): boolean => {
    const m = this.node(n.address);
    return m === undefined || (m.behaviour !== 'noncompliant' && m.id.equals(n.id));
  };

  /** The k closest nodes that answer and are compliant (garbage ones answer too), by brute force. */
  trueClosest(target: Buffer, k: number): NodeInfo[] {
    const good = this.nodes.filter((n) => ['ok', 'slow', 'garbage'].includes(n.behaviour));
    return sorted(target, good).slice(0, k);
  }

  get totalSent(): number {
    return [...this.sent.values()].reduce((a, b) => a + b, 0);
  }

  sender: QuerySender = {
    query: (to, q) => {
      this.sent.set(q.method, (this.sent.get(q.method) ?? 0) + 1);
      return new Promise<KrpcResponse>((resolve, reject) => {
        const n = this.node(to);
        const timeout = () =>
          this.clock.setTimer(this.timeoutMs, () =>
            reject(new DhtchatError('DHT_QUERY_TIMEOUT', 'timed out')),
          );
        if (n === undefined || n.behaviour === 'dead') {
          timeout();
          return;
        }
        n.received++;
        const delay = n.behaviour === 'slow' ? this.slowMs : n.latencyMs;
        this.clock.setTimer(delay, () => {
          if (n.behaviour === 'error') {
            reject(new KrpcRemoteError(202, 'server error', q.method));
            return;
          }
          const answer = this.#answer(n, q);
          if (answer instanceof KrpcRemoteError) reject(answer);
          else resolve(answer);
        });
      });
    },
  };

  context(overrides: Partial<LookupContext> = {}): LookupContext {
    const seedNodes = shuffle(this.nodes, this.random).slice(0, 8);
    return {
      sender: this.sender,
      clock: this.clock,
      random: this.random,
      k: 8,
      alpha: 3,
      slowQueryMs: 1000,
      seeds: () => seedNodes.map((n) => ({ id: n.id, address: n.address })),
      isCompliant: this.isCompliant,
      isAcceptable: () => true,
      family: 4,
      logger: nullLogger,
      onLookupDone: (s) => this.lookups.push(s),
      ...overrides,
    };
  }

  tokenOf(n: ModelNode): Buffer {
    return Buffer.concat([Buffer.from('tok'), n.id.subarray(0, 4)]);
  }

  #answer(n: ModelNode, q: OutgoingQuery): KrpcResponse | KrpcRemoteError {
    const base = { kind: 'response' as const, tid: Buffer.from([0, 1]), id: n.id };
    const target = 'target' in q && q.target ? q.target : 'infoHash' in q ? q.infoHash : undefined;
    if (n.behaviour === 'garbage' && target !== undefined) {
      // Poison: fake nodes right next to the target (they do not exist), a bad id, a bogus item and peers.
      const fake: NodeInfo[] = Array.from({ length: 8 }, (_, i) => {
        const id = Buffer.from(target);
        id[19] = (id[19] ?? 0) ^ (i + 1);
        return { id, address: { host: `192.0.2.${i + 1}`, port: 9 } };
      });
      fake.push({ id: Buffer.alloc(5), address: { host: '192.0.2.99', port: 1 } });
      fake.push({ id: this.random.bytes(20), address: { host: '::1', port: 1 } });
      fake.push({ id: this.random.bytes(20), address: { host: '192.0.2.100', port: 0 } });
      return {
        ...base,
        nodes: fake,
        token: Buffer.from('x'),
        values: [{ host: '192.0.2.7', port: 7 }],
        v: Buffer.from('forged'),
        vBytes: Buffer.from('6:forged'),
        k: Buffer.alloc(32, 1),
        sig: Buffer.alloc(64, 2),
        seq: 999,
      };
    }
    const closest = target === undefined ? [] : sorted(target, n.known).slice(0, 8);
    const token = this.tokenOf(n);
    switch (q.method) {
      case 'ping':
        return base;
      case 'find_node':
        return { ...base, nodes: closest };
      case 'get_peers': {
        const peers = n.peers.get(q.infoHash.toString('hex'));
        const extra = q.scrape && n.bfsd ? { bfsd: n.bfsd, bfpe: Buffer.alloc(BEP33_BLOOM_BYTES) } : {};
        return { ...base, token, nodes: closest, ...(peers ? { values: peers } : {}), ...extra };
      }
      case 'announce_peer': {
        if (!q.token.equals(token)) return new KrpcRemoteError(203, 'bad token', q.method);
        const port = q.impliedPort ? 7777 : q.port;
        const key = q.infoHash.toString('hex');
        n.peers.set(key, [...(n.peers.get(key) ?? []), { host: '10.99.99.99', port }]);
        return base;
      }
      case 'get': {
        const item = n.items.get(q.target.toString('hex'));
        return { ...base, token, nodes: closest, ...(item ?? {}) };
      }
      case 'put': {
        if (!q.token.equals(token)) return new KrpcRemoteError(203, 'bad token', q.method);
        const t =
          q.k === undefined
            ? createHash('sha1').update(q.vBytes).digest()
            : createHash('sha1')
                .update(Buffer.concat([q.k, q.salt ?? Buffer.alloc(0)]))
                .digest();
        const old = n.items.get(t.toString('hex'));
        if (q.cas !== undefined && old?.seq !== undefined && old.seq !== q.cas)
          return new KrpcRemoteError(301, 'cas mismatch', q.method);
        if (old?.seq !== undefined && q.seq !== undefined && q.seq < old.seq)
          return new KrpcRemoteError(302, 'seq too low', q.method);
        const item: StoredItem = { v: q.v, vBytes: q.vBytes };
        if (q.k !== undefined) Object.assign(item, { k: q.k, sig: q.sig, seq: q.seq });
        n.items.set(t.toString('hex'), item);
        return base;
      }
      default:
        return { ...base, nodes: closest };
    }
  }
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Advances virtual time in small steps until p settles (bounded); returns its value or rethrows. */
export async function drive<T>(clock: ManualClock, p: Promise<T>, maxMs = 120_000, stepMs = 10): Promise<T> {
  let isSettled = false;
  p.then(
    () => {
      isSettled = true;
    },
    () => {
      isSettled = true;
    },
  );
  await flush();
  for (let t = 0; t < maxMs && !isSettled; t += stepMs) {
    clock.advance(stepMs);
    await flush();
  }
  if (!isSettled) throw new Error(`did not settle within ${maxMs} virtual ms`);
  return p;
}
