/**
 * A testnet: N real DhtNodes on 127.0.0.1 over real UDP (UdpTransport), all with allowPrivate, bootstrapped from
 * the first. Shared by the loopback integration test, the interop tests, the live fuzz test and the benchmarks.
 *
 *   const net = await createTestnet({ size: 20 });
 *   await net.nodes[3].node.putImmutable(Buffer.from('hi'));
 *   await net.close();
 */
import { DhtNode, type DhtNodeOptions } from '../../src/dht/index.ts';
import {
  type Clock,
  cryptoRandom,
  type Logger,
  nullLogger,
  SeededRandom,
  systemClock,
  type UdpAddress,
  UdpTransport,
} from '../../src/runtime/index.ts';

export interface TestnetNode {
  readonly node: DhtNode;
  readonly transport: UdpTransport;
  readonly address: UdpAddress;
}

export interface TestnetOptions {
  size: number;
  /** Extra bootstrap contacts for every node (e.g. a libtorrent node). */
  bootstrap?: UdpAddress[];
  /** Seed for node randomness (ids, tids); default: crypto randomness. */
  seed?: string;
  /** How many nodes start() at once after the first. */
  startConcurrency?: number;
  clock?: Clock;
  logger?: Logger;
  /** Anything else for every node's options. */
  nodeOptions?: Partial<DhtNodeOptions>;
}

export interface Testnet {
  readonly nodes: TestnetNode[];
  /** The first node's address: the network's bootstrap node. */
  readonly bootstrap: UdpAddress;
  /** Starts one more node bootstrapped from the given contacts (default: the bootstrap node). */
  addNode(opts?: { bootstrap?: UdpAddress[]; savedState?: Buffer; port?: number }): Promise<TestnetNode>;
  close(): Promise<void>;
}

export async function createTestnet(options: TestnetOptions): Promise<Testnet> {
  const nodes: TestnetNode[] = [];
  let counter = 0;

  const spawn = async (
    bootstrap: UdpAddress[],
    extra: { savedState?: Buffer; port?: number } = {},
  ): Promise<TestnetNode> => {
    const transport = await UdpTransport.bind({
      host: '127.0.0.1',
      port: extra.port ?? 0,
      bufferBytes: 1 << 20,
    });
    const index = counter++;
    const node = new DhtNode({
      transport,
      clock: options.clock ?? systemClock,
      random: options.seed === undefined ? cryptoRandom : new SeededRandom(`${options.seed}/${index}`),
      logger: options.logger ?? nullLogger,
      bootstrap,
      allowPrivate: true,
      ...(extra.savedState === undefined ? {} : { savedState: extra.savedState }),
      ...options.nodeOptions,
    });
    const entry = { node, transport, address: transport.localAddress() };
    nodes.push(entry);
    return entry;
  };

  const first = await spawn(options.bootstrap ?? []);
  // The first node has nobody to ask yet (unless given extra contacts); its start() must not block the rest.
  await startQuietly(first.node);
  const bootstrap = [first.address, ...(options.bootstrap ?? [])];

  const rest: TestnetNode[] = [];
  for (let i = 1; i < options.size; i++) rest.push(await spawn(bootstrap));
  const concurrency = options.startConcurrency ?? 8;
  for (let i = 0; i < rest.length; i += concurrency) {
    await Promise.all(rest.slice(i, i + concurrency).map((n) => startQuietly(n.node)));
  }
  // Late joiners know the network; early ones knew only the bootstrap node. One more self-lookup evens it out.
  await Promise.all(nodes.slice(0, Math.min(nodes.length, concurrency * 2)).map((n) => refresh(n.node)));

  return {
    nodes,
    bootstrap: first.address,
    async addNode(opts = {}) {
      const entry = await spawn(opts.bootstrap ?? [first.address], opts);
      await startQuietly(entry.node);
      return entry;
    },
    async close() {
      for (const n of nodes) {
        n.node.close();
        n.transport.close();
      }
    },
  };
}

async function startQuietly(node: DhtNode): Promise<void> {
  try {
    await node.start();
  } catch {
    // A node that found nobody yet is still a valid member; tests assert on what they need.
  }
}

async function refresh(node: DhtNode): Promise<void> {
  try {
    await node.findNode(node.id);
  } catch {
    // As above.
  }
}

/** Waits until fn() is true, polling every intervalMs; false if timeoutMs passed first. */
export async function waitUntil(fn: () => boolean, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const endMs = Date.now() + timeoutMs;
  while (Date.now() < endMs) {
    if (fn()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return fn();
}
