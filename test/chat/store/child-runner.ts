/** Starts test/chat/store/store-child.ts in a real child process and collects what it prints. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./store-child.ts', import.meta.url));

export interface ChildRun {
  readonly child: ChildProcess;
  readonly ids: string[];
  readonly ready: Promise<void>;
  /** Resolves when the child has reported its first committed id. */
  readonly firstId: Promise<void>;
  readonly exited: Promise<void>;
}

export function startChild(mode: 'hold' | 'insert', path: string): ChildRun {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, path], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ids: string[] = [];
  let buffered = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  let onFirstId: () => void = () => {};
  const firstId = new Promise<void>((resolve) => {
    onFirstId = resolve;
  });
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? ''; // A line cut by the kill has no newline: never counted.
    for (const line of lines) {
      if (line === 'ready') onReady();
      else if (/^[0-9a-f]{32}$/.test(line)) {
        ids.push(line);
        onFirstId();
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, ids, ready, firstId, exited };
}
