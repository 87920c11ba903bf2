/**
 * Lookup parallelism sweep on the model network of sim/lookup-model-network.ts (virtual time, no codec):
 * for each α, 40 find_node lookups per network, reporting virtual latency (p50/p90) and messages per lookup.
 * Two networks: healthy (latency 10-100 ms) and hostile (20% dead, 10% slow 2 s, 5% KRPC errors, 5% garbage).
 * Run: node --import tsx bench/lookup-alpha.ts
 */
import { findNodeLookup } from '../src/dht/lookups/find-node.ts';
import { drive, type ModelOptions, ModelNetwork } from '../sim/lookup-model-network.ts';

const LOOKUPS = 40;
const networks: Record<string, Omit<ModelOptions, 'seed'>> = {
  healthy: { size: 1000 },
  hostile: { size: 1000, mix: { dead: 0.2, slow: 0.1, error: 0.05, garbage: 0.05 } },
};

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

const rows: Array<Record<string, string | number>> = [];
for (const [name, opts] of Object.entries(networks)) {
  const cells: Array<readonly [number, boolean]> = [
    ...[2, 3, 4, 5, 8].map((a) => [a, false] as const),
    ...[3, 4, 8].map((a) => [a, true] as const),
  ];
  for (const [alpha, canSkipSlow] of cells) {
    const net = new ModelNetwork({ ...opts, seed: `bench-${name}` });
    let exact = 0;
    for (let i = 0; i < LOOKUPS; i++) {
      const target = net.random.bytes(20);
      const found = await drive(
        net.clock,
        findNodeLookup(net.context({ alpha, canSkipSlow }), target).catch(() => []),
      );
      const truth = new Set(net.trueClosest(target, 8).map((n) => n.id.toString('hex')));
      exact += found.filter((n) => truth.has(n.id.toString('hex'))).length;
    }
    const latency = net.lookups.map((s) => s.durationMs);
    const queries = net.lookups.map((s) => s.queries);
    rows.push({
      network: name,
      alpha,
      canSkipSlow: String(canSkipSlow),
      p50Ms: pct(latency, 50),
      p90Ms: pct(latency, 90),
      meanQueries: Math.round((queries.reduce((a, b) => a + b, 0) / queries.length) * 10) / 10,
      maxQueries: Math.max(...queries),
      /** Share of the brute-force 8 closest answering nodes each lookup returned. */
      recall: Math.round((exact / (8 * LOOKUPS)) * 100) / 100,
    });
  }
}
console.log(JSON.stringify({ bench: 'lookup-alpha', lookupsPerCell: LOOKUPS, rows }));
console.table(rows);
