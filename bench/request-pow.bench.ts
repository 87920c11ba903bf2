/**
 * Friend-request stamps (src/chat/request-stamp.ts): what a requester pays and what a recipient pays.
 *   - hash rate: one-shot SHA-256 over a stamp input (the solver's inner loop), hashes/s;
 *   - solve: `--runs` stamps (default 30) at the product's difficulty (16 parts × REQUEST_STAMP_BITS), each for
 *     a fresh requester key: wall ms p50/p90/max, CPU ms (all threads: GC included), and the event-loop delay
 *     during the solves (the solver yields every SOLVE_SLICE_ATTEMPTS hashes through setImmediate; on a shared
 *     VM the max is the OS's doing, the p50/p99 are the slices');
 *   - verify: checkStamp on a valid stamp (all 16 parts hashed) and on one whose first part fails (1 hash), µs.
 * Run: node --import tsx bench/request-pow.bench.ts [--runs 30]   (prints a JSON object, then a table)
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  checkStamp,
  REQUEST_STAMP_BITS,
  SOLVE_SLICE_ATTEMPTS,
  STAMP_PARTS,
  solveStamp,
} from '../src/chat/request-stamp.ts';
import { intOption } from './chat-bench-stats.ts';

const RUNS = intOption('runs', 30);
const loadAtStart = loadavg()[0] ?? 0;
const recipientPk = randomBytes(32);
const nowMs = Date.now();
const hour = Math.floor(nowMs / 3_600_000);
const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));

function pct(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

// Hash rate: the solver's own loop at an unreachable difficulty, cancelled after ~1 s of slices.
const rateStart = performance.now();
let slices = 0;
await solveStamp({ recipientPk, requesterPk: randomBytes(32) }, hour, {
  bits: 32,
  startNonce: randomBytes(8),
  yieldNow: async () => {},
  isCancelled: () => ++slices * SOLVE_SLICE_ATTEMPTS >= 600_000,
});
const hashesPerSec = (slices * SOLVE_SLICE_ATTEMPTS) / ((performance.now() - rateStart) / 1000);

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const wallMs: number[] = [];
const cpuMs: number[] = [];
let hashesDone = 0;
let valid: Awaited<ReturnType<typeof solveStamp>>;
let validParties = { recipientPk, requesterPk: randomBytes(32) };
for (let i = 0; i < RUNS; i++) {
  const parties = { recipientPk, requesterPk: randomBytes(32) };
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const startNonce = randomBytes(8);
  startNonce[0] = 0; // room to count up without wrapping, so the hashes done are the nonces' distance from it
  valid = await solveStamp(parties, hour, { startNonce, yieldNow });
  wallMs.push(performance.now() - t0);
  if (valid !== undefined) {
    const start = startNonce.readBigUInt64BE(0);
    for (let part = 0; part < STAMP_PARTS; part++) {
      hashesDone += Number(valid.nonces.readBigUInt64BE(part * 8) - start) + 1;
    }
  }
  const used = process.cpuUsage(cpu);
  cpuMs.push((used.user + used.system) / 1000);
  validParties = parties;
}
delay.disable();
if (valid === undefined) throw new Error('unreachable');

const VERIFY_RUNS = 20_000;
let t0 = performance.now();
for (let i = 0; i < VERIFY_RUNS; i++) {
  if (checkStamp(validParties, valid, nowMs) !== 'valid') throw new Error('a solved stamp must verify');
}
const verifyValidUs = ((performance.now() - t0) * 1000) / VERIFY_RUNS;
const bogus = { hour, nonces: randomBytes(valid.nonces.length) };
t0 = performance.now();
for (let i = 0; i < VERIFY_RUNS; i++) checkStamp(validParties, bogus, nowMs);
const verifyBogusUs = ((performance.now() - t0) * 1000) / VERIFY_RUNS;

const result = {
  parts: STAMP_PARTS,
  bitsPerPart: REQUEST_STAMP_BITS,
  expectedHashes: STAMP_PARTS * 2 ** REQUEST_STAMP_BITS,
  hashesPerSec: Math.round(hashesPerSec),
  solveWallMs: { p50: pct(wallMs, 50), p90: pct(wallMs, 90), max: Math.max(...wallMs), runs: RUNS },
  solveCpuMs: { p50: pct(cpuMs, 50), mean: cpuMs.reduce((a, b) => a + b, 0) / RUNS },
  hashesPerSolve: Math.round(hashesDone / RUNS),
  hashesPerSecWhileSolving: Math.round(hashesDone / (wallMs.reduce((a, b) => a + b, 0) / 1000)),
  eventLoopDelayMs: {
    p50: delay.percentile(50) / 1e6,
    p99: delay.percentile(99) / 1e6,
    max: delay.max / 1e6,
  },
  verifyValidUs,
  verifyBogusUs,
  loadAverage: [loadAtStart, loadavg()[0] ?? 0].map((x) => Math.round(x * 100) / 100),
};
console.log(JSON.stringify(result));
console.table({
  'solve (wall ms)': {
    p50: result.solveWallMs.p50.toFixed(0),
    p90: result.solveWallMs.p90.toFixed(0),
    max: result.solveWallMs.max.toFixed(0),
  },
  'solve (CPU ms)': { p50: result.solveCpuMs.p50.toFixed(0), p90: '', max: '' },
  'verify valid (µs)': { p50: verifyValidUs.toFixed(1), p90: '', max: '' },
  'verify bogus (µs)': { p50: verifyBogusUs.toFixed(1), p90: '', max: '' },
});
console.log(
  `${Math.round(hashesPerSec)} SHA-256/s; event-loop delay while solving p50 ${result.eventLoopDelayMs.p50.toFixed(1)} / p99 ${result.eventLoopDelayMs.p99.toFixed(1)} / max ${result.eventLoopDelayMs.max.toFixed(0)} ms; ` +
    `cost ratio requester/recipient ≈ ${Math.round((result.solveCpuMs.p50 * 1000) / verifyValidUs)}×`,
);
