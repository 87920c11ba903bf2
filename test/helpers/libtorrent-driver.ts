/**
 * A libtorrent DHT node in a child process (test/interop/libtorrent_dht.py under Debian's /usr/bin/python3),
 * driven over JSON lines. start() resolves undefined-with-reason when libtorrent cannot be imported, so the
 * interop tests can skip cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './cli-runner.ts';

export const SYSTEM_PYTHON = '/usr/bin/python3';
const SCRIPT = resolve(REPO_ROOT, 'test', 'interop', 'libtorrent_dht.py');

type Reply = Record<string, unknown> & { id: number; ok: boolean; error?: string };

export class LibtorrentNode {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  #nextId = 1;
  port = 0;
  stderr = '';

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    // A crashed driver fails every pending call instead of leaving the test hanging.
    child.on('exit', (code) => {
      for (const [id, waiter] of this.#pending) {
        this.#pending.delete(id);
        waiter({ id, ok: false, error: `driver exited (${code}): ${this.stderr}` });
      }
    });
  }

  /** Spawns the driver; resolves { skip } when Python or libtorrent is missing. */
  static async launch(): Promise<{ node: LibtorrentNode } | { skip: string }> {
    if (!existsSync(SYSTEM_PYTHON)) return { skip: `${SYSTEM_PYTHON} not found` };
    const child = spawn(SYSTEM_PYTHON, ['-W', 'ignore', SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    const node = new LibtorrentNode(child);
    const first = await new Promise<Record<string, unknown>>((res) => {
      const lines = createInterface({ input: child.stdout! });
      let isFirst = true;
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as Reply;
        if (isFirst) {
          isFirst = false;
          res(msg);
          return;
        }
        const waiter = node.#pending.get(msg.id);
        node.#pending.delete(msg.id);
        waiter?.(msg);
      });
      child.on('exit', () => res({ event: 'exited' }));
    });
    if (first['event'] !== 'ready') {
      child.kill();
      return { skip: `python3-libtorrent unavailable: ${String(first['error'] ?? first['event'])}` };
    }
    return { node };
  }

  call(cmd: string, args: Record<string, unknown> = {}): Promise<Reply> {
    const id = this.#nextId++;
    if (this.#child.exitCode !== null)
      return Promise.reject(new Error(`libtorrent driver exited: ${this.stderr}`));
    return new Promise<Reply>((res, rej) => {
      this.#pending.set(id, (reply) => (reply.ok ? res(reply) : rej(new Error(`${cmd}: ${reply.error}`))));
      this.#child.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    });
  }

  async start(): Promise<number> {
    const reply = await this.call('start');
    if (reply['dht_running'] !== true) throw new Error('libtorrent DHT did not start');
    this.port = reply['port'] as number;
    return this.port;
  }

  close(): void {
    this.#child.stdin?.end();
    setTimeout(() => this.#child.kill('SIGKILL'), 3000).unref();
  }
}
