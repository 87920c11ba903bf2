/**
 * Long-running `dhtchat` processes for the end-to-end tests: `testnet` and `daemon`, each printing JSON lines on
 * stdout. start() resolves with the first line that matches; stop() sends SIGTERM and waits for the exit.
 * Also the scenes the tests share: startFriendsOnTestnet (Alice and Bob made friends on a loopback testnet) and
 * the small client calls the tests poll with.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import { decodeFriendCode, hourEpoch, requestTopic } from '../../src/chat/index.ts';
import { DhtNode } from '../../src/dht/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../../src/runtime/index.ts';
import { CLI_PATH, REPO_ROOT, runCli } from '../helpers/cli-runner.ts';

/** How long one step of a scenario may take (an announcement seen, both online, a message delivered). */
export const STEP_MS = 45_000;
/** A daemon polls for requests at start and every minute: one missed poll must not fail the test. */
export const REQUEST_POLL_MS = 100_000;
/** Daemons log at debug, so a failure's dump has the daemons' own account (they never log message text). */
export const DEBUG_ENV = { DHTCHAT_LOG_LEVEL: 'debug' };

export interface Message {
  id: string;
  from: string;
  text: string;
  state: string;
}
export interface Contact {
  name: string;
  code: string;
  presence: string;
}

export interface JsonLinesProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  stderr(): string;
  waitFor(
    pred: (line: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startJsonLines(args: readonly string[], env: NodeJS.ProcessEnv = {}): JsonLinesProcess {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      lines.push({ unparsed: text });
    }
    for (const wake of [...waiters]) wake();
  });
  const waitFor = (pred: (line: Record<string, unknown>) => boolean, timeoutMs: number) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = (): boolean => {
        const found = lines.find(pred);
        if (found === undefined) return false;
        finish();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `no matching line in ${timeoutMs} ms; stdout: ${JSON.stringify(lines)}; stderr: ${stderr}`,
          ),
        );
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(wake);
      };
      const wake = (): void => void check();
      if (check()) return;
      waiters.add(wake);
      void exited.then((code) => {
        if (!waiters.has(wake)) return;
        finish();
        reject(
          new Error(`process exited (${code}) first; stdout: ${JSON.stringify(lines)}; stderr: ${stderr}`),
        );
      });
    });
  return {
    child,
    lines,
    stderr: () => stderr,
    waitFor,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Polls fn until it returns a value, every intervalMs, for at most timeoutMs (then throws with the last value). */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 500,
): Promise<T> {
  const endMs = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < endMs) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
}

/**
 * Starts `dhtchat daemon` on loopback for dir and waits for its ready line. env adds variables (for example
 * DHTCHAT_LOG_LEVEL=debug); every started process is pushed onto running, so the caller's after() can stop it.
 * Without a port the daemon takes the one it used last time, else any free one (as a user's restart does).
 */
export interface ChatDaemon {
  readonly code: string;
  readonly port: number;
  readonly proc: JsonLinesProcess;
}

