/**
 * Bootstrap server benchmark: sustained find_node replies per second with ≤ 1 % loss, from a separate C load
 * process (bench/load/krpc-blast.c, sendmmsg/recvmmsg) on 16 source IPs in 127/8, one query per socket in turn,
 * against
 *   1. the real bootstrap worker (src/app/bootstrap-worker.ts) with 1 M BEP 42-valid nodes in its buffer,
 *      16-node replies (repeat requesters also get 16: the generator has only 16 source addresses),
 *   2. the same with the default rules (repeat requesters get 3 nodes),
 *   3. the minimal Node KRPC responder bench/load/krpc-responder.ts as the ceiling,
 * each pinned to CPU 0 (generator on CPU 1). Also: memory with 10 M nodes in the buffer, measured in a child.
 *
 *   node --import tsx bench/bootstrap.bench.ts [--quick | --core-only]
 *
 * Prints a table and a JSON object. Needs cc and taskset; loopback only.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodeNodeFile, nodeFileName } from '../src/bootstrap/index.ts';
import { nodeIdForHost } from '../src/dht/index.ts';
import { cryptoRandom } from '../src/runtime/index.ts';
import { KrpcReplier } from './load/krpc-reply.ts';
import { sustainedStep } from './load/load-step.ts';
import { buildKrpcBlast, runLoad } from './load/run-load.ts';

const WORK = join(tmpdir(), 'dhtchat-bootstrap-bench');
const IS_QUICK = process.argv.includes('--quick');
const RATES = IS_QUICK
  ? [50_000, 100_000]
  : [20_000, 40_000, 60_000, 80_000, 100_000, 120_000, 150_000, 200_000];
const STEP_SECONDS = IS_QUICK ? 3 : 5;

if (process.argv[2] === '--serve') await serve(process.argv.slice(3));
else if (process.argv[2] === '--core-only') await measureCore();
else await main();

/** Child mode: one bootstrap worker on 127.0.0.1:port with the given data dir; a "ready" JSON line on stdout. */
async function serve(args: string[]): Promise<void> {
  const [port, dataDir, repeat, nodes] = args.map(String);
  const { startBootstrapWorker } = await import('../src/app/bootstrap-worker.ts');
  const { nullLogger } = await import('../src/runtime/index.ts');
  const worker = await startBootstrapWorker({
    workerIndex: 0,
    isClusterWorker: false,
    host: '127.0.0.1',
    port: Number(port),
    ipv6: [],
    ids: [nodeIdForHost('127.0.0.1', cryptoRandom)],
    masterSecret: cryptoRandom.bytes(32),
    nodes: Number(nodes),
    pingQueue: 5_000_000,
    responseSize: 16,
    repeatResponseSize: Number(repeat),
    pingDelayMs: 15 * 60_000,
    secretRotateMs: 10 * 60_000,
    dataDir,
    isPrivateAllowed: true,
    isIdVerified: true,
    version: undefined,
    crossPollinate: undefined,
    logger: nullLogger,
  });
  const snap = worker.snapshot();
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', port: worker.address.port, nodes4: snap.nodes4 })}\n`,
  );
  // CPU per reply from the server's own accounting: meaningful even when the machine is shared.
  const cpuStart = process.cpuUsage();
  process.on('SIGTERM', () => {
    const s = worker.snapshot();
    const cpu = process.cpuUsage(cpuStart);
    const cpuUsPerReply = (cpu.user + cpu.system) / Math.max(1, s.responses);
    const summary = { responses: s.responses, shed: s.sendsShed, backToBack: s.backToBack, cpuUsPerReply };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    process.exit(0);
  });
}

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const blastPath = buildKrpcBlast();
  if (blastPath === undefined)
    throw new Error('this benchmark needs a C compiler (cc) for bench/load/krpc-blast.c');
  const nodeCount = IS_QUICK ? 100_000 : 1_000_000;
  const dataDir = join(WORK, `nodes-${nodeCount}`);
  makeNodeFile(dataDir, nodeCount);

  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: '2 vCPU VM',
    nodeCount,
  };
  const serve = (repeat: string): string[] => [
    '--import',
    'tsx',
    import.meta.filename,
    '--serve',
    '0',
    dataDir,
    repeat,
    String(nodeCount + 1000),
  ];
  const runs: Array<[string, string[]]> = [
    ['bootstrap (16 nodes, repeats too)', serve('16')],
    ['bootstrap (default: 3 for repeats)', serve('3')],
    [
      'krpc-responder (ceiling)',
      ['--import', 'tsx', join(import.meta.dirname, 'load', 'krpc-responder.ts'), '--max-seconds', '300'],
    ],
  ];
  for (const [name, args] of runs) {
    const child = spawn('taskset', ['-c', '0', process.execPath, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const ready = JSON.parse(String((await lines.next()).value)) as { port: number };
    const steps = await runLoad({
      engine: 'c',
      blastPath,
      target: { host: '127.0.0.1', port: ready.port },
      query: 'find_node',
      sockets: 16,
      sources: '127.0.0.2-127.0.0.17',
      rates: RATES,
      stepSeconds: STEP_SECONDS,
      batch: 1,
      serverPid: child.pid!,
      cpu: 1,
    });
    child.kill('SIGTERM');
    // Both servers print their own CPU per reply on exit (ours excludes loading the node file).
    const exit = JSON.parse(String((await lines.next()).value)) as { cpuUsPerReply: number };
    const best = sustainedStep(steps);
    results[name] = { ready, steps, sustained: best, exit, cpuUsPerReply: exit.cpuUsPerReply };
    console.log(
      `\n## ${name}  (port ${ready.port})  server CPU ${exit.cpuUsPerReply.toFixed(2)} µs per reply`,
    );
    console.table(steps);
    if (best !== undefined && best.serverCpuPct !== null) {
      console.log(
        `sustained ${best.answeredPerS.toFixed(0)}/s at ≤1% loss, ${((best.serverCpuPct / 100 / best.answeredPerS) * 1e6).toFixed(2)} µs CPU per reply`,
      );
    }
  }
  results['coreOnly'] = await measureCore();
  results['memory10M'] = measureMemory(IS_QUICK ? 1_000_000 : 10_000_000);
  console.log('\n', JSON.stringify(results, null, 1));
}

/** A saved v4 buffer of count BEP 42-valid nodes on random public IPv4 addresses (cached between runs). */
function makeNodeFile(dir: string, count: number): void {
  const path = join(dir, nodeFileName(0, 4));
  const marker = join(dir, `count-${count}`);
  if (existsSync(marker)) return;
  mkdirSync(dir, { recursive: true });
  const entries = Buffer.alloc(count * 26);
  const seen = new Set<number>();
  let n = 0;
  while (n < count) {
    const ip = cryptoRandom.bytes(4);
    const value = ip.readUInt32BE(0);
    if (
      ip[0]! < 1 ||
      ip[0]! >= 224 ||
      ip[0] === 10 ||
      ip[0] === 127 ||
      ip[0] === 172 ||
      ip[0] === 192 ||
      ip[0] === 169 ||
      ip[0] === 100 ||
      seen.has(value)
    )
      continue;
    seen.add(value);
    const host = `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`;
    nodeIdForHost(host, cryptoRandom).copy(entries, n * 26);
    ip.copy(entries, n * 26 + 20);
    entries.writeUInt16BE(1024 + (n % 60000), n * 26 + 24);
    n++;
  }
  writeFileSync(path, encodeNodeFile(4, entries));
  writeFileSync(marker, '');
}

/**
 * The per-packet logic alone, without sockets, in CPU time (robust on a shared machine): our handleDatagram with
 * 16 nodes from a 1 M buffer, against the reference responder's logic (KrpcReplier: strict decode + Buffer.concat).
 */
async function measureCore(): Promise<Record<string, number>> {
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
  const query = Buffer.from(
    'd1:ad2:id20:XXXXXXXXXXXXXXXXXXXX6:target20:YYYYYYYYYYYYYYYYYYYYe1:q9:find_node1:t4:TTTT1:y1:qe',
    'latin1',
  );
  const hosts = Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 2}`);
  const n = 1_000_000;
  const time = (fn: (i: number) => void): number => {
    for (let i = 0; i < 100_000; i++) fn(i); // warm up
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn(i);
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) * 1000) / n;
  };
  const oursNs = time((i) => server.handleDatagram(query, hosts[i & 15]!, 40000 + (i & 15), 1000 + i, 0));
  const replier = new KrpcReplier();
  const responderNs = time((i) => {
    sink += replier.reply(query, hosts[i & 15]!, 40000 + (i & 15))?.length ?? 0;
  });
  console.log(
    `\ncore only (CPU time): ours ${oursNs.toFixed(0)} ns per find_node, responder logic ${responderNs.toFixed(0)} ns (sink ${sink > 0})`,
  );
  return { oursNsPerFindNode: oursNs, responderNsPerFindNode: responderNs };
}

/** RSS of a fresh process before and after filling a server's v4 buffer with count nodes. */
function measureMemory(count: number): Record<string, number> {
  const script = `
    import { BootstrapServer } from './src/bootstrap/index.ts';
    const before = process.memoryUsage().rss;
    const server = new BootstrapServer({ sockets: [{ family: 4, ownId: Buffer.alloc(20), send() {} }],
      masterSecret: Buffer.alloc(32, 1), randomBytes: (n) => Buffer.alloc(n, 7), nodesCapacity: ${count},
      isIdVerified: false });
    const chunk = 100000, entries = Buffer.alloc(chunk * 26);
    for (let base = 0; base < ${count}; base += chunk) {
      for (let i = 0; i < chunk; i++) { const v = (base + i) * 2654435761 >>> 0; entries.writeUInt32BE(v, i * 26 + 20);
        entries[i * 26 + 20] = 1 + (entries[i * 26 + 20] % 200); if (entries[i*26+20] === 10 || entries[i*26+20] === 127) entries[i*26+20] = 11;
        entries.writeUInt16BE(6881, i * 26 + 24); }
      server.importNodes(4, entries, 0);
    }
    global.gc?.();
    const after = process.memoryUsage().rss;
    console.log(JSON.stringify({ nodes: server.sizes().nodes4, rssBeforeMb: before / 2**20, rssAfterMb: after / 2**20 }));`;
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: join(import.meta.dirname, '..'),
    },
  ).toString();
  const m = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
  console.log(
    `\nmemory: ${m['nodes']} nodes, RSS ${m['rssBeforeMb']!.toFixed(0)} MB -> ${m['rssAfterMb']!.toFixed(0)} MB`,
  );
  return m;
}
