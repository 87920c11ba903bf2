/**
 * Processes inside a lab namespace: `ip netns exec NS command …`, their stdout read as JSON lines (the daemon's,
 * the probes' and the Internet's format; anything else is kept as {unparsed}). Every wait is bounded; stop()
 * escalates from SIGTERM to SIGKILL. The lab also kills whatever still runs in its namespaces when it is torn
 * down, so a process forgotten here cannot outlive the lab.
 *
 *   test process ──spawn──► ip netns exec nlab…-<role> <command> ──stdout JSON lines──► lines[], arrivedAtMs[]
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../helpers/cli-runner.ts';

export type Line = Record<string, unknown>;

/** How long stop() waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000;
const STDERR_KEPT_CHARS = 64_000;

export interface NsProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: Line[];
  /** Date.now() when each line arrived (same index as lines). */
  readonly arrivedAtMs: number[];
  stderr(): string;
  isRunning(): boolean;
  waitFor(pred: (line: Line) => boolean, timeoutMs: number, what: string): Promise<Line>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Keep stdin open as a pipe (a child that exits when its stdin closes); default: ignored. */
  readonly hasStdin?: boolean;
}

export function spawnInNs(
  name: string,
  ns: string,
  command: string,
  args: readonly string[],
  opts: SpawnOptions = {},
): NsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, command, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: [opts.hasStdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  const arrivedAtMs: number[] = [];
  const wakers = new Set<() => void>();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-STDERR_KEPT_CHARS);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      const parsed: unknown = JSON.parse(text);
      lines.push(typeof parsed === 'object' && parsed !== null ? (parsed as Line) : { unparsed: text });
    } catch {
      lines.push({ unparsed: text });
    }
    arrivedAtMs.push(Date.now());
    for (const wake of [...wakers]) wake();
  });
  const waitFor = (pred: (line: Line) => boolean, timeoutMs: number, what: string): Promise<Line> =>
    new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        wakers.delete(check);
      };
      const check = (): void => {
        const found = lines.find(pred);
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (!isRunning()) {
          done();
          reject(new Error(`${name} exited before ${what}: ${stderr.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${name}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      wakers.add(check);
      void exited.then(check);
      check();
    });
  return {
    name,
    child,
    lines,
    arrivedAtMs,
    stderr: () => stderr,
    isRunning,
    waitFor,
    async stop() {
      if (!isRunning()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `node NODE_ARGS` inside ns (the repo's TypeScript runs with --import tsx). */
export function spawnNodeInNs(
  name: string,
  ns: string,
  nodeArgs: readonly string[],
  opts: SpawnOptions = {},
): NsProcess {
  return spawnInNs(name, ns, process.execPath, nodeArgs, opts);
}

/** Runs `node …` to completion inside ns (killed after timeoutMs); resolves with stdout, rejects on failure. */
export function runNodeInNs(
  ns: string,
  nodeArgs: readonly string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'ip',
      ['netns', 'exec', ns, process.execPath, ...nodeArgs],
      { cwd: REPO_ROOT, timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        if (error !== null)
          reject(new Error(`${nodeArgs.join(' ')} in ${ns} failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** The first line matching pred in any of procs (polled every 100 ms, for at most timeoutMs). */
export async function waitForAny(
  procs: readonly NsProcess[],
  pred: (line: Line) => boolean,
  timeoutMs: number,
  what: string,
): Promise<{ proc: NsProcess; line: Line }> {
  const endMs = Date.now() + timeoutMs;
  for (;;) {
    for (const proc of procs) {
      const line = proc.lines.find(pred);
      if (line !== undefined) return { proc, line };
    }
    if (Date.now() >= endMs) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
