/**
 * Benchmark (2): queries one dhtchat node answers per second over loopback, driven from a separate load process
 * (the Node generator bench/load/krpc-load.ts). The node runs as users run it:
 *   node bin/dhtchat.js dht node --port 0 --host 127.0.0.1 --allow-private --rate-limit 0
 * pinned to core 0 and the generator to core 1 (taskset, when present). Open-loop rate steps per query kind,
 * reporting answered/s, loss and p50/p99 latency; then the same load against the reference responder
 * (bench/load/krpc-responder.ts); then one run with the default per-source rate limit to show the abuse limit at
 * work.
 *
 *   node --import tsx bench/dht-node-load.bench.ts [--rates 5000,10000,20000,40000] [--step-seconds 3]
 *        [--queries ping,find_node,get_peers] [--json out.json] [--no-pin]   (--no-pin: no taskset, for busy machines)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DhtNode } from '../src/dht/index.ts';
import {
  cryptoRandom,
  type DatagramTransport,
  type PacketHandler,
  systemClock,
} from '../src/runtime/index.ts';
import { encodeBencode } from '../src/wire/index.ts';
import { CLI_PATH, REPO_ROOT } from '../test/helpers/cli-runner.ts';
import { type LoadStep, peakStep, sustainedStep } from './load/load-step.ts';
import { type LoadOptions, runLoad } from './load/run-load.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

const rates = arg('--rates', '5000,10000,20000,40000,60000').split(',').map(Number);
const stepSeconds = Number(arg('--step-seconds', '3'));
const queries = arg('--queries', 'ping,find_node,get_peers').split(',');
const jsonOut = arg('--json', '');
const hasTaskset = !process.argv.includes('--no-pin') && spawnSync('taskset', ['-V']).status === 0;
const pin = (core: number, cmd: string[]): string[] =>
  hasTaskset ? ['taskset', '-c', String(core), ...cmd] : cmd;

interface NodeUnderTest {
  child: ChildProcess;
  port: number;
}

async function startNode(extra: string[]): Promise<NodeUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dhtchat-load-'));
  const args = [
    process.execPath,
    CLI_PATH,
    'dht',
    'node',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--allow-private',
  ];
  // A dead bootstrap address: the node stays alone (and off DNS), which is what a load target should be.
  const full = pin(0, [...args, '--bootstrap', '127.0.0.1:9', '--data-dir', dataDir, ...extra]);
  const child = spawn(full[0] as string, full.slice(1), {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let port = 0;
  for await (const line of createInterface({ input: child.stdout! })) {
    const event = JSON.parse(line) as Record<string, unknown>;
    if (event['event'] === 'listening') port = event['port'] as number;
    if (event['event'] === 'bootstrapped' || event['event'] === 'bootstrap_failed') break;
  }
  child.stdout!.resume();
  return { child, port };
}

/** One load run from the Node generator (on core 1 when pinning) against a server; steps, sustained and peak. */
async function load(
  server: NodeUnderTest,
  options: Pick<LoadOptions, 'query' | 'sources' | 'rates' | 'stopLossPct'>,
): Promise<{ steps: LoadStep[]; sustained: LoadStep | undefined; peak: LoadStep | undefined }> {
  const steps = await runLoad({
    engine: 'node',
    target: { host: '127.0.0.1', port: server.port },
    sockets: 16,
    stepSeconds,
    serverPid: server.child.pid,
    cpu: hasTaskset ? 1 : undefined,
    ...options,
  });
  return { steps, sustained: sustainedStep(steps), peak: peakStep(steps) };
}

async function stopNode(node: NodeUnderTest): Promise<void> {
  node.child.kill('SIGTERM');
  await new Promise((r) => node.child.once('exit', r));
}

const results: Record<string, unknown> = {};
const rows: string[] = [];
const row = (label: string, s: LoadStep): string =>
  [
    label.padEnd(30),
    String(s.offeredPerS).padStart(7),
    String(s.answeredPerS).padStart(8),
    `${s.lossPct.toFixed(2)}%`.padStart(8),
    (s.p50Ms?.toFixed(2) ?? '-').padStart(9),
    (s.p99Ms?.toFixed(2) ?? '-').padStart(9),
    `${s.serverCpuPct ?? '-'}`.padStart(7),
    `${s.serverRssMb ?? '-'}`.padStart(7),
  ].join(' ');

