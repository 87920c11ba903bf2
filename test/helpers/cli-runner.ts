/** Runs `node bin/dhtchat.js ...` as a child process, the way users and other tools do. */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_PATH = resolve(REPO_ROOT, 'bin', 'dhtchat.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs one command to completion (killed after timeoutMs); `input`, when given, is its standard input. */
export function runCli(
  args: readonly string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string | Buffer } = {},
) {
  return new Promise<CliResult>((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) {
      // A command that stops reading early (a refused oversized message) closes the pipe: not our failure.
      child.stdin?.on('error', () => {});
      child.stdin?.end(opts.input);
    }
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly host: string;
  readonly id: string;
  /** Every stdout line parsed so far (the listening line first). */
  readonly events: Record<string, unknown>[];
  /** Waits for an event line matching pred. */
  waitFor(
    pred: (e: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** SIGTERM, then waits for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `dhtchat dht node ...` and resolves once its {"event":"listening"} line arrived. */
export function startNodeProcess(args: readonly string[], timeoutMs = 20_000): Promise<NodeProcess> {
  const child = spawn(process.execPath, [CLI_PATH, 'dht', 'node', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  const waiters: Array<{
    pred: (e: Record<string, unknown>) => boolean;
    done: (e: Record<string, unknown>) => void;
  }> = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      event = { unparsed: line };
    }
    events.push(event);
    for (const w of [...waiters]) {
      if (w.pred(event)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done(event);
      }
    }
  });
  const waitFor = (pred: (e: Record<string, unknown>) => boolean, waitMs = timeoutMs) =>
    new Promise<Record<string, unknown>>((res, rej) => {
      const found = events.find(pred);
      if (found !== undefined) return res(found);
      const timer = setTimeout(
        () => rej(new Error(`no matching event in ${waitMs} ms; stderr: ${stderr}`)),
        waitMs,
      );
      waiters.push({
        pred,
        done: (e) => {
          clearTimeout(timer);
          res(e);
        },
      });
      void exited.then((code) => {
        clearTimeout(timer);
        rej(new Error(`node exited (${code}) before the event; stderr: ${stderr}`));
      });
    });
  return waitFor((e) => e['event'] === 'listening').then((listening) => ({
    child,
    port: listening['port'] as number,
    host: listening['host'] as string,
    id: listening['id'] as string,
    events,
    waitFor,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  }));
}
