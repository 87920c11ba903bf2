/**
 * Routing-table hot paths on one core: closest(target, 8) (every find_node/get_peers/get answer calls it),
 * nodeSeen (every response), and the maintenance tick's two questions (questionableToPing, bucketsToRefresh: every
 * 5 s on every node, so the bulk of a large simulation's upkeep). A table filled from 100,000 random ids, like a
 * node that has been up a while, its replacement caches full of nodes heard of in lookups.
 * Run: node --import tsx bench/routing-table.ts
 */
import { RoutingTable } from '../src/dht/routing-table.ts';
import { ManualClock, SeededRandom } from '../src/runtime/index.ts';

const random = new SeededRandom('bench-rt');
const clock = new ManualClock();
const table = new RoutingTable({ ownId: random.bytes(20), clock, isRelaxed: () => false, family: 4 });
const hosts = (i: number) => `${1 + ((i >> 16) & 127)}.${(i >> 8) & 255}.${i & 255}.1`;
const ids = Array.from({ length: 100_000 }, () => random.bytes(20));

let t0 = process.hrtime.bigint();
for (const [i, id] of ids.entries()) table.nodeSeen({ id, address: { host: hosts(i), port: 6881 } });
const seenPerSec = Math.round(ids.length / (Number(process.hrtime.bigint() - t0) / 1e9));

// The common case on a running node: a response from a node already in the table.
const known = table.all();
t0 = process.hrtime.bigint();
for (let r = 0; r < 1000; r++) for (const n of known) table.nodeSeen(n);
const reseenPerSec = Math.round((1000 * known.length) / (Number(process.hrtime.bigint() - t0) / 1e9));

const targets = Array.from({ length: 1000 }, () => random.bytes(20));
const ROUNDS = 200;
let sink = 0;
t0 = process.hrtime.bigint();
for (let r = 0; r < ROUNDS; r++) for (const t of targets) sink += table.closest(t, 8).length;
const closestPerSec = Math.round((ROUNDS * targets.length) / (Number(process.hrtime.bigint() - t0) / 1e9));

// Replacement caches full of nodes heard of (lookups list many more nodes than a table keeps).
for (let i = 0; i < 20_000; i++)
  table.heardAbout({ id: random.bytes(20), address: { host: hosts(200_000 + i), port: 6881 } });
// The maintenance tick in the steady state: most ticks find nothing due (every node was just handed out or is
// good), some hand out a few.
const TICKS = 20_000;
let pinged = 0;
t0 = process.hrtime.bigint();
for (let r = 0; r < TICKS; r++) {
  clock.advance(5_000);
  pinged += table.questionableToPing(clock.monotonicMs(), 4).length;
  pinged += table.bucketsToRefresh(clock.monotonicMs(), random).length;
}
const ticksPerSec = Math.round(TICKS / (Number(process.hrtime.bigint() - t0) / 1e9));

const summary = table.summary();
const result = {
  bench: 'routing-table',
  live: summary.live,
  buckets: summary.buckets,
  seenPerSec,
  reseenPerSec,
  closestPerSec,
  ticksPerSec,
  replacements: summary.replacements,
  sink: sink + pinged,
};
console.log(JSON.stringify(result));
console.table([
  {
    live: summary.live,
    buckets: summary.buckets,
    'nodeSeen new/s': seenPerSec,
    'nodeSeen known/s': reseenPerSec,
    'closest(8)/s': closestPerSec,
    'tick checks/s': ticksPerSec,
  },
]);