// First, the node's own cost per query without sockets: packets handed straight to a DhtNode's handler.
const inProcess = measureInProcess();
results['in_process_queries_per_sec'] = inProcess;

for (const query of queries) {
  const node = await startNode(['--rate-limit', '0']);
  try {
    const run = await load(node, {
      query: query as LoadOptions['query'],
      sources: '127.0.0.2-127.0.0.17',
      rates,
      stopLossPct: 20,
    });
    results[query] = run;
    for (const s of run.steps) rows.push(row(`${query} (no rate limit)`, s));
  } finally {
    await stopNode(node);
  }
}

// The reference: a minimal Node KRPC responder under the same load, so the ratio survives a noisy machine.
{
  const responder = join(import.meta.dirname, 'load', 'krpc-responder.ts');
  const cmd = pin(0, [process.execPath, '--import', 'tsx', responder, '--max-seconds', '300']);
  const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const [listening] = await once(createInterface({ input: child.stdout! }), 'line');
  const { port } = JSON.parse(String(listening)) as { port: number };
  try {
    const run = await load({ child, port }, { query: 'find_node', sources: '127.0.0.2-127.0.0.17', rates });
    results['reference_responder_find_node'] = run;
    for (const s of run.steps) rows.push(row('reference responder find_node', s));
  } finally {
    child.kill();
  }
}

// The default per-source limit: 16 sources offering 2,000 queries/s in total get about 16 × 10/s answered.
{
  const node = await startNode([]);
  try {
    const run = await load(node, { query: 'ping', rates: [2000] });
    results['ping_default_rate_limit'] = run;
    for (const s of run.steps) rows.push(row('ping (default limit, 16 src)', s));
  } finally {
    await stopNode(node);
  }
}

const summary = {
  machine: `${process.arch} ${process.platform}, node ${process.version}, taskset ${hasTaskset}`,
  date: new Date().toISOString(),
  results,
};
if (jsonOut !== '') writeFileSync(jsonOut, JSON.stringify(summary, null, 1));
console.log(
  JSON.stringify({
    ...summary,
    results: Object.fromEntries(
      Object.entries(results).map(([k, v]) => [k, (v as { steps: LoadStep[] }).steps]),
    ),
  }),
);
console.log(
  ['run'.padEnd(30), 'offered', 'answer/s', 'loss', 'p50 ms', 'p99 ms', 'srvCPU', 'RSS MB'].join(' '),
);
for (const r of rows) console.log(r);
console.log(
  `in-process, no socket (queries/s on one core): ${Object.entries(inProcess)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);

function measureInProcess(): Record<string, number> {
  let handler: PacketHandler = () => {};
  const transport: DatagramTransport = {
    send: () => {},
    onPacket: (h) => {
      handler = h;
    },
    localAddress: () => ({ host: '127.0.0.1', port: 7000 }),
    close: () => {},
  };
  const unlimited = Number.MAX_SAFE_INTEGER;
  const node = new DhtNode({
    transport,
    clock: systemClock,
    random: cryptoRandom,
    allowPrivate: true,
    rateLimit: { ratePerSec: unlimited, burst: unlimited },
  });
  const out: Record<string, number> = {};
  for (const method of queries) {
    const packets = Array.from({ length: 256 }, (_, i) =>
      encodeBencode({
        t: Buffer.from([i, 1]),
        y: Buffer.from('q'),
        q: Buffer.from(method),
        a: { id: cryptoRandom.bytes(20), target: cryptoRandom.bytes(20), info_hash: cryptoRandom.bytes(20) },
      }),
    );
    const count = 100_000;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      handler(packets[i & 255] as Buffer, { host: `127.0.0.${2 + (i & 15)}`, port: 10_000 + (i & 255) });
    }
    out[method] = Math.round((count / (performance.now() - started)) * 1000);
  }
  node.close();
  return out;
}
