/**
 * The sending half of a connection: cutting packets from the write queue as the window allows (BEP 29:
 * cur_window + packet_size <= min(max_window, wnd_size)), processing acks and selective acks, fast retransmit
 * (3 duplicate acks, or 3 packets selectively acked past a hole), the retransmission timer with backoff, our FIN,
 * and the decision that a silent peer is dead. Packets leave through `emit`, which the connection completes with
 * the receive side's fields (ack_nr, wnd_size, reply_micro).
 */
import { CongestionController } from './congestion/controller.ts';
import type { UtpConfig } from './config.ts';
import type { Deadlines } from './deadlines.ts';
import type { ConnectionStats, UtpEvent } from './events.ts';
import {
  DUP_ACK_LIMIT,
  HEADER_BYTES,
  MAX_DATA_HEADER_BYTES,
  PacketType,
  seqAdd,
  seqDiff,
  type UtpPacket,
} from './header.ts';
import { forEachSacked, lostBySack } from './sack.ts';
import { SendQueue } from './send-queue.ts';
import { type OutPacket, SendWindow } from './send-window.ts';

/** Resends of our FIN after the peer's FIN (libtorrent's utp_fin_resends is 2). */
const FIN_RESENDS = 2;

/** headroomBytes: free bytes just before the payload, in its buffer (see encodePacket). */
export type Emit = (
  type: PacketType,
  seqNr: number,
  nowMs: number,
  payload: Buffer,
  headroomBytes: number,
) => void;
export type TimeoutOutcome = 'alive' | 'dead' | 'gave-up-fin';

export interface SenderContext {
  config: UtpConfig;
  deadlines: Deadlines;
  stats: ConnectionStats;
  events: UtpEvent[];
  emit: Emit;
}

export class Sender {
  readonly window: SendWindow;
  readonly congestion: CongestionController;
  readonly queue = new SendQueue();
  /** wnd_size from the peer's last packet. */
  peerWindowBytes: number;
  readonly #ctx: SenderContext;
  #maxPayload: number;
  #isEndRequested = false;
  #finSeq: number | undefined;
  #dupAcks = 0;
  #consecutiveTimeouts = 0;
  #isProbeAllowed = false;
  #isDrainWanted = false;

  constructor(ctx: SenderContext, initialSeq: number) {
    this.#ctx = ctx;
    this.#maxPayload = ctx.config.maxPacketBytes - HEADER_BYTES;
    this.window = new SendWindow(initialSeq);
    this.congestion = new CongestionController(ctx.config, initialSeq);
    this.peerWindowBytes = ctx.config.maxPacketBytes;
  }

  get maxPacketBytes(): number {
    return this.#maxPayload + HEADER_BYTES;
  }

  /** Packets cut from now on may be this big (header included); packets already cut keep their size. */
  set maxPacketBytes(bytes: number) {
    this.#maxPayload = bytes - HEADER_BYTES;
    this.congestion.maxPacketBytes = bytes;
  }

  get isEndRequested(): boolean {
    return this.#isEndRequested;
  }

  /** Our FIN was sent and acknowledged. */
  get isFinAcked(): boolean {
    return this.#finSeq !== undefined && !this.window.has(this.#finSeq);
  }

