/**
 * Long-running `dhtchat` processes for the end-to-end tests: `testnet` and `daemon`, each printing JSON lines on
 * stdout. start() resolves with the first line that matches; stop() sends SIGTERM and waits for the exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { hourEpoch, requestTopic } from '../../src/chat/index.ts';
import { DhtNode } from '../../src/dht/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../../src/runtime/index.ts';
import { CLI_PATH, REPO_ROOT } from '../helpers/cli-runner.ts';

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
export async function startChatDaemon(
  dir: string,
  bootstrap: string,
  running: JsonLinesProcess[],
  opts: { port?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: string; port: number; proc: JsonLinesProcess }> {
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
