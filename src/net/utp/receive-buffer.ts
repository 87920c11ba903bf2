/**
 * The receiving half of a connection: the cumulative ack (ack_nr), the reorder buffer for packets that arrived
 * early, the in-order bytes the application has not read yet, and the end of stream (eof_pkt, from ST_FIN).
 *
 * Its one rule: nothing a remote sends can make it hold more than capacityBytes, the receive window we
 * advertise (wnd_size). A packet that does not fit, or lies further ahead than the reorder limit, is refused
 * and the sender will resend it once the window opens.
 */
import { seqAdd, seqDiff } from './header.ts';

export type AcceptResult = 'in-order' | 'out-of-order' | 'duplicate' | 'refused';

export class ReceiveBuffer {
  readonly capacityBytes: number;
  readonly maxAheadPackets: number;
  /** The last sequence number received in order. */
  ackNr = 0;
  /** eof_pkt: the sequence number of the peer's ST_FIN, once seen. */
  eofSeq: number | undefined;
  readonly #reorder = new Map<number, Buffer>();
  #reorderBytes = 0;
  #readable: Buffer[] = [];
  #readableHead = 0;
  #readableBytes = 0;

  constructor(capacityBytes: number, maxAheadPackets: number) {
    this.capacityBytes = capacityBytes;
    this.maxAheadPackets = maxAheadPackets;
  }

  /** wnd_size: bytes we can still take. */
  get windowBytes(): number {
    return Math.max(0, this.capacityBytes - this.#reorderBytes - this.#readableBytes);
  }

  get bufferedBytes(): number {
    return this.#reorderBytes + this.#readableBytes;
  }

  get readableBytes(): number {
    return this.#readableBytes;
  }

  /** The out-of-order packets held (for the selective ACK). */
  get reordered(): ReadonlyMap<number, Buffer> {
    return this.#reorder;
  }

  /** True once every packet up to and including the peer's FIN has arrived. */
  get isEofReached(): boolean {
    return this.eofSeq !== undefined && this.ackNr === this.eofSeq;
  }

  /** Takes one ST_DATA payload (or, with isFin, the ST_FIN marker, which carries no bytes). */
  accept(seq: number, payload: Buffer, isFin: boolean): AcceptResult {
    const ahead = seqDiff(seq, this.ackNr);
    if (ahead <= 0) return 'duplicate';
    if (ahead > this.maxAheadPackets) return 'refused';
    if (this.eofSeq !== undefined && seqDiff(seq, this.eofSeq) > 0) return 'refused';
    if (isFin) {
      if (this.eofSeq === undefined) this.eofSeq = seq;
      else if (this.eofSeq !== seq) return 'refused';
    } else if (this.eofSeq === seq) {
      return 'refused';
    }
    if (ahead > 1) {
      if (this.#reorder.has(seq)) return 'duplicate';
      if (payload.length > this.windowBytes) return 'refused';
      this.#reorder.set(seq, payload);
      this.#reorderBytes += payload.length;
      return 'out-of-order';
    }
    if (payload.length > this.windowBytes) return 'refused';
    this.#deliver(seq, payload);
    // Drain whatever the reorder buffer now continues.
    for (;;) {
      const next = seqAdd(this.ackNr, 1);
      if (this.eofSeq === next) {
        this.ackNr = next;
        break;
      }
      const held = this.#reorder.get(next);
      if (held === undefined) break;
      this.#reorder.delete(next);
      this.#reorderBytes -= held.length;
      this.#deliver(next, held);
    }
    return 'in-order';
  }

  /** Takes up to maxBytes of in-order data, or undefined when none is waiting. */
  read(maxBytes = Number.POSITIVE_INFINITY): Buffer | undefined {
    const chunk = this.#readable[this.#readableHead];
    if (chunk === undefined) return undefined;
    if (chunk.length > maxBytes) {
      this.#readable[this.#readableHead] = chunk.subarray(maxBytes);
      this.#readableBytes -= maxBytes;
      return chunk.subarray(0, maxBytes);
    }
    this.#readable[this.#readableHead] = Buffer.alloc(0);
    this.#readableHead++;
    if (this.#readableHead > 1024 && this.#readableHead * 2 > this.#readable.length) {
      this.#readable = this.#readable.slice(this.#readableHead);
      this.#readableHead = 0;
    }
    this.#readableBytes -= chunk.length;
    return chunk;
  }

  #deliver(seq: number, payload: Buffer): void {
    this.ackNr = seq;
    if (payload.length === 0) return;
    this.#readable.push(payload);
    this.#readableBytes += payload.length;
  }
}
