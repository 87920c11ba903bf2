/**
 * The sending half's bookkeeping: packets sent and not yet acknowledged (BEP 29's cur_window is the sum of
 * their payloads), seq_nr (the next number to use) and the highest cumulative ack. Timeouts mark packets lost,
 * which takes them out of flight until they are resent. RTT samples follow Karn's rule.
 */
import { type PacketType, seqAdd, seqDiff } from './header.ts';

export interface OutPacket {
  readonly seq: number;
  readonly type: PacketType;
  readonly payload: Buffer;
  sentAtMs: number;
  transmissions: number;
  /** Marked by a timeout: not counted in flight until resent. */
  isNeedResend: boolean;
}

export class SendWindow {
  /** seq_nr: the sequence number of the next packet. */
  seqNr: number;
  /** The last packet acked cumulatively (everything up to it is acknowledged). */
  ackedSeq: number;
  /** cur_window: payload bytes sent, not acked, not presumed lost. */
  inFlightBytes = 0;
  #needResendCount = 0;
  readonly #packets = new Map<number, OutPacket>();
  #lastTimeoutMs = Number.NEGATIVE_INFINITY;
  #rttSampleMs = Number.POSITIVE_INFINITY;

  constructor(initialSeq: number) {
    this.seqNr = initialSeq;
    this.ackedSeq = seqAdd(initialSeq, -1);
  }

  get size(): number {
    return this.#packets.size;
  }

  /** Packets between the cumulative ack and seq_nr (acked selectively or not). */
  get outstandingCount(): number {
    return seqDiff(this.seqNr, this.ackedSeq) - 1;
  }

  get(seq: number): OutPacket | undefined {
    return this.#packets.get(seq);
  }

  has(seq: number): boolean {
    return this.#packets.has(seq);
  }

  /** Assigns the next sequence number to a new packet; the caller transmits it. */
  push(type: PacketType, payload: Buffer, nowMs: number): OutPacket {
    const packet: OutPacket = {
      seq: this.seqNr,
      type,
      payload,
      sentAtMs: nowMs,
      transmissions: 0,
      isNeedResend: false,
    };
    this.seqNr = seqAdd(this.seqNr, 1);
    this.#packets.set(packet.seq, packet);
    this.inFlightBytes += payload.length;
    return packet;
  }

  /** A cumulative ack up to ackNr; returns the payload bytes it newly acknowledged. */
  ackThrough(ackNr: number, nowMs: number): number {
    let bytes = 0;
    const advance = seqDiff(ackNr, this.ackedSeq);
    for (let i = 1; i <= advance; i++) bytes += this.ackOne(seqAdd(this.ackedSeq, i), nowMs);
    if (advance > 0) this.ackedSeq = ackNr;
    return bytes;
  }

  /** Acknowledges one packet (cumulatively or selectively); returns its payload bytes, 0 if not outstanding. */
  ackOne(seq: number, nowMs: number): number {
    const packet = this.#packets.get(seq);
    if (packet === undefined) return 0;
    this.#packets.delete(seq);
    if (packet.isNeedResend) this.#needResendCount--;
    else this.inFlightBytes -= packet.payload.length;
    // Karn: never sample a resent packet, nor one sent before the last timeout (its acks may have been lost).
    if (packet.transmissions === 1 && packet.sentAtMs >= this.#lastTimeoutMs) {
      this.#rttSampleMs = Math.min(this.#rttSampleMs, nowMs - packet.sentAtMs);
    }
    return packet.payload.length;
  }

  /**
   * The RTT sample of the acks processed since the last call: the freshest packet acknowledged. Older packets an
   * ack also covers may have waited behind lost acks and would inflate the estimate far past the real RTT.
   */
  takeRttSample(): number | undefined {
    const sample = this.#rttSampleMs;
    this.#rttSampleMs = Number.POSITIVE_INFINITY;
    return sample === Number.POSITIVE_INFINITY ? undefined : sample;
  }

  /** The retransmission timer fired: every outstanding packet is presumed lost. */
  markAllLost(nowMs: number): void {
    this.#lastTimeoutMs = nowMs;
    for (const packet of this.#packets.values()) {
      if (packet.isNeedResend) continue;
      this.inFlightBytes -= packet.payload.length;
      packet.isNeedResend = true;
      this.#needResendCount++;
    }
  }

  /** Puts a packet back in flight before it is resent. */
  markResent(packet: OutPacket): void {
    if (!packet.isNeedResend) return;
    packet.isNeedResend = false;
    this.#needResendCount--;
    this.inFlightBytes += packet.payload.length;
  }

  /** The packets a timeout marked, oldest first. */
  *lostPackets(): Generator<OutPacket> {
    const outstanding = this.outstandingCount;
    for (let i = 1; i <= outstanding && this.#needResendCount > 0; i++) {
      const packet = this.#packets.get(seqAdd(this.ackedSeq, i));
      if (packet?.isNeedResend) yield packet;
    }
  }
}
