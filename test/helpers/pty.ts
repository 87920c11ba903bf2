/**
 * Runs `dhtchat ...` on a real pseudo-terminal, the way a person at a terminal runs it: stdin, stdout and stderr
 * are the pty's slave side (isTTY true, raw mode and echo behave as in a terminal). Node has no pty of its own,
 * so python3's `pty` module holds the master side and relays it to pipes: what the test writes goes to the
 * terminal as keystrokes, what the program prints (both streams, as on a screen) comes back in `output()`.
 * The terminal is 120 × 30 so readline has a width to lay its prompt out in.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { CLI_PATH, REPO_ROOT } from './cli-runner.ts';

const RELAY = `
import fcntl, os, pty, select, signal, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 30, 120, 0, 0))
os.kill(pid, signal.SIGWINCH)
stdin_open = True
while True:
    ready = select.select([fd] + ([0] if stdin_open else []), [], [])[0]
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        os.write(1, data)
    if 0 in ready:
        data = os.read(0, 65536)
        if data:
            os.write(fd, data)
        else:
            stdin_open = False
status = os.waitpid(pid, 0)[1]
sys.exit(os.waitstatus_to_exitcode(status) % 256)
`;

export interface PtyProcess {
  readonly child: ChildProcess;
  /** Everything the terminal showed so far, escape sequences included. */
  output(): string;
  /** Types text (a "\r" is the Enter key). */
  type(text: string): void;
  /** Resolves once output() matches (searching from `fromIndex`); rejects with the screen after timeoutMs. */
  waitFor(pattern: RegExp | string, timeoutMs: number, fromIndex?: number): Promise<void>;
  /** The exit code (a signal shows as a negative number, e.g. -15). */
  exited: Promise<number | null>;
  kill(): void;
}

export function startOnPty(args: readonly string[], env: NodeJS.ProcessEnv = {}): PtyProcess {
  const child = spawn('python3', ['-c', RELAY, process.execPath, CLI_PATH, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, TERM: 'xterm-256color', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  let isClosed = false;
  const waiters = new Set<() => void>();
  const onData = (d: Buffer): void => {
    screen += d.toString();
    for (const wake of [...waiters]) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => {
    // 'close', not 'exit': the last output may still be in the pipe when the process has exited.
    child.on('close', (code) => {
      isClosed = true;
      for (const wake of [...waiters]) wake();
      resolve(code);
    });
  });
  const matches = (pattern: RegExp | string, from: number): boolean => {
    const text = screen.slice(from);
    return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
  };
  return {
    child,
    output: () => screen,
    type: (text) => child.stdin?.write(text),
    exited,
    kill: () => child.kill('SIGKILL'),
    waitFor: (pattern, timeoutMs, fromIndex = 0) =>
      new Promise<void>((resolve, reject) => {
        const finish = (error?: Error): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error === undefined) resolve();
          else reject(error);
        };
        const check = (): void => {
          if (matches(pattern, fromIndex)) finish();
          else if (isClosed) {
            finish(new Error(`exited before ${String(pattern)}; screen: ${JSON.stringify(screen)}`));
          }
        };
        const timer = setTimeout(
          () =>
            finish(new Error(`no ${String(pattern)} in ${timeoutMs} ms; screen: ${JSON.stringify(screen)}`)),
          timeoutMs,
        );
        waiters.add(check);
        check();
      }),
  };
}