  write(bytes: Uint8Array, isOwned = false): void {
    this.queue.push(bytes, isOwned);
    if (this.queue.bytes >= this.#ctx.config.sendBufferBytes) this.#isDrainWanted = true;
  }

  end(): void {
    this.#isEndRequested = true;
  }

  sendSyn(nowMs: number): void {
    this.#sendNew(PacketType.ST_SYN, Buffer.alloc(0), nowMs);
  }

  /** The ack fields of a valid packet from the peer (cumulative, selective, duplicate). */
  onPacket(p: UtpPacket, nowMs: number): void {
    const send = this.window;
    this.#consecutiveTimeouts = 0;
    this.peerWindowBytes = p.wndSize;
    const inFlightBefore = send.inFlightBytes;
    const advance = seqDiff(p.ackNr, send.ackedSeq);
    let ackedBytes = send.ackThrough(p.ackNr, nowMs);
    if (advance > 0) {
      this.#dupAcks = 0;
      this.#isProbeAllowed = false;
    } else if (advance === 0 && p.type === PacketType.ST_STATE && send.size > 0 && p.sack === undefined) {
      this.#dupAcks++;
    }
    let lost: number[] = [];
    if (p.sack !== undefined && advance >= 0) {
      forEachSacked(p.ackNr, p.sack, (seq) => {
        ackedBytes += send.ackOne(seq, nowMs);
      });
      lost = lostBySack(p.ackNr, p.sack);
    }
    if (this.#dupAcks >= DUP_ACK_LIMIT) {
      lost.push(seqAdd(send.ackedSeq, 1));
      this.#dupAcks = 0;
    }
    this.congestion.onAck(ackedBytes, inFlightBefore, p.timestampDiffUs, send.takeRttSample(), nowMs);
    for (const seq of lost) this.#fastResend(seq, nowMs);
    if (ackedBytes > 0 || advance > 0) this.#armRetransmit(nowMs);
  }

  /** Sends what the window allows: marked resends first, then new data, then our FIN. True if any went out. */
  flush(nowMs: number): boolean {
    let didSend = false;
    for (const packet of this.window.lostPackets()) {
      if (!this.#canSend(packet.payload.length)) break;
      this.window.markResent(packet);
      this.#ctx.stats.retransmits++;
      this.#transmit(packet, nowMs);
      didSend = true;
    }
    while (this.queue.bytes > 0 && this.#hasSeqRoom()) {
      const size = Math.min(this.#maxPayload, this.queue.bytes);
      if (!this.#canSend(size)) break;
      this.#sendNew(PacketType.ST_DATA, this.queue.takeWithHeadroom(size, MAX_DATA_HEADER_BYTES), nowMs);
      didSend = true;
    }
    if (this.#isDrainWanted && this.queue.bytes < this.#ctx.config.sendBufferBytes) {
      this.#isDrainWanted = false;
      this.#ctx.events.push({ type: 'drain' });
    }
    if (this.#isEndRequested && this.#finSeq === undefined && this.queue.bytes === 0 && this.#hasSeqRoom()) {
      this.#finSeq = this.window.seqNr;
      this.#sendNew(PacketType.ST_FIN, Buffer.alloc(0), nowMs);
      didSend = true;
    }
    return didSend;
  }

  /**
   * The retransmission timer fired. isPeerFinished: the peer's FIN is in. 'dead' when data has been outstanding
   * with nothing heard for peerTimeoutMs; 'gave-up-fin' when only our FIN to a finished peer goes unanswered
   * (libtorrent forgets a connection once its own FIN is acked, so that is a clean end).
   */
  onTimeout(nowMs: number, lastHeardMs: number, isPeerFinished: boolean, isSynSent: boolean): TimeoutOutcome {
    const { deadlines, stats, config } = this.#ctx;
    deadlines.disarm('retransmit');
    if (this.window.size === 0 && this.queue.bytes === 0) return 'alive';
    this.#consecutiveTimeouts++;
    stats.timeouts++;
    if (this.#finSeq !== undefined && isPeerFinished && this.#consecutiveTimeouts > FIN_RESENDS)
      return 'gave-up-fin';
    const isSilent = nowMs - lastHeardMs >= config.peerTimeoutMs;
    if (this.window.size > 0 && isSilent && this.#consecutiveTimeouts >= 2) return 'dead';
    if (isSynSent) {
      // SYNs are resent at a steady pace (no RTT yet to back off from) until the connect timeout.
      const syn = this.window.get(seqAdd(this.window.ackedSeq, 1));
      if (syn !== undefined) this.#transmit(syn, nowMs);
      deadlines.arm('retransmit', nowMs + this.congestion.timeoutMs(0));
      return 'alive';
    }
    // Everything outstanding is presumed lost and resent in order, as the (now small) window allows.
    this.congestion.onTimeout(this.window.seqNr);
    this.window.markAllLost(nowMs);
    this.#isProbeAllowed = true;
    deadlines.arm('retransmit', nowMs + this.congestion.timeoutMs(this.#consecutiveTimeouts));
    // A FIN (no payload) has no window cost: resend it at once if it is the oldest.
    const oldest = this.window.get(seqAdd(this.window.ackedSeq, 1));
    if (oldest !== undefined && oldest.payload.length === 0) {
      this.window.markResent(oldest);
      stats.retransmits++;
      this.#transmit(oldest, nowMs);
    }
    return 'alive';
  }

  #fastResend(seq: number, nowMs: number): void {
    const packet = this.window.get(seq);
    // Each packet is fast-resent at most once per RTT; a lost resend is the timer's job.
    if (packet === undefined || nowMs - packet.sentAtMs < Math.max(this.congestion.rttMs, 1)) return;
    this.congestion.onLoss(seq, this.window.seqNr);
    this.window.markResent(packet);
    this.#ctx.stats.fastRetransmits++;
    this.#transmit(packet, nowMs);
  }

  #hasSeqRoom(): boolean {
    return this.window.outstandingCount < this.#ctx.config.maxPacketsInFlight;
  }

  /** One packet may go when none is in flight (BEP 29), unless the peer's window is closed (then: a probe). */
  #canSend(bytes: number): boolean {
    const limit = Math.min(this.congestion.windowBytes, this.peerWindowBytes);
    const inFlight = this.window.inFlightBytes;
    if (inFlight + bytes <= limit) return true;
    if (inFlight > 0) return false;
    return this.peerWindowBytes >= bytes || this.#isProbeAllowed;
  }

  #sendNew(type: PacketType, payload: Buffer, nowMs: number): void {
    if (this.window.size === 0) this.#ctx.deadlines.arm('retransmit', nowMs + this.congestion.timeoutMs(0));
    this.#transmit(this.window.push(type, payload, nowMs), nowMs);
  }

  #transmit(packet: OutPacket, nowMs: number): void {
    packet.sentAtMs = nowMs;
    packet.transmissions++;
    // Data payloads come with headroom; only the first transmission writes its header there: an earlier
    // datagram may still be queued in a transport that sends from our buffer (node:dgram) and must not change.
    const headroomBytes =
      packet.type === PacketType.ST_DATA && packet.transmissions === 1 ? MAX_DATA_HEADER_BYTES : 0;
    this.#ctx.emit(packet.type, packet.seq, nowMs, packet.payload, headroomBytes);
  }

  #armRetransmit(nowMs: number): void {
    const isBlocked = this.queue.bytes > 0 && this.window.inFlightBytes === 0;
    const isNeeded = this.window.size > 0 || isBlocked;
    const atMs = isNeeded ? nowMs + this.congestion.timeoutMs(this.#consecutiveTimeouts) : Infinity;
    this.#ctx.deadlines.arm('retransmit', atMs);
  }
}
