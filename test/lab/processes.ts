/**
 * Processes inside a network namespace for nat-punch.test.ts: `ip netns exec NS node …`, their stdout read as
 * JSON lines (the daemon's and the fixtures' format). Every wait is bounded; stop() escalates to SIGKILL.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../helpers/cli-runner.ts';

export type Line = Record<string, unknown>;

export interface NsProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: Line[];
  stderr(): string;
  waitFor(pred: (line: Line) => boolean, timeoutMs: number, what: string): Promise<Line>;
  stop(): Promise<void>;
}

export function spawnInNs(name: string, ns: string, nodeArgs: readonly string[]): NsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...nodeArgs], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  const wakers = new Set<() => void>();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Line);
    } catch {
      lines.push({ unparsed: text });
    }
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
        } else if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(new Error(`${name} exited before ${what}`));
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
    stderr: () => stderr,
    waitFor,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs `node …` to completion inside ns (killed after timeoutMs); resolves with stdout, rejects on failure. */
export function runInNs(ns: string, nodeArgs: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'ip',
      ['netns', 'exec', ns, process.execPath, ...nodeArgs],
      { cwd: REPO_ROOT, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`${nodeArgs.join(' ')} failed: ${error.message}\n${stderr}`));
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
