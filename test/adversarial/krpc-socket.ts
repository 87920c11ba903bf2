/**
 * A raw KRPC socket for the adversarial DHT tests: bound to its own loopback address (outside 127.0.0.0/24, see
 * victim.ts), it sends hand-made queries to the victim and counts every byte each way, so a test can hold the
 * victim to "at most 3× what it received" per source. With answerPings it answers the victim's verification ping
 * (the address then counts as one that proved it receives); without, it stays unverified.
 */
import { createSocket, type Socket } from 'node:dgram';
import { decodeKrpc, encodeKrpc, type KrpcMessage, type KrpcResponse } from '../../src/dht/index.ts';

const REPLY_TIMEOUT_MS = 3_000;

export interface KrpcReply {
  bytes: Buffer;
  message: KrpcMessage;
}

export class KrpcSocket {
  readonly host: string;
  bytesSent = 0;
  bytesReceived = 0;
  readonly #socket: Socket;
  readonly #isAnsweringPings: boolean;
  readonly #waiting = new Map<string, (reply: KrpcReply) => void>();

  private constructor(socket: Socket, host: string, isAnsweringPings: boolean) {
    this.#socket = socket;
    this.host = host;
    this.#isAnsweringPings = isAnsweringPings;
    socket.on('message', (bytes, rinfo) => this.#onMessage(bytes, rinfo.address, rinfo.port));
  }

  static async open(host: string, opts: { answerPings?: boolean } = {}): Promise<KrpcSocket> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve());
    });
    return new KrpcSocket(socket, host, opts.answerPings === true);
  }

  /** Sends raw bytes (a query or garbage) and counts them. */
  sendRaw(bytes: Buffer, port: number): void {
    this.bytesSent += bytes.length;
    this.#socket.send(bytes, port, '127.0.0.1');
  }

  /** Sends bytes whose transaction id is tid and waits for the answer with that tid (undefined: none came). */
  async ask(bytes: Buffer, tid: Buffer, port: number): Promise<KrpcReply | undefined> {
    const key = tid.toString('hex');
    const reply = new Promise<KrpcReply | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        resolve(undefined);
      }, REPLY_TIMEOUT_MS);
      this.#waiting.set(key, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    this.sendRaw(bytes, port);
    return reply;
  }

  close(): void {
    this.#socket.close();
  }

  #onMessage(bytes: Buffer, host: string, port: number): void {
    this.bytesReceived += bytes.length;
    const decoded = decodeKrpc(bytes);
    if (!decoded.ok) return;
    const m = decoded.message;
    if (m.kind === 'query') {
      if (this.#isAnsweringPings && m.method === 'ping') {
        const answer = encodeKrpc({
          kind: 'response',
          tid: m.tid,
          id: Buffer.alloc(20, 0x42),
        } as KrpcResponse);
        this.bytesSent += answer.length;
        this.#socket.send(answer, port, host);
      }
      return;
    }
    const key = m.tid.toString('hex');
    const waiter = this.#waiting.get(key);
    this.#waiting.delete(key);
    waiter?.({ bytes, message: m });
  }
}
