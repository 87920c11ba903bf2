/**
 * Bootstrap server benchmark, side by side in one run: the C load generator (bench/load/krpc-blast.c,
 * sendmmsg/recvmmsg) on CPU 1 offers rate steps of `find_node` (16-node answers) and `ping` from 16 sockets on
 * 16 source IPs in 127/8 (one query per socket in turn), against, each pinned to CPU 0 and seeded with the same
 * 1 M BEP 42-valid IPv4 nodes:
 *   1. dhtchat's bootstrap worker (src/app/bootstrap-worker.ts) on the batched recvmmsg/sendmmsg addon;
 *   2. the same worker on node:dgram (the fallback; DHTCHAT_DGRAM_BATCHING=off), as a yardstick;
 *   3. the C++ reference, bittorrent/bootstrap-dht, when --reference names its binary (one thread).
 * Every repeat requester gets 16 nodes from all three (the generator has only 16 addresses, so every query
 * after the first is a repeat): ours by `repeatResponseSize: 16`, the reference by its build-time change.
 *
 * The reference is not in this repository and no script here builds it: build it yourself from its public
 * source, outside the repository, with two local changes for a loopback benchmark (docs/BENCHMARKS.md,
 * "Bootstrap server", gives the commands): serve 127/8 sources (it drops loopback), and 16 nodes for repeats.
 *
 *   node --import tsx bench/bootstrap.bench.ts [--reference PATH] [--queries find_node,ping]
 *        [--rates 20000,40000,...] [--step-seconds 5] [--nodes 1000000] [--no-dgram] [--quick]
 *   node --import tsx bench/bootstrap.bench.ts --core-only      per-packet logic alone, in CPU time
 *   node --import tsx bench/bootstrap.bench.ts --memory 10000000 RSS of a worker holding that many nodes
 *
 * Prints a table per server and query, a summary with the ratios, then one JSON object. Needs cc and taskset;
 * loopback only.
 */
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { encodeNodeFile, nodeFileName } from '../src/bootstrap/index.ts';
import { nodeIdForHost } from '../src/dht/index.ts';
import { cryptoRandom } from '../src/runtime/index.ts';
import { type LoadStep, peakStep, sustainedStep } from './load/load-step.ts';
import { buildKrpcBlast, runLoad } from './load/run-load.ts';

const WORK = join(tmpdir(), 'dhtchat-bootstrap-bench');

const { values } = parseArgs({
  options: {
    reference: { type: 'string' },
    queries: { type: 'string', default: 'find_node,ping' },
    rates: { type: 'string' },
    'step-seconds': { type: 'string' },
    nodes: { type: 'string' },
    'no-dgram': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    'core-only': { type: 'boolean', default: false },
    memory: { type: 'string' },
    serve: { type: 'boolean', default: false },
    port: { type: 'string', default: '0' },
    'data-dir': { type: 'string' },
  },
});
const IS_QUICK = values.quick;
const RATES = (
  values.rates ?? (IS_QUICK ? '40000,80000' : '20000,40000,50000,60000,80000,100000,120000,150000,200000')
)
  .split(',')
  .map(Number);
const STEP_SECONDS = Number(values['step-seconds'] ?? (IS_QUICK ? 3 : 5));
const NODE_COUNT = Number(values.nodes ?? (IS_QUICK ? 100_000 : 1_000_000));
/** CPU per answer is compared at this offered rate (the 50k/s), or the nearest step below it. */
const CPU_COMPARE_RATE = 50_000;

if (values.serve) await serve();
else if (values['core-only']) await measureCore();
else if (values.memory !== undefined) await measureMemory(Number(values.memory));
else await main();

