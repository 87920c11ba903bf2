/**
 * The receiving half of a connection and its ack policy: the receive buffer, the delay sample we echo
 * (reply_micro, sent back as timestamp_difference_microseconds), and when an ack is owed and how urgently.
 *
 * Acks: in-order data may wait (ackEveryPackets, or delayedAckMs, or a data packet of ours carrying ack_nr);
 * out-of-order, duplicate and refused packets, a filled hole and the FIN are acked at once, with a selective ACK
 * when we hold packets past a gap, because the sender's fast retransmit depends on hearing about them.
 */
import type { ConnectionStats } from './events.ts';
import { microsDiff, PacketType, timestampMicros, type UtpPacket } from './header.ts';
import { ReceiveBuffer } from './receive-buffer.ts';
import { buildSack } from './sack.ts';

export type AckDecision = 'none' | 'piggybacked' | 'now' | 'later';

export class Receiver {
  readonly buffer: ReceiveBuffer;
  /** reply_micro: our clock minus the timestamp of the peer's last packet. */
  replyMicro = 0;
  readonly #ackEveryPackets: number;
  #ackOwedPackets = 0;
  #isAckUrgent = false;
  #lastAdvertisedBytes = 0;
  #isEndReported = false;

  constructor(capacityBytes: number, maxAheadPackets: number, ackEveryPackets: number) {
    this.buffer = new ReceiveBuffer(capacityBytes, maxAheadPackets);
    this.#ackEveryPackets = ackEveryPackets;
  }

  get ackNr(): number {
    return this.buffer.ackNr;
  }

  get isAckOwed(): boolean {
    return this.#ackOwedPackets > 0;
  }

  onTimestamp(timestampUs: number, nowMs: number): void {
    if (timestampUs !== 0) this.replyMicro = microsDiff(timestampMicros(nowMs), timestampUs) >>> 0;
  }

  /** Takes an ST_DATA or ST_FIN; returns true if new in-order bytes became readable. */
  accept(p: UtpPacket, stats: ConnectionStats): boolean {
    if (p.type === PacketType.ST_DATA && p.payload.length === 0) {
      stats.invalidPackets++;
      return false;
    }
    const isFin = p.type === PacketType.ST_FIN;
    const result = this.buffer.accept(p.seqNr, p.payload, isFin);
    this.#ackOwedPackets++;
    if (result === 'in-order') {
      // A hole just filled, or the FIN: ack now so the sender's view is exact.
      if (this.buffer.reordered.size > 0 || isFin || this.buffer.isEofReached) this.#isAckUrgent = true;
      return this.buffer.readableBytes > 0;
    }
    if (result === 'duplicate') stats.duplicatePackets++;
    if (result === 'refused') stats.refusedPackets++;
    this.#isAckUrgent = true;
    return false;
  }

  /** Reads in-order bytes; when that reopens a window the peer may have stopped on, an ack becomes urgent. */
  read(maxBytes: number | undefined): Buffer | undefined {
    const chunk = this.buffer.read(maxBytes);
    const capacity = this.buffer.capacityBytes;
    if (
      chunk !== undefined &&
      this.#lastAdvertisedBytes < capacity / 4 &&
      this.buffer.windowBytes >= capacity / 2
    ) {
      this.#isAckUrgent = true;
      this.#ackOwedPackets++;
    }
    return chunk;
  }

  /** Makes an ack owed and urgent (an ST_STATE goes out on the next flush unless data carries it). */
  owe(): void {
    this.#ackOwedPackets++;
    this.#isAckUrgent = true;
  }

  /** True exactly once: when the peer's FIN is in and every byte before it has been read. */
  takeEnd(): boolean {
    if (this.#isEndReported || !this.buffer.isEofReached || this.buffer.readableBytes > 0) return false;
    this.#isEndReported = true;
    return true;
  }

  /** What to do about the owed ack, given whether a data packet of ours (carrying ack_nr) just went out. */
  decide(didSendData: boolean): AckDecision {
    if (this.#ackOwedPackets === 0) return 'none';
    // Data packets carry ack_nr but no selective ACK, so a receiver holding a gap still sends ST_STATE.
    if (didSendData && this.buffer.reordered.size === 0) return 'piggybacked';
    if (this.#isAckUrgent || this.#ackOwedPackets >= this.#ackEveryPackets) return 'now';
    return 'later';
  }

  clearAck(): void {
    this.#ackOwedPackets = 0;
    this.#isAckUrgent = false;
  }

  /** wnd_size for an outgoing packet (remembered, to know when a reopened window is worth an ack). */
  advertise(): number {
    this.#lastAdvertisedBytes = this.buffer.windowBytes;
    return this.#lastAdvertisedBytes;
  }

  sack(): Buffer | undefined {
    return buildSack(this.buffer.ackNr, this.buffer.reordered, this.buffer.maxAheadPackets);
  }
}
