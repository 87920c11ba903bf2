/**
 * Two connected in-process Duplexes (Node 20 has no stream.duplexPair): what one writes, the other reads,
 * through a PassThrough per direction. An optional hook sees each chunk written by `a` and returns what `b`
 * receives instead (to tamper, drop, replay or reorder). a.end() ends b's readable side, and vice versa.
 */
import { Duplex, PassThrough } from 'node:stream';

export type ChunkHook = (chunk: Buffer) => Buffer[];

class PipeEnd extends Duplex {
  readonly #incoming: PassThrough;
  readonly #outgoing: PassThrough;
  readonly #hook: ChunkHook | undefined;

  constructor(incoming: PassThrough, outgoing: PassThrough, hook?: ChunkHook) {
    super({ allowHalfOpen: true });
    this.#incoming = incoming;
    this.#outgoing = outgoing;
    this.#hook = hook;
    incoming.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) incoming.pause();
    });
    incoming.on('end', () => this.push(null));
    this.on('close', () => incoming.removeAllListeners('data'));
  }

  override _read(): void {
    this.#incoming.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const chunks = this.#hook === undefined ? [chunk] : this.#hook(chunk);
    for (const c of chunks) this.#outgoing.write(c);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#outgoing.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A vanished peer: the other side's readable just ends, as when a transport is cut without a goodbye.
    if (!this.#outgoing.writableEnded) this.#outgoing.end();
    callback(error);
  }
}

export function createDuplexPair(opts: { hookAtoB?: ChunkHook } = {}): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  return [new PipeEnd(bToA, aToB, opts.hookAtoB), new PipeEnd(aToB, bToA)];
}