/** Child mode: one bootstrap worker on 127.0.0.1 seeded from --data-dir; a "ready" JSON line on stdout. */
async function serve(): Promise<void> {
  const { startBootstrapWorker } = await import('../src/app/bootstrap-worker.ts');
  const { nullLogger } = await import('../src/runtime/index.ts');
  const worker = await startBootstrapWorker({
    workerIndex: 0,
    isClusterWorker: false,
    host: '127.0.0.1',
    port: Number(values.port),
    ipv6: [],
    ids: [nodeIdForHost('127.0.0.1', cryptoRandom)],
    masterSecret: cryptoRandom.bytes(32),
    nodes: NODE_COUNT + 1000,
    pingQueue: 5_000_000,
    responseSize: 16,
    repeatResponseSize: 16,
    pingDelayMs: 15 * 60_000,
    secretRotateMs: 10 * 60_000,
    dataDir: values['data-dir'],
    isPrivateAllowed: true,
    isIdVerified: true,
    version: undefined,
    crossPollinate: undefined,
    logger: nullLogger,
  });
  const snap = worker.snapshot();
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', port: worker.address.port, nodes4: snap.nodes4, backend: worker.backend })}\n`,
  );
  process.on('SIGTERM', () => {
    worker.stop();
    process.exit(0);
  });
}

interface ServerRun {
  server: string;
  query: string;
  steps: LoadStep[];
  sustainedPerS: number;
  peakPerS: number;
  /** Server CPU µs per answer: the median over the steps (robust to a step starved by other load). */
  cpuUsPerAnswer: number | null;
  /** The same at the step offered CPU_COMPARE_RATE. */
  cpuUsPerAnswerAt50k: number | null;
  maxRssMb: number | null;
}

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const blastPath = buildKrpcBlast();
  if (blastPath === undefined)
    throw new Error('this benchmark needs a C compiler (cc) for bench/load/krpc-blast.c');
  const ourDir = join(WORK, `ours-${NODE_COUNT}`);
  const seed = makeSeedNodes(NODE_COUNT);
  writeOurNodeFile(ourDir, seed);
  const servers: Array<{ name: string; start: () => Promise<Started> }> = [
    { name: 'dhtchat (batched)', start: () => startOurs(ourDir, {}) },
  ];
  if (values.reference !== undefined) {
    const referencePath = values.reference;
    servers.push({ name: 'reference (C++)', start: () => startReference(referencePath, seed) });
  }
  if (!values['no-dgram'])
    servers.push({
      name: 'dhtchat (node:dgram)',
      start: () => startOurs(ourDir, { DHTCHAT_DGRAM_BATCHING: 'off' }),
    });

  const started = new Date();
  const loadBefore = loadavg();
  const runs: ServerRun[] = [];
  for (const query of values.queries.split(',') as Array<'find_node' | 'ping'>) {
    for (const { name, start } of servers) {
      const server = await start();
      try {
        const steps = await runLoad({
          engine: 'c',
          blastPath,
          target: { host: '127.0.0.1', port: server.port },
          query,
          sockets: 16,
          sources: '127.0.0.2-127.0.0.17',
          rates: RATES,
          stepSeconds: STEP_SECONDS,
          batch: 1,
          serverPid: server.pid,
          cpu: 1,
        });
        const run = summarize(name, query, steps);
        runs.push(run);
        console.log(`\n## ${name} · ${query} · pid ${server.pid}`);
        console.table(steps.map(compactStep));
      } finally {
        await server.stop();
      }
    }
  }
  const loadAfter = loadavg();
  printSummary(runs);
  const result = {
    bench: 'bootstrap',
    date: started.toISOString(),
    machine: `${cpus().length} vCPU, ${cpus()[0]?.model ?? 'unknown'}`,
    node: process.version,
    loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))),
    loadAverageAfter: loadAfter.map((l) => Number(l.toFixed(2))),
    nodes: NODE_COUNT,
    rates: RATES,
    stepSeconds: STEP_SECONDS,
    runs,
    ratios: ratios(runs),
  };
  console.log(JSON.stringify(result));
}

function compactStep(s: LoadStep): Record<string, number | null> {
  return {
    offered: s.offeredPerS,
    sent: Math.round(s.sentPerS),
    answered: Math.round(s.answeredPerS),
    lossPct: Number(s.lossPct.toFixed(2)),
    p50Ms: s.p50Ms,
    p99Ms: s.p99Ms,
    cpuPct: s.serverCpuPct === null ? null : Number(s.serverCpuPct.toFixed(1)),
    cpuUsPerAnswer: cpuPerAnswer(s),
    rssMb: s.serverRssMb === null ? null : Math.round(s.serverRssMb),
  };
}

