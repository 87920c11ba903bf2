/**
 * Runs `node bin/dhtchat.js ...` on a real pseudo-terminal, so the program sees process.stdout.isTTY === true as
 * on a user's terminal (a faked isTTY flag would test nothing of the terminal path). The terminal is util-linux
 * `script` (on every Debian/Ubuntu): `script -qfec "<command>" /dev/null` runs the command on a fresh pty and
 * copies what it prints to our pipe, turning "\n" into "\r\n" as a terminal does.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLI_PATH, REPO_ROOT } from './cli-runner.ts';

/** Whether `script` is installed (tests that need a terminal skip without it, saying why). */
export function hasPtyRunner(): boolean {
  return spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface PtyProcess {
  readonly child: ChildProcess;
  /** Everything printed so far, with the terminal's "\r\n" back to "\n". */
  text(): string;
  /** Waits until the output matches (checked at every chunk); rejects after timeoutMs or if the process exits. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** SIGTERM to the program on the terminal (not to `script`), then waits for both to exit. */
  stop(): Promise<number | null>;
}

export function startOnPty(args: readonly string[], env: NodeJS.ProcessEnv = {}): PtyProcess {
  // `exec`: the shell becomes the program, so script's only child is dhtchat itself (stop() signals it).
  const command = ['exec', process.execPath, CLI_PATH, ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const wakers = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString('utf8').replaceAll('\r\n', '\n');
    for (const wake of [...wakers]) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    for (const wake of [...wakers]) wake();
  });
  return {
    child,
    text: () => output,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const finish = (): void => {
          clearTimeout(timer);
          wakers.delete(check);
        };
        const check = (): void => {
          const match = pattern.exec(output);
          if (match !== null) {
            finish();
            resolve(match);
          } else if (hasExited) {
            finish();
            reject(new Error(`exited before printing ${pattern}; output:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${output}`));
        }, timeoutMs);
        wakers.add(check);
        check();
      }),
    async stop() {
      if (!hasExited) {
        for (const pid of childrenOf(child.pid)) process.kill(pid, 'SIGTERM');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The pids of a process's children (Linux /proc), so a signal reaches the program and not the terminal. */
function childrenOf(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((p) => p !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function shellQuote(word: string): string {
  return /^[\w./:=,@+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
