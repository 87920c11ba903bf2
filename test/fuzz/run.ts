/**
 * `npm run fuzz`: every decoder's fuzz target (test/fuzz/targets/) for 10 million inputs in all by default, split
 * by the targets' weights, from a seed; then a table and one JSON line. Exit code 1 on any crash (a property
 * violated or a throw out of a decoder, printed with the seed, index and input) or when memory was not bounded.
 *
 *   npm run fuzz -- [--target bencode,krpc] [--inputs 10000000] [--seed 1] [--max-minutes 10]
 *
 * A crash replays with the same --seed and --target (inputs are a pure function of the seed).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type FuzzReport, fuzzTarget } from './engine.ts';
import { FUZZ_TARGETS } from './targets/index.ts';

/** Heap growth allowed over a target's run, after a forced GC: the decoders keep nothing between inputs. */
const MAX_HEAP_GROWTH_MB = 64;
/** Resident memory the whole run may reach (the api-json target alone parses bodies up to 140 KB). */
const MAX_RSS_MB = 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}

const totalInputs = Number(option('inputs') ?? 10_000_000);
const seed = Number(option('seed') ?? 1);
const maxMinutes = Number(option('max-minutes') ?? 10);
const names = option('target')?.split(',');
const targets = names === undefined ? FUZZ_TARGETS : FUZZ_TARGETS.filter((t) => names.includes(t.name));
if (targets.length === 0 || !Number.isFinite(totalInputs) || !Number.isFinite(seed)) {
  console.error(
    `usage: run.ts [--target ${FUZZ_TARGETS.map((t) => t.name).join(',')}] [--inputs N] [--seed N]`,
  );
  process.exit(2);
}
const totalWeight = targets.reduce((n, t) => n + t.weight, 0);
const runStartMs = performance.now();
const reports: Array<FuzzReport & { heapGrowthMb: number }> = [];
let isMemoryBounded = true;
for (const target of targets) {
  const inputs = Math.max(1, Math.round((totalInputs * target.weight) / totalWeight));
  // Each target may use an equal share of the time left, so one slow decoder cannot starve the rest (a fast
  // one that finishes early leaves its time to those after it).
  const targetsLeft = targets.length - reports.length;
  const maxMs = (maxMinutes * 60_000 - (performance.now() - runStartMs)) / targetsLeft;
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const report = fuzzTarget(target, { inputs, seed, maxMs });
  gc();
  const heapGrowthMb = Math.round((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20);
  if (heapGrowthMb > MAX_HEAP_GROWTH_MB || report.maxRssMb > MAX_RSS_MB) isMemoryBounded = false;
  reports.push({ ...report, heapGrowthMb });
  console.error(
    `${target.name.padEnd(18)} ${String(report.inputs).padStart(10)} inputs ${String(report.inputsPerSec).padStart(8)}/s ` +
      `${String(report.crashes).padStart(4)} crashes  ${report.outcomes} outcomes  rss ${report.maxRssMb} MB  heap +${heapGrowthMb} MB`,
  );
  for (const crash of report.firstCrashes) {
    console.error(
      `  CRASH ${crash.target} seed ${crash.seed} #${crash.index} input ${crash.inputHex.slice(0, 400)}\n  ${crash.error}`,
    );
  }
}
const wallMs = Math.round(performance.now() - runStartMs);
const inputs = reports.reduce((n, r) => n + r.inputs, 0);
const crashes = reports.reduce((n, r) => n + r.crashes, 0);
console.log(`\n| target | decoders | inputs | inputs/s | crashes | outcomes | max RSS MB | heap growth MB |`);
console.log(`| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |`);
for (const r of reports) {
  console.log(
    `| ${r.target} | ${r.decoders} | ${r.inputs.toLocaleString('en-US')} | ${r.inputsPerSec.toLocaleString('en-US')} | ${r.crashes} | ${r.outcomes} | ${r.maxRssMb} | ${r.heapGrowthMb} |`,
  );
}
console.log(
  `| **total** | | **${inputs.toLocaleString('en-US')}** | ${Math.round(inputs / (wallMs / 1000)).toLocaleString('en-US')} | ${crashes} | | | |`,
);
console.log(`\nwall ${(wallMs / 1000).toFixed(1)} s, seed ${seed}, node ${process.version}`);
console.log(
  JSON.stringify({
    seed,
    inputs,
    crashes,
    wallMs,
    isMemoryBounded,
    targets: reports.map(({ firstCrashes: _, ...r }) => r),
  }),
);
process.exit(crashes === 0 && isMemoryBounded ? 0 : 1);
