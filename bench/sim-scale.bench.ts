/**
 * What one simulated DhtNode costs in memory before any traffic: N nodes created on the simulated Internet
 * (sim/internet.ts), each with its own address, BEP 42 id and random stream, none started. Tells whether a
 * population fits in memory at all (100,000 nodes) without running its joins, which cost CPU time in proportion
 * to the traffic (docs/BENCHMARKS.md "Simulator scale" has both).
 * Run: node --expose-gc --import tsx bench/sim-scale.bench.ts [N]
 */
import { DhtNode, nodeIdForHost } from '../src/dht/index.ts';
import { EventScheduler } from '../sim/event-scheduler.ts';
import { Internet } from '../sim/internet.ts';
import { INTERNET_LATENCY, LatencyModel } from '../sim/latency-model.ts';
import { PublicAddresses } from '../sim/public-addresses.ts';
import { SimRandom } from '../sim/sim-random.ts';

const count = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const before = process.memoryUsage();
const startMs = performance.now();
const random = new SimRandom('sim-scale');
const scheduler = new EventScheduler();
const internet = new Internet(scheduler, new LatencyModel(INTERNET_LATENCY, 'sim-scale'), random.fork('net'));
const addresses = new PublicAddresses(random.fork('addresses'));
const nodes: DhtNode[] = [];
for (let i = 0; i < count; i++) {
  const host = addresses.next();
  const nodeRandom = random.fork(`node/${i}`);
  const transport = internet.createTransport({ host, port: 6881 });
  nodes.push(
    new DhtNode({ transport, clock: scheduler, random: nodeRandom, id: nodeIdForHost(host, nodeRandom) }),
  );
}
const createMs = performance.now() - startMs;
gc?.();
const after = process.memoryUsage();
const result = {
  // Read after the measurement: a population nothing reads again would be collected before it (V8 liveness).
  nodes: nodes.filter((n) => n.routingTableSize() === 0).length,
  createS: Number((createMs / 1000).toFixed(1)),
  heapMB: Math.round((after.heapUsed - before.heapUsed) / 1e6),
  rssMB: Math.round(after.rss / 1e6),
  heapKBPerNode: Number(((after.heapUsed - before.heapUsed) / count / 1e3).toFixed(1)),
};
console.log(JSON.stringify(result));
console.log(
  `| ${result.nodes} | ${result.createS} s | ${result.heapMB} MB | ${result.rssMB} MB | ${result.heapKBPerNode} KB |`,
);
