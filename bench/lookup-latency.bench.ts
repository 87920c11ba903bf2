/**
 * Benchmark (3): lookup latency and messages per lookup on a 50-node dhtchat network on loopback (one process,
 * real UDP, test/helpers/testnet.ts). For each operation, N lookups from random nodes to random targets, one at a
 * time: wall-clock latency (p50/p90/p99) and the queries the initiating node sent (rpc `sent` delta).
 *
 *   node --import tsx bench/lookup-latency.bench.ts [--nodes 50] [--lookups 200] [--seed S]
 */
import { ed25519FromSeed } from '../src/crypto/index.ts';
import { SeededRandom } from '../src/runtime/index.ts';
import { createTestnet, type TestnetNode } from '../test/helpers/testnet.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

const nodeCount = Number(arg('--nodes', '50'));
const lookups = Number(arg('--lookups', '200'));
const seed = arg('--seed', 'lookup-bench');
const random = new SeededRandom(seed);

const t0 = performance.now();
const net = await createTestnet({ size: nodeCount, startConcurrency: 10 });
const startMs = performance.now() - t0;
const tableSizes = net.nodes.map((n) => n.node.routingTableSize());

const pick = (): TestnetNode => net.nodes[random.int(net.nodes.length)] as TestnetNode;

// Items for `get` to find: one put each from random nodes before measuring.
const immutableTargets: Buffer[] = [];
for (let i = 0; i < 20; i++)
  immutableTargets.push((await pick().node.putImmutable(Buffer.from(`item ${i}`))).target);
const infoHashes: Buffer[] = [];
for (let i = 0; i < 20; i++) {
  const ih = random.bytes(20);
  await pick().node.announcePeer(ih, { port: 1000 + i });
  infoHashes.push(ih);
}

type Op = { name: string; run: (n: TestnetNode, i: number) => Promise<unknown> };
const ops: Op[] = [
  { name: 'find_node', run: (n) => n.node.findNode(random.bytes(20)) },
  { name: 'get_peers', run: (n, i) => n.node.getPeers(infoHashes[i % infoHashes.length] as Buffer) },
  {
    name: 'get (immutable)',
    run: (n, i) => n.node.get(immutableTargets[i % immutableTargets.length] as Buffer),
  },
  { name: 'announce', run: (n) => n.node.announcePeer(random.bytes(20), { port: 4000 }) },
  {
    name: 'put (immutable)',
    run: (n, i) => n.node.putImmutable(Buffer.from(`bench ${i} ${random.int(1e9)}`)),
  },
  {
    name: 'put (mutable)',
    run: (n) => n.node.putMutable({ keyPair: ed25519FromSeed(random.bytes(32)), v: Buffer.from('m') }),
  },
];

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

const results: Record<string, unknown>[] = [];
for (const op of ops) {
  const latencies: number[] = [];
  const messages: number[] = [];
  let failures = 0;
  for (let i = 0; i < lookups; i++) {
    const n = pick();
    const sentBefore = n.node.stats().rpc.sent;
    const started = performance.now();
    try {
      await op.run(n, i);
    } catch {
      failures++;
    }
    latencies.push(performance.now() - started);
    messages.push(n.node.stats().rpc.sent - sentBefore);
  }
  latencies.sort((a, b) => a - b);
  messages.sort((a, b) => a - b);
  results.push({
    op: op.name,
    lookups,
    failures,
    p50Ms: +quantile(latencies, 0.5).toFixed(2),
    p90Ms: +quantile(latencies, 0.9).toFixed(2),
    p99Ms: +quantile(latencies, 0.99).toFixed(2),
    meanMessages: +(messages.reduce((a, b) => a + b, 0) / messages.length).toFixed(1),
    p50Messages: quantile(messages, 0.5),
    maxMessages: messages[messages.length - 1],
  });
}
await net.close();

const minTable = Math.min(...tableSizes);
const meanTable = tableSizes.reduce((a, b) => a + b, 0) / tableSizes.length;
console.log(
  JSON.stringify({
    nodes: nodeCount,
    seed,
    networkStartMs: Math.round(startMs),
    routingTable: { min: minTable, mean: +meanTable.toFixed(1) },
    results,
  }),
);
console.log(
  `${nodeCount} nodes started in ${Math.round(startMs)} ms; routing table min ${minTable}, mean ${meanTable.toFixed(1)}`,
);
console.log(
  ['operation'.padEnd(16), 'p50 ms', 'p90 ms', 'p99 ms', 'msgs mean', 'msgs p50', 'msgs max', 'fail'].join(
    '  ',
  ),
);
for (const r of results) {
  console.log(
    [
      String(r['op']).padEnd(16),
      String(r['p50Ms']).padStart(6),
      String(r['p90Ms']).padStart(6),
      String(r['p99Ms']).padStart(6),
      String(r['meanMessages']).padStart(9),
      String(r['p50Messages']).padStart(8),
      String(r['maxMessages']).padStart(8),
      String(r['failures']).padStart(4),
    ].join('  '),
  );
}
