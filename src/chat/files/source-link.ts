/**
 * The receiver's end of one file stream: asks a source for a transfer, then for hash-list ranges and pieces,
 * and hands on only what fits what it asked (download.ts decides what a piece is worth). A frame a source has
 * no business sending — a second `opened`, hashes not asked for, a request frame — drops the stream
 * (RefuseReason.protocol). Pieces are checked against what is in flight by the download's scheduler.
 */
import { type FileFrame, RefuseReason } from './file-frames.ts';
import type { FileStream, FileStreamCloseReason } from './file-stream.ts';

export interface SourceInfo {
  readonly sizeBytes: number;
  readonly pieceBytes: number;
  readonly root: Buffer;
  /** The pieces it holds, as its `have` said (a bitfield's bytes, unchecked); undefined: all of them. */
  readonly has: Buffer | undefined;
}

export interface SourceLinkHandlers {
  onOpened(link: SourceLink, info: SourceInfo): void;
  onHashes(link: SourceLink, first: number, hashes: Buffer): void;
  onPiece(link: SourceLink, index: number, data: Buffer): void;
  onClose(link: SourceLink, reason: FileStreamCloseReason): void;
}

export class SourceLink {
  /** The source's key (hex): a peer is one source of a transfer, whichever stream it comes over. */
  readonly sourceId: string;
  readonly #stream: FileStream;
  readonly #transferId: Buffer;
  #handlers: SourceLinkHandlers | undefined;
  #isOpened = false;
  #hashRequest: { first: number; count: number } | undefined;
  #has: Buffer | undefined;

  constructor(stream: FileStream, transferId: Buffer) {
    this.#stream = stream;
    this.#transferId = transferId;
    this.sourceId = stream.peer.toString('hex');
  }

  get isOpen(): boolean {
    return this.#stream.isOpen;
  }

  get peer(): Buffer {
    return this.#stream.peer;
  }

  /** The source said it serves the transfer (`opened`). */
  get isServing(): boolean {
    return this.#isOpened;
  }

  /** Asks the source for the transfer; events go to handlers from now on. */
  start(handlers: SourceLinkHandlers): void {
    this.#handlers = handlers;
    this.#stream.start({
      onFrame: (frame) => this.#onFrame(frame),
      onClose: (reason) => handlers.onClose(this, reason),
    });
    this.#stream.send({ type: 'open', transferId: this.#transferId });
  }

  requestHashes(first: number, count: number): void {
    this.#hashRequest = { first, count };
    this.#stream.send({ type: 'get-hashes', first, count });
  }

  requestPiece(index: number): void {
    this.#stream.send({ type: 'get-piece', index });
  }

  /** Every piece is verified: tells the source, then ends the stream. */
  finish(): void {
    this.#stream.send({ type: 'done' });
    this.#stream.end();
  }

  drop(reason: RefuseReason): void {
    this.#stream.refuse(reason);
  }

  close(): void {
    this.#stream.close();
  }

  #onFrame(frame: FileFrame): void {
    const handlers = this.#handlers;
    if (handlers === undefined) return;
    switch (frame.type) {
      case 'opened':
        if (this.#isOpened) break;
        this.#isOpened = true;
        handlers.onOpened(this, {
          sizeBytes: frame.sizeBytes,
          pieceBytes: frame.pieceBytes,
          root: frame.root,
          has: this.#has,
        });
        return;
      case 'have':
        // Once, before `opened`: what a member still downloading the file can serve.
        if (this.#isOpened || this.#has !== undefined) break;
        this.#has = frame.bitfield;
        return;
      case 'hashes': {
        const asked = this.#hashRequest;
        const count = frame.hashes.length / 32;
        if (!this.#isOpened || asked === undefined || frame.first !== asked.first || count !== asked.count)
          break;
        this.#hashRequest = undefined;
        handlers.onHashes(this, frame.first, frame.hashes);
        return;
      }
      case 'piece':
        if (!this.#isOpened) break;
        handlers.onPiece(this, frame.index, frame.data);
        return;
      default:
        break;
    }
    this.drop(RefuseReason.protocol);
  }
}