export async function startChatDaemon(
  dir: string,
  bootstrap: string,
  running: JsonLinesProcess[],
  opts: { port?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ChatDaemon> {
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
  const proc = startJsonLines(args, opts.env);
  running.push(proc);
  const ready = await proc.waitFor(() => true, 30_000);
  if (ready['event'] !== 'ready') throw new Error(`first line is not ready: ${JSON.stringify(ready)}`);
  return { code: ready['code'] as string, port: ready['port'] as number, proc };
}

/** Prints every process's JSON lines and stderr (on a failure: the daemons never log message text). */
export function dumpLogs(procs: readonly JsonLinesProcess[]): void {
  for (const p of procs) {
    console.error(`--- ${p.child.spawnargs.slice(2).join(' ')}`);
    for (const line of p.lines) console.error(JSON.stringify(line));
    console.error(p.stderr());
  }
}

/** Runs a scenario, dumping every process's log if it fails (or always with DHTCHAT_E2E_DUMP=1). */
export async function dumpingLogs(
  running: readonly JsonLinesProcess[],
  fn: () => Promise<void>,
): Promise<void> {
  try {
    await fn();
    if (process.env['DHTCHAT_E2E_DUMP'] === '1') dumpLogs(running);
  } catch (error) {
    dumpLogs(running);
    throw error;
  }
}

/** Stops every process a test started (for its after()). */
export async function stopAll(running: readonly JsonLinesProcess[]): Promise<void> {
  await Promise.all(running.map((p) => p.stop()));
}

/** Looks up a recipient's request topic from a read-only node of our own until the requester's port is listed. */
export async function waitForAnnouncement(
  bootstrap: string,
  recipientPk: Buffer,
  requesterPort: number,
  timeoutMs: number,
): Promise<void> {
  const [host, port] = bootstrap.split(':') as [string, string];
  const transport = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
  const node = new DhtNode({
    transport,
    clock: systemClock,
    random: cryptoRandom,
    bootstrap: [{ host, port: Number(port) }],
    allowPrivate: true,
    readOnly: true,
  });
  try {
    await node.start();
    await eventually(
      'the announcement on the request topic',
      async () => {
        const { peers } = await node.getPeers(requestTopic(recipientPk, hourEpoch(Date.now())));
        return peers.some((p) => p.port === requesterPort) ? true : undefined;
      },
      timeoutMs,
    );
  } finally {
    node.close();
    transport.close();
  }
}

/** A client command with --json, as a user types it; a non-zero exit throws with its stderr. */
export async function cliJson(dir: string, ...args: string[]): Promise<unknown> {
  const result = await runCli(['--data-dir', dir, ...args, '--json'], { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`${args.join(' ')}: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout);
}

/** The conversation without marking it read (the test reads states, it is not a user reading). */
export async function messagesWith(dir: string, who: string): Promise<Message[]> {
  return (await callDaemon(dir, 'GET', `/v1/messages?with=${encodeURIComponent(who)}`)) as Message[];
}

/** One user of a scene: a data dir and the friend code `init` printed for it. */
export interface TestnetUser {
  readonly dir: string;
  readonly code: string;
}

export interface PairOnTestnet {
  readonly testnet: JsonLinesProcess;
  /** host:port of the testnet's bootstrap node. */
  readonly bootstrap: string;
  readonly alice: TestnetUser;
  readonly bob: TestnetUser;
}

/**
 * Starts `dhtchat testnet --nodes 30` and meanwhile runs `init` for Alice and Bob (names "Alice" and "Bob") in
 * dirs, by default fresh temporary ones. The testnet is pushed onto running.
 */
export async function startPairOnTestnet(
  running: JsonLinesProcess[],
  dirs?: { alice: string; bob: string },
): Promise<PairOnTestnet> {
  const testnet = startJsonLines(['testnet', '--nodes', '30', '--json']);
  running.push(testnet);
  const aliceDir = dirs?.alice ?? mkdtempSync(join(tmpdir(), 'dhtchat-alice-'));
  const bobDir = dirs?.bob ?? mkdtempSync(join(tmpdir(), 'dhtchat-bob-'));
  const [formed, aliceInit, bobInit] = await Promise.all([
    testnet.waitFor((l) => typeof l['bootstrap'] === 'string', 60_000),
    cliJson(aliceDir, 'init', '--name', 'Alice'),
    cliJson(bobDir, 'init', '--name', 'Bob'),
  ]);
  return {
    testnet,
    bootstrap: formed['bootstrap'] as string,
    alice: { dir: aliceDir, code: (aliceInit as { code: string }).code },
    bob: { dir: bobDir, code: (bobInit as { code: string }).code },
  };
}

/** Polls both daemons' contact lists until each lists the other online. */
export async function waitBothOnline(alice: TestnetUser, bob: TestnetUser, timeoutMs: number): Promise<void> {
  await eventually(
    'both online to each other',
    async () => {
      const a = (await callDaemon(alice.dir, 'GET', '/v1/contacts')) as Contact[];
      const b = (await callDaemon(bob.dir, 'GET', '/v1/contacts')) as Contact[];
      const isUp = a.some((c) => c.code === bob.code && c.presence === 'online');
      return isUp && b.some((c) => c.code === alice.code && c.presence === 'online') ? true : undefined;
    },
    timeoutMs,
  );
}

export interface FriendsOnTestnet extends PairOnTestnet {
  readonly alice: TestnetUser & { readonly daemon: ChatDaemon };
  readonly bob: TestnetUser & { readonly daemon: ChatDaemon };
}

/**
 * The scene most end-to-end tests start from: a testnet, Alice and Bob initialised, Alice's daemon (on a fresh
 * port) adds Bob as "bob"; Bob's daemon starts once her request is announced in the DHT (a daemon looks for
 * requests at start and then once a minute, so this order waits out no poll period), sees it and accepts; then,
 * unless isOnlineAwaited is false, both list each other online. Every process is pushed onto running.
 * onInitialised runs once the testnet is formed and both are initialised (for a timing diagnostic).
 */
export async function startFriendsOnTestnet(
  running: JsonLinesProcess[],
  opts: {
    dirs?: { alice: string; bob: string };
    env?: NodeJS.ProcessEnv;
    isOnlineAwaited?: boolean;
    onInitialised?: (pair: PairOnTestnet) => void;
  } = {},
): Promise<FriendsOnTestnet> {
  const pair = await startPairOnTestnet(running, opts.dirs);
  opts.onInitialised?.(pair);
  const { bootstrap, alice, bob } = pair;
  const aliceDaemon = await startChatDaemon(alice.dir, bootstrap, running, { port: 0, env: opts.env });
  await cliJson(alice.dir, 'add', bob.code, '--name', 'bob');
  await waitForAnnouncement(bootstrap, decodeFriendCode(bob.code), aliceDaemon.port, STEP_MS);
  const bobDaemon = await startChatDaemon(bob.dir, bootstrap, running, { port: 0, env: opts.env });
  await eventually(
    "Alice's request at Bob",
    async () => {
      const list = (await callDaemon(bob.dir, 'GET', '/v1/requests')) as { code: string }[];
      return list.some((r) => r.code === alice.code) ? true : undefined;
    },
    REQUEST_POLL_MS,
  );
  await cliJson(bob.dir, 'accept', alice.code);
  if (opts.isOnlineAwaited !== false) await waitBothOnline(alice, bob, STEP_MS);
  return { ...pair, alice: { ...alice, daemon: aliceDaemon }, bob: { ...bob, daemon: bobDaemon } };
}