function cpuPerAnswer(s: LoadStep): number | null {
  if (s.serverCpuPct === null || s.answeredPerS < 1000) return null;
  return Number(((s.serverCpuPct / 100 / s.answeredPerS) * 1e6).toFixed(2));
}

function summarize(server: string, query: string, steps: LoadStep[]): ServerRun {
  const perStep = steps
    .map(cpuPerAnswer)
    .filter((c): c is number => c !== null)
    .sort((a, b) => a - b);
  const at50k = steps.find((s) => s.offeredPerS === CPU_COMPARE_RATE);
  return {
    server,
    query,
    steps,
    sustainedPerS: Math.round(sustainedStep(steps)?.answeredPerS ?? 0),
    peakPerS: Math.round(peakStep(steps)?.answeredPerS ?? 0),
    cpuUsPerAnswer: perStep.length === 0 ? null : perStep[Math.floor(perStep.length / 2)]!,
    cpuUsPerAnswerAt50k: at50k === undefined ? null : cpuPerAnswer(at50k),
    maxRssMb: steps.reduce<number | null>(
      (max, s) => (s.serverRssMb === null ? max : Math.max(max ?? 0, Math.round(s.serverRssMb))),
      null,
    ),
  };
}

/** ours / reference per query: throughput ratios (higher is better) and CPU ratio reference / ours. */
function ratios(runs: ServerRun[]): Record<string, Record<string, number | null>> {
  const out: Record<string, Record<string, number | null>> = {};
  for (const query of new Set(runs.map((r) => r.query))) {
    const ours = runs.find((r) => r.query === query && r.server === 'dhtchat (batched)');
    const reference = runs.find((r) => r.query === query && r.server === 'reference (C++)');
    if (ours === undefined || reference === undefined) continue;
    const ratio = (a: number | null, b: number | null): number | null =>
      a === null || b === null || b === 0 ? null : Number((a / b).toFixed(2));
    out[query] = {
      sustained: ratio(ours.sustainedPerS, reference.sustainedPerS),
      peak: ratio(ours.peakPerS, reference.peakPerS),
      cpuPerAnswer: ratio(reference.cpuUsPerAnswer, ours.cpuUsPerAnswer),
    };
  }
  return out;
}

function printSummary(runs: ServerRun[]): void {
  console.log(
    '\n| server | query | sustained/s (≤ 1 % loss) | peak answers/s | CPU µs per answer (at offered/s) | max RSS MB |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const r of runs) {
    console.log(
      `| ${r.server} | ${r.query} | ${r.sustainedPerS} | ${r.peakPerS} | ${r.cpuUsPerAnswer ?? '–'} · ${r.cpuUsPerAnswerAt50k ?? '–'} | ${r.maxRssMb ?? '–'} |`,
    );
  }
  for (const [query, r] of Object.entries(ratios(runs))) {
    console.log(
      `ours / reference, ${query}: sustained ${r['sustained']}×, peak ${r['peak']}×, CPU per answer ${r['cpuPerAnswer']}× (reference µs / ours µs)`,
    );
  }
}

interface Started {
  port: number;
  pid: number;
  stop: () => Promise<void>;
}

