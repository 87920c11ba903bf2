/**
 * The demo's child processes: `dhtchat` commands run with this same Node and entry point (so the demo runs the
 * bundle or the sources exactly as the user's `dhtchat` does), each printing JSON lines. A child's stderr is
 * kept to explain a failure; nothing of it is printed otherwise.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DhtchatError } from '../runtime/index.ts';

export interface DemoProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The first JSON line matching pred (within timeoutMs). */
  waitFor(
    pred: (line: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL after 10 s; resolves on exit. */
  stop(): Promise<void>;
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
}

/** Runs `dhtchat <args>` as a child of this process. */
export function startDhtchat(name: string, args: readonly string[]): DemoProcess {
  const entry = process.argv[1] ?? 'dhtchat';
  const child = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const wake of [...waiters]) wake();
  });
  const failure = (why: string): DhtchatError =>
    new DhtchatError('APP_DEMO_FAILED', `${name}: ${why}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`);
  return {
    name,
    child,
    exited,
    waitFor: (pred, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find(pred);
          if (found === undefined) return;
          done();
          resolve(found);
        };
        const timer = setTimeout(() => {
          done();
          reject(failure(`no answer in ${timeoutMs / 1000} s`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
        void exited.then((code) => {
          if (!waiters.has(check)) return;
          done();
          reject(failure(`exited with code ${code}`));
        });
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls fn every intervalMs until it returns true, for at most timeoutMs; false if it never did. */
export async function pollUntil(
  fn: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 500,
): Promise<boolean> {
  const endMs = Date.now() + timeoutMs;
  while (Date.now() < endMs) {
    if (await fn().catch(() => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return false;
}
