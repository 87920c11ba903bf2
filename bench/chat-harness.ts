/**
 * Shared machinery of the chat process benchmarks (bench/chat-daemon-*.bench.ts): a loopback testnet
 * (`dhtchat testnet --nodes 30 --json`), real `dhtchat daemon` processes whose JSON log lines are kept with the
 * time we read them, a friendship made once through the DHT (outside anything measured), and the statistics.
 *
 * Times: the daemon's log lines carry its own Date.now() (`time`); spawnMs is our Date.now() just before the
 * spawn. Both read the same system clock, so `line.time - spawnMs` is spawn → event as the daemon saw it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { callDaemon } from '../src/app/chat-api-client.ts';
import { decodeFriendCode } from '../src/chat/index.ts';
import {
  eventually,
  type JsonLinesProcess,
  startJsonLines,
  waitForAnnouncement,
} from '../test/e2e/chat-processes.ts';
import { CLI_PATH, REPO_ROOT, runCli } from '../test/helpers/cli-runner.ts';
import { stringOption } from './chat-bench-stats.ts';

export type LogLine = Record<string, unknown> & { recvMs: number };

export interface DaemonProcess {
  readonly child: ChildProcess;
  /** Our Date.now() just before spawn(). */
  readonly spawnMs: number;
  readonly lines: LogLine[];
  /** Called for every line from now on (and never for lines already read). */
  onLine(listener: (line: LogLine) => void): () => void;
  waitLine(pred: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine>;
  stderr(): string;
  stop(): Promise<number | null>;
}

const STOP_KILL_MS = 10_000;
const LOAD_AT_START = loadavg();
/** Temporary data dirs, removed after a successful run (kept after a failure, for a look at them). */
const tempDirs: string[] = [];
/** Every daemon started, for the log dump after a failure. */
const daemons: DaemonProcess[] = [];
/** `--debug`: the daemons log at debug level, and their logs are dumped at the end (as after a failure). */
const DEBUG_ENV: NodeJS.ProcessEnv = process.argv.includes('--debug') ? { DHTCHAT_LOG_LEVEL: 'debug' } : {};

/** Where and under what load the numbers were taken (the VM is shared: load changes them). */
export function machine(): Record<string, unknown> {
  const round = (xs: number[]): number[] => xs.map((x) => Math.round(x * 100) / 100);
  return {
    node: process.version,
    cpus: availableParallelism(),
    loadAverageAtStart: round(LOAD_AT_START),
    loadAverageAtEnd: round(loadavg()),
    daemonEntry: DAEMON_ENTRY,
  };
}
/**
 * `--cli <file>`: run the daemons from another entry point (a patched copy of the tree, an esbuild bundle) to
 * measure what a change would buy; default bin/dhtchat.js of this tree.
 */
export const DAEMON_ENTRY =
  stringOption('cli') ?? (process.argv.includes('--bundle') ? await bundleCli() : CLI_PATH);
/** `--node-args "<flags>"`: Node flags for the daemons only (diagnosis, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"). */
const DAEMON_NODE_ARGS = (stringOption('node-args') ?? '').split(' ').filter((a) => a !== '');
const stoppers = new Set<() => Promise<unknown>>();

/** What a daemon is started with: `entry`, another CLI to run (default DAEMON_ENTRY). */
export interface DaemonSpawnOptions {
  port?: number;
  env?: NodeJS.ProcessEnv;
  entry?: string;
}

/** `dhtchat --data-dir dir daemon` on 127.0.0.1; `port` 0 = a new random port, undefined = its last one. */
export function spawnDaemon(dir: string, bootstrap: string, opts: DaemonSpawnOptions = {}): DaemonProcess {
  const args = [
    '--data-dir',
    dir,
    'daemon',
    '--host',
    '127.0.0.1',
    '--bootstrap',
    bootstrap,
    '--allow-private',
  ];
  if (opts.port !== undefined) args.push('--port', String(opts.port));
  const spawnMs = Date.now();
  const child = spawn(process.execPath, [...DAEMON_NODE_ARGS, opts.entry ?? DAEMON_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...DEBUG_ENV, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const listeners = new Set<(line: LogLine) => void>();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = { ...(JSON.parse(text) as Record<string, unknown>), recvMs: Date.now() };
    } catch {
      line = { unparsed: text, recvMs: Date.now() };
    }
    lines.push(line);
    for (const listener of [...listeners]) listener(line);
  });
  const onLine = (listener: (line: LogLine) => void): (() => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  const waitLine = (pred: (line: LogLine) => boolean, timeoutMs: number, what: string) =>
    new Promise<LogLine>((resolve, reject) => {
      const seen = lines.find(pred);
      if (seen !== undefined) return resolve(seen);
      let isSettled = false;
      const settle = (fn: () => void): void => {
        if (isSettled) return;
        isSettled = true;
        clearTimeout(timer);
        off();
        fn();
      };
      const off = onLine((line) => {
        if (pred(line)) settle(() => resolve(line));
      });
      const fail = (why: string) => () =>
        reject(new Error(`${what}: ${why}; stderr: ${stderr.slice(-2000)}`));
      const timer = setTimeout(() => settle(fail(`not within ${timeoutMs} ms`)), timeoutMs);
      void exited.then((code) => settle(fail(`daemon exited (${code}) first`)));
    });
  const stop = async (): Promise<number | null> => {
    stoppers.delete(stop);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_KILL_MS);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  stoppers.add(stop);
  const proc = { child, spawnMs, lines, onLine, waitLine, stderr: () => stderr, stop };
  daemons.push(proc);
  return proc;
}