async function startOurs(dataDir: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(
    'taskset',
    [
      '-c',
      '0',
      process.execPath,
      '--import',
      'tsx',
      import.meta.filename,
      '--serve',
      '--data-dir',
      dataDir,
      '--nodes',
      String(NODE_COUNT),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ready = JSON.parse(String((await lines.next()).value)) as {
    port: number;
    nodes4: number;
    backend: string;
  };
  if (ready.nodes4 < NODE_COUNT * 0.99) throw new Error(`our server restored only ${ready.nodes4} nodes`);
  return { port: ready.port, pid: child.pid!, stop: () => stopChild(child) };
}

/** The reference, one thread, on a free port, its node buffer file written with the same nodes as ours. */
async function startReference(binary: string, seed: Buffer): Promise<Started> {
  const dir = join(WORK, `reference-${NODE_COUNT}`);
  mkdirSync(dir, { recursive: true });
  // bootstrap-dht's mapped_vector: a 16-byte header whose first 8 bytes are the entry count (little endian),
  // then node_entry_t { id[20], ip[4], port (network order) }: the same 26-byte compact entries as ours.
  const header = Buffer.alloc(16);
  header.writeBigUInt64LE(BigInt(seed.length / 26), 0);
  writeFileSync(join(dir, 'node-buffer-0-v4'), Buffer.concat([header, seed]));
  writeFileSync(join(dir, 'node-buffer-0-v6'), Buffer.alloc(16));
  const port = await freeUdpPort();
  const child = spawn(
    'taskset',
    [
      '-c',
      '0',
      binary,
      '127.0.0.1',
      '--threads',
      '1',
      '--nodes',
      String(NODE_COUNT + 1000),
      // Relative: the reference keeps file names in a 50-byte array (a long --dir is cut short, silently).
      '--dir',
      '.',
      '--port',
      String(port),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], cwd: dir },
  );
  const reply = await waitForAnswer(port);
  if (!reply.includes('5:nodes416:')) {
    child.kill('SIGKILL');
    throw new Error('the reference answered without 16 nodes: its node file was not loaded');
  }
  return { port, pid: child.pid!, stop: () => stopChild(child) };
}

function stopChild(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Sends find_node to port from 127.0.0.200 every 100 ms until a reply comes back (at most 30 s); its text. */
async function waitForAnswer(port: number): Promise<string> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.200', resolve));
  const query = Buffer.from(
    'd1:ad2:id20:aaaaaaaaaaaaaaaaaaaa6:target20:bbbbbbbbbbbbbbbbbbbbe1:q9:find_node1:t2:aa1:y1:qe',
    'latin1',
  );
  try {
    return await new Promise<string>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no answer on port ${port} within 30 s`)), 30_000);
      const timer = setInterval(() => socket.send(query, port, '127.0.0.1'), 100);
      socket.on('message', (reply) => {
        clearTimeout(deadline);
        clearInterval(timer);
        resolve(reply.toString('latin1'));
      });
    });
  } finally {
    socket.close();
  }
}

/** count BEP 42-valid nodes on distinct random public IPv4 addresses, as 26-byte compact entries (cached). */
function makeSeedNodes(count: number): Buffer {
  const path = join(WORK, `seed-${count}.bin`);
  if (existsSync(path)) return readFileSync(path);
  const entries = Buffer.alloc(count * 26);
  const seen = new Set<number>();
  let n = 0;
  while (n < count) {
    const ip = cryptoRandom.bytes(4);
    const value = ip.readUInt32BE(0);
    const first = ip[0]!;
    if (first < 1 || first >= 224 || [10, 100, 127, 169, 172, 192].includes(first) || seen.has(value))
      continue;
    seen.add(value);
    nodeIdForHost(`${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`, cryptoRandom).copy(entries, n * 26);
    ip.copy(entries, n * 26 + 20);
    entries.writeUInt16BE(1024 + (n % 60000), n * 26 + 24);
    n++;
  }
  mkdirSync(WORK, { recursive: true });
  writeFileSync(path, entries);
  return entries;
}

function writeOurNodeFile(dir: string, entries: Buffer): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, nodeFileName(0, 4)), encodeNodeFile(4, entries));
}

/**
 * The per-packet logic alone, without sockets, in CPU time (robust on a shared machine): handleCompact with 16
 * nodes from a 1 M buffer, find_node and ping.
 */
async function measureCore(): Promise<void> {
  const { BootstrapServer } = await import('../src/bootstrap/index.ts');
  let sink = 0;
  const server = new BootstrapServer({
    sockets: [
      {
        family: 4,
        ownId: nodeIdForHost('127.0.0.1', cryptoRandom),
        send: (_b, length) => {
          sink += length;
          return true;
        },
      },
    ],
    masterSecret: cryptoRandom.bytes(32),
    randomBytes: (n) => cryptoRandom.bytes(n),
    nodesCapacity: 1_000_000,
    isPrivateAllowed: true,
    isIdVerified: false,
    repeatResponseSize: 16,
  });
  const entries = Buffer.alloc(1_000_000 * 26);
  for (let i = 0; i < 1_000_000; i++) {
    entries.writeUInt32BE((0x01000000 + i * 7919) >>> 0, i * 26 + 20);
    entries.writeUInt16BE(6881, i * 26 + 24);
  }
  server.importNodes(4, entries, 0);
  const findNode = Buffer.from(
    'd1:ad2:id20:XXXXXXXXXXXXXXXXXXXX6:target20:YYYYYYYYYYYYYYYYYYYYe1:q9:find_node1:t4:TTTT1:y1:qe',
    'latin1',
  );
  const ping = Buffer.from('d1:ad2:id20:XXXXXXXXXXXXXXXXXXXXe1:q4:ping1:t4:TTTT1:y1:qe', 'latin1');
  const sources = Buffer.alloc(16 * 18);
  for (let i = 0; i < 16; i++) sources.set([127, 0, 0, i + 2, 0x9c, 0x40 + i], i * 18);
  const n = 1_000_000;
  const time = (query: Buffer): number => {
    const run = (i: number): void =>
      server.handleCompact(query, query.length, sources, (i & 15) * 18, 6, 1000 + i, 0);
    for (let i = 0; i < 100_000; i++) run(i); // warm up
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) run(i);
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) * 1000) / n;
  };
  const findNodeNs = time(findNode);
  const pingNs = time(ping);
  console.log(
    `core only (CPU time): ${findNodeNs.toFixed(0)} ns per find_node (16 nodes), ${pingNs.toFixed(0)} ns per ping (sink ${sink > 0})`,
  );
  console.log(JSON.stringify({ bench: 'bootstrap-core', findNodeNs, pingNs }));
}

/**
 * RSS of a bootstrap worker process (the real one, on the batched socket) before and after restoring count
 * IPv4 nodes from its data dir, in a fresh process: what a server holding that many nodes costs.
 */
async function measureMemory(count: number): Promise<void> {
  const dir = join(WORK, `memory-${count}`);
  const marker = join(dir, `count-${count}-v2`);
  if (!existsSync(marker)) {
    // Distinct addresses 1.0.0.0 + 97·i (below 127/8 for up to 20 M), ids not checked (--no-verify-id).
    const entries = Buffer.alloc(count * 26);
    for (let i = 0; i < count; i++) {
      const ip = 0x01000000 + 97 * i;
      entries.writeUInt32BE(ip, i * 26 + 20);
      entries.writeUInt16BE(6881, i * 26 + 24);
    }
    writeOurNodeFile(dir, entries);
    writeFileSync(marker, '');
  }
  const script = `
    import { startBootstrapWorker } from './src/app/bootstrap-worker.ts';
    import { nullLogger } from './src/runtime/index.ts';
    import { readFileSync } from 'node:fs';
    const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
    const before = rss();
    const worker = await startBootstrapWorker({ workerIndex: 0, isClusterWorker: false, host: '127.0.0.1', port: 0,
      ipv6: [], ids: [Buffer.alloc(20)], masterSecret: Buffer.alloc(32, 1), nodes: ${count}, pingQueue: 5000000,
      responseSize: 16, pingDelayMs: 900000, secretRotateMs: 600000, dataDir: ${JSON.stringify(dir)},
      isPrivateAllowed: true, isIdVerified: false, version: undefined, crossPollinate: undefined, logger: nullLogger });
    global.gc?.();
    const after = rss();
    const nodes = worker.snapshot().nodes4;
    worker.stop();
    console.log(JSON.stringify({ nodes, rssBeforeMb: before, rssAfterMb: after }));
    process.exit(0);`;
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: join(import.meta.dirname, '..'), maxBuffer: 1 << 20 },
  ).toString();
  const m = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
  console.log(
    `memory: ${m['nodes']} nodes restored, RSS ${m['rssBeforeMb']!.toFixed(0)} MB -> ${m['rssAfterMb']!.toFixed(0)} MB`,
  );
  console.log(JSON.stringify({ bench: 'bootstrap-memory', ...m }));
}
