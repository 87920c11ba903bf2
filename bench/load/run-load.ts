/**
 * Runs one of the two load generators as a child process and returns its steps: krpc-blast.c (built here with
 * `cc -O2` into a temporary folder) for rates Node cannot offer, or krpc-load.ts. Both take the same options and
 * print the same LoadStep lines, so a caller can fall back from one to the other (no C compiler → Node).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LoadStep, parseLoadSteps } from './load-step.ts';

export type LoadEngine = 'c' | 'node';

export interface LoadOptions {
  /** 'c': the compiled krpc-blast at blastPath; 'node': krpc-load.ts. */
  engine: LoadEngine;
  /** Path of the krpc-blast binary (from buildKrpcBlast()), for engine 'c'. */
  blastPath?: string;
  target: { host: string; port: number };
  query: 'ping' | 'find_node' | 'get_peers';
  sockets: number;
  /** One address or a range in 127/8, e.g. "127.0.0.2-127.0.0.17". */
  sources?: string;
  rates: readonly number[];
  stepSeconds: number;
  gapMs?: number;
  /** Queries one socket sends in a row before the next takes over (1: every packet from the next socket). */
  batch?: number;
  stopLossPct?: number;
  serverPid?: number;
  /** Pin the generator to this CPU with taskset (caller checks that taskset exists). */
  cpu?: number;
}

/** Builds krpc-blast.c into a fresh temporary folder; undefined when there is no working C compiler. */
export function buildKrpcBlast(): string | undefined {
  const binary = join(mkdtempSync(join(tmpdir(), 'dhtchat-krpc-blast-')), 'krpc-blast');
  try {
    execFileSync('cc', ['-O2', '-o', binary, join(import.meta.dirname, 'krpc-blast.c')], { stdio: 'ignore' });
    return binary;
  } catch {
    return undefined;
  }
}

/** Runs the generator to the end of its steps (killed if it overruns them by 60 s) and returns the steps. */
export function runLoad(options: LoadOptions): Promise<LoadStep[]> {
  const args = [
    '--target',
    `${options.target.host}:${options.target.port}`,
    '--query',
    options.query,
    '--sockets',
    String(options.sockets),
    '--sources',
    options.sources ?? options.target.host,
    '--rates',
    options.rates.join(','),
    '--step-seconds',
    String(options.stepSeconds),
    '--gap-ms',
    String(options.gapMs ?? 500),
    '--batch',
    String(options.batch ?? 1),
    '--stop-loss',
    String(options.stopLossPct ?? 100),
    '--quiet',
  ];
  if (options.serverPid !== undefined) args.push('--server-pid', String(options.serverPid));
  let command: string[];
  if (options.engine === 'c') {
    if (options.blastPath === undefined) throw new Error('engine c needs blastPath (buildKrpcBlast())');
    command = [options.blastPath, ...args];
  } else {
    command = [process.execPath, '--import', 'tsx', join(import.meta.dirname, 'krpc-load.ts'), ...args];
  }
  if (options.cpu !== undefined) command = ['taskset', '-c', String(options.cpu), ...command];
  const stepsMs = options.rates.length * (options.stepSeconds * 1000 + (options.gapMs ?? 500));
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), stepsMs + 60_000);
    child.once('error', (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      if (code === 0) resolve(parseLoadSteps(stdout));
      else reject(new Error(`load generator ${options.engine} failed: exit ${code ?? signal}`));
    });
  });
}