/**
 * `--bundle`: src/app/cli.ts bundled by esbuild into one plain-JS file (packages stay external, found through a
 * node_modules link), to measure what shipping built JavaScript instead of running TypeScript through tsx buys.
 */
async function bundleCli(): Promise<string> {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-bench-bundle-'));
  tempDirs.push(dir);
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  const outfile = join(dir, 'cli.mjs');
  await build({
    entryPoints: [join(REPO_ROOT, 'src', 'app', 'cli.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    // As package.json's build:cli: without comments the source V8 keeps is one byte a character (issue 13 §4).
    minifyWhitespace: true,
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/** Spawns a daemon and waits for its ready line (the first line it prints). */
export async function startDaemon(
  dir: string,
  bootstrap: string,
  opts: DaemonSpawnOptions = {},
): Promise<{ proc: DaemonProcess; ready: LogLine }> {
  const proc = spawnDaemon(dir, bootstrap, opts);
  const ready = await proc.waitLine(() => true, 30_000, 'ready line');
  if (ready['event'] !== 'ready') throw new Error(`first line is not ready: ${JSON.stringify(ready)}`);
  return { proc, ready };
}

/** The testnet process (stopped by stopAll) and its bootstrap address. */
export async function startTestnet(nodes: number): Promise<{ proc: JsonLinesProcess; bootstrap: string }> {
  const proc = startJsonLines(['testnet', '--nodes', String(nodes), '--json']);
  stoppers.add(() => proc.stop());
  const formed = await proc.waitFor((l) => typeof l['bootstrap'] === 'string', 60_000);
  return { proc, bootstrap: formed['bootstrap'] as string };
}

/** Stops every daemon and testnet this process started (SIGTERM, SIGKILL after 10 s). */
export async function stopAll(): Promise<void> {
  await Promise.all([...stoppers].map((stop) => stop()));
  stoppers.clear();
}

export async function cliJson(dir: string, ...args: string[]): Promise<unknown> {
  const result = await runCli(['--data-dir', dir, ...args, '--json'], { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`${args.join(' ')}: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout);
}

export async function sendMessage(
  dir: string,
  to: string,
  text: string,
): Promise<{ id: string; state: string }> {
  return (await callDaemon(dir, 'POST', '/v1/messages', { to, text })) as { id: string; state: string };
}

export interface Pair {
  readonly aliceDir: string;
  readonly bobDir: string;
  readonly aliceCode: string;
  readonly bobCode: string;
  alice: DaemonProcess;
  bob: DaemonProcess;
}

/**
 * Alice and Bob initialised, friends through the DHT (Alice adds, Bob's daemon finds the request and accepts),
 * both daemons running and online to each other. Up to a minute or two: the request travels through the DHT.
 */
/** Progress lines on stderr, timed from now (stdout carries only the table and the JSON). */
export function progressLog(): (what: string) => void {
  const t0 = Date.now();
  return (what) => console.error(`[+${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
}

/** A testnet of a bootstrap node and `nodes` DHT nodes, with Alice and Bob made friends through it. */
export async function friendsOnTestnet(
  nodes: number,
  log: (what: string) => void,
): Promise<{ bootstrap: string; pair: Pair }> {
  const { bootstrap } = await startTestnet(nodes);
  log(`testnet formed at ${bootstrap}`);
  return { bootstrap, pair: await makeFriends(bootstrap, log) };
}

/** `entry`: the CLI both daemons run (default DAEMON_ENTRY); init, add and accept use this tree's CLI. */
export async function makeFriends(
  bootstrap: string,
  log: (what: string) => void,
  entry?: string,
): Promise<Pair> {
  const aliceDir = mkdtempSync(join(tmpdir(), 'dhtchat-bench-alice-'));
  const bobDir = mkdtempSync(join(tmpdir(), 'dhtchat-bench-bob-'));
  tempDirs.push(aliceDir, bobDir);
  const [aliceInit, bobInit] = await Promise.all([
    cliJson(aliceDir, 'init', '--name', 'Alice'),
    cliJson(bobDir, 'init', '--name', 'Bob'),
  ]);
  const aliceCode = (aliceInit as { code: string }).code;
  const bobCode = (bobInit as { code: string }).code;
  const spawnOpts = entry === undefined ? {} : { entry };
  const alice = await startDaemon(aliceDir, bootstrap, { port: 0, ...spawnOpts });
  await cliJson(aliceDir, 'add', bobCode, '--name', 'bob');
  await waitForAnnouncement(bootstrap, decodeFriendCode(bobCode), alice.ready['port'] as number, 60_000);
  const bob = await startDaemon(bobDir, bootstrap, { port: 0, ...spawnOpts });
  await eventually(
    "Alice's request at Bob",
    async () => {
      const list = (await callDaemon(bobDir, 'GET', '/v1/requests')) as { code: string }[];
      return list.some((r) => r.code === aliceCode) ? true : undefined;
    },
    100_000,
    250,
  );
  await cliJson(bobDir, 'accept', aliceCode);
  await waitOnline(aliceDir, bobCode, 60_000);
  await waitOnline(bobDir, aliceCode, 60_000);
  log('friends and online');
  return { aliceDir, bobDir, aliceCode, bobCode, alice: alice.proc, bob: bob.proc };
}

export async function waitOnline(dir: string, code: string, timeoutMs: number): Promise<void> {
  await eventually(
    `${code} online`,
    async () => {
      const list = (await callDaemon(dir, 'GET', '/v1/contacts')) as { code: string; presence: string }[];
      return list.some((c) => c.code === code && c.presence === 'online') ? true : undefined;
    },
    timeoutMs,
    50,
  );
}

/** The daemon's own time of the first line matching pred, relative to its spawn (undefined: no such line). */
export function sinceSpawn(proc: DaemonProcess, pred: (line: LogLine) => boolean): number | undefined {
  const line = proc.lines.find(pred);
  return typeof line?.['time'] === 'number' ? line['time'] - proc.spawnMs : undefined;
}

/** Each daemon's log (uTP lines left out), times relative to its spawn: what a failure needs to be understood. */
function dumpDaemonLogs(): void {
  for (const proc of daemons) {
    console.error(`--- ${proc.child.spawnargs.slice(2).join(' ')} (spawned at ${proc.spawnMs})`);
    for (const line of proc.lines.filter((l) => l['part'] !== 'utp').slice(-400)) {
      const { recvMs: _recvMs, ...rest } = line;
      console.error(`+${Number(line['time'] ?? line.recvMs) - proc.spawnMs} ${JSON.stringify(rest)}`);
    }
    if (proc.stderr() !== '') console.error(proc.stderr().slice(-2000));
  }
}

/** Runs main with an overall deadline; always stops every process started, exits non-zero on failure. */
export async function runBench(deadlineMs: number, main: () => Promise<void>): Promise<void> {
  const timer = setTimeout(() => {
    console.error(`bench: overall deadline of ${deadlineMs} ms passed`);
    void stopAll().finally(() => process.exit(2));
  }, deadlineMs);
  const onSignal = (): void => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let isOk = false;
  try {
    await main();
    isOk = true;
  } catch (error) {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    dumpDaemonLogs();
    console.error(`data dirs kept: ${tempDirs.join(' ')}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(timer);
    await stopAll();
    if (isOk && DEBUG_ENV['DHTCHAT_LOG_LEVEL'] !== undefined) dumpDaemonLogs();
    if (isOk) for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The daemon's log time at which each message reached one of the given states (first time only), from its
 * `state` (or, for incoming messages, `message`) lines. Works whether the line comes before or after we learn the id.
 */
export class StateWatcher {
  readonly #times = new Map<string, number>();
  readonly #waiters = new Map<string, (timeMs: number) => void>();
  readonly #off: () => void;

  constructor(proc: DaemonProcess, event: 'state' | 'message', states: readonly string[] = []) {
    const take = (line: LogLine): void => {
      if (line['event'] !== event || typeof line['id'] !== 'string') return;
      if (event === 'state' && !states.includes(line['state'] as string)) return;
      const id = line['id'];
      if (this.#times.has(id)) return;
      const timeMs = line['time'] as number;
      this.#times.set(id, timeMs);
      this.#waiters.get(id)?.(timeMs);
      this.#waiters.delete(id);
    };
    for (const line of proc.lines) take(line);
    this.#off = proc.onLine(take);
  }

  /** Resolves with the log time of id's line; rejects after timeoutMs (the error names `what`). */
  at(id: string, timeoutMs: number, what = 'a matching line'): Promise<number> {
    const known = this.#times.get(id);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        reject(new Error(`message ${id}: ${what} not within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(id, (timeMs) => {
        clearTimeout(timer);
        resolve(timeMs);
      });
    });
  }

  close(): void {
    this.#off();
  }
}
