/**
 * A scripted KRPC client for the loopback tests of `dhtchat bootstrap`: one UDP socket on 127.0.0.x, queries
 * with a chosen id, and a configurable answer to the server's SYN-cookie pings (valid id, invalid id, wrong
 * cookie, wrong source port, late, or silence). Also starts the CLI as a child process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type BDict, decodeBencode, encodeBencode } from '../../src/wire/index.ts';
import { dict } from './server-harness.ts';

export type PongBehaviour = 'valid' | 'silent' | 'wrong-cookie' | 'wrong-port' | 'late';

export interface ClientOptions {
  id: Buffer;
  host?: string;
  pong?: PongBehaviour;
  /** Id used in pongs (default: id). */
  pongId?: Buffer;
  lateMs?: number;
}

export class LoopbackClient {
  readonly socket: dgram.Socket;
  readonly options: ClientOptions;
  pingsReceived = 0;
  #pending = new Map<string, (reply: BDict) => void>();
  #tid = 0;

  private constructor(socket: dgram.Socket, options: ClientOptions) {
    this.socket = socket;
    this.options = options;
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo.address, rinfo.port));
  }

  static async open(options: ClientOptions): Promise<LoopbackClient> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, options.host ?? '127.0.0.1', resolve));
    return new LoopbackClient(socket, options);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sends a query; resolves with the reply or undefined after timeoutMs. */
  query(
    server: { host: string; port: number },
    method: string,
    extra: { ro?: boolean; want?: string[] } = {},
    timeoutMs = 1000,
  ): Promise<BDict | undefined> {
    const tid = Buffer.alloc(2);
    tid.writeUInt16BE(this.#tid++ & 0xffff);
    const a = dict({
      id: this.options.id,
      target: method === 'ping' ? undefined : Buffer.alloc(20, 0x55),
      info_hash: method === 'get_peers' ? Buffer.alloc(20, 0x56) : undefined,
      want: extra.want?.map((w) => Buffer.from(w)),
    });
    const bytes = encodeBencode(
      dict({ a, q: Buffer.from(method), ro: extra.ro ? 1 : undefined, t: tid, y: Buffer.from('q') }),
    );
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(tid.toString('hex'));
        resolve(undefined);
      }, timeoutMs);
      this.#pending.set(tid.toString('hex'), (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.socket.send(bytes, server.port, server.host);
    });
  }

  close(): void {
    this.socket.close();
  }

  #onMessage(msg: Buffer, host: string, port: number): void {
    const decoded = decodeBencode(msg);
    if (!decoded.ok) return;
    const m = decoded.value as BDict;
    const y = (m['y'] as Buffer | undefined)?.toString();
    const tid = m['t'] as Buffer;
    if (y === 'r') {
      this.#pending.get(tid.toString('hex'))?.(m);
      this.#pending.delete(tid.toString('hex'));
      return;
    }
    if (y !== 'q' || (m['q'] as Buffer).toString() !== 'ping') return;
    this.pingsReceived++;
    const behaviour = this.options.pong ?? 'valid';
    if (behaviour === 'silent') return;
    const replyTid =
      behaviour === 'wrong-cookie' ? Buffer.from([tid[0]! ^ 0xff, tid[1]!, tid[2]!, tid[3]!]) : tid;
    const reply = encodeBencode(
      dict({ r: dict({ id: this.options.pongId ?? this.options.id }), t: replyTid, y: Buffer.from('r') }),
    );
    if (behaviour === 'wrong-port') {
      const other = dgram.createSocket('udp4');
      other.bind(0, this.options.host ?? '127.0.0.1', () =>
        other.send(reply, port, host, () => other.close()),
      );
      return;
    }
    const delay = behaviour === 'late' ? (this.options.lateMs ?? 2100) : 0;
    setTimeout(() => {
      try {
        this.socket.send(reply, port, host);
      } catch {
        // closed meanwhile
      }
    }, delay);
  }
}

export interface ServerProcess {
  child: ChildProcess;
  address: { host: string; port: number };
  lines: Array<Record<string, unknown>>;
  /** Resolves with the next stdout JSON line matching the predicate. */
  nextLine(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const ROOT = join(import.meta.dirname, '..', '..');

/** Starts `dhtchat bootstrap args...` and waits for its listening line. */
export async function startServer(args: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'dhtchat.js'), 'bootstrap', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }> = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const w of waiters.splice(0)) {
      if (w.match(line)) w.resolve(line);
      else waiters.push(w);
    }
  });
  const nextLine = (
    match: (l: Record<string, unknown>) => boolean,
    timeoutMs = 20_000,
  ): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a server line')), timeoutMs);
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  const listening = await nextLine((l) => l['event'] === 'listening');
  return {
    child,
    address: { host: '127.0.0.1', port: listening['port'] as number },
    lines,
    nextLine,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
