/**
 * One uTP connection (BEP 29) as a pure state machine, after quinn-proto: it never touches a socket or a clock.
 *
 *   getters   state, recvId, sendId, errorCode, windowBytes, sendQueueBytes, stats, ...
 *   handle    handlePacket(packet, nowMs) · handleTimeout(nowMs)
 *   commands  write(bytes) · read(maxBytes) · end() · reset()
 *   poll      pollTransmit() · pollTimeout() · pollEvent()
 *
 * The one rule: after any handle or command, drain the polls (the endpoint does). Timers live in one named
 * deadline table (deadlines.ts), armed by the events that need them. Remote input never throws: a bad packet is
 * dropped and counted. The sending half is sender.ts, the receiving half receiver.ts; this file is the
 * lifecycle (SYN, established, FIN, reset, close) and the ladder every incoming packet goes down.
 */
import type { UtpConfig } from './config.ts';
import { Deadlines } from './deadlines.ts';
import { UtpErrorCode } from './errors.ts';
import { type ConnectionStats, newConnectionStats, type UtpEvent } from './events.ts';
import {
  encodePacket,
  PacketType,
  SEQ_MASK,
  seqAdd,
  seqDiff,
  timestampMicros,
  type UtpPacket,
} from './header.ts';
import { Receiver } from './receiver.ts';
import { Sender } from './sender.ts';

export type { ConnectionStats, UtpEvent } from './events.ts';
export type ConnectionState = 'syn-sent' | 'connected' | 'closed';

/** What an acceptor knows of the initiator's SYN when it creates the connection (see UtpConnection.accept). */
export interface AcceptedSyn {
  /** The SYN's connection_id (the initiator's receive id). */
  readonly connectionId: number;
  /** The SYN's seq_nr. */
  readonly seqNr: number;
  readonly wndSize: number;
  /** The initiator's EXTENSION_DHTCHAT_PACKET_SIZE offer, repeated after the SYN-ACK (see #isRepeatingOffer). */
  readonly largePacketBytes?: number | undefined;
}

export class UtpConnection {
  readonly recvId: number;
  readonly sendId: number;
  readonly stats: ConnectionStats = newConnectionStats();
  readonly #config: UtpConfig;
  readonly #deadlines = new Deadlines();
  readonly #sender: Sender;
  readonly #recv: Receiver;
  #state: ConnectionState = 'syn-sent';
  #errorCode: UtpErrorCode | undefined;
  #lastHeardMs: number;
  #lastSentMs: number;
  #isFinAckReported = false;
  /** The datagram size we offer a dhtchat peer (0: none); see UtpConfig.localPacketBytes. */
  #offerPacketBytes = 0;
  /**
   * Initiator: our packets repeat the offer until the acceptor acks our data, because a dhtchat acceptor keeps
   * no state for a SYN (SYN cookies) and learns our offer from the packet that proves us (or its resend).
   */
  #isRepeatingOffer = false;
  /** The first of our packets that carries data; the peer acking it is what hasPeerAckedData reports. */
  #firstDataSeq: number;
  readonly #transmits: Buffer[] = [];
  readonly #events: UtpEvent[] = [];

  private constructor(config: UtpConfig, recvId: number, sendId: number, initialSeq: number, nowMs: number) {
    this.#config = config;
    this.recvId = recvId & 0xffff;
    this.sendId = sendId & 0xffff;
    this.#sender = new Sender(
      {
        config,
        deadlines: this.#deadlines,
        stats: this.stats,
        events: this.#events,
        emit: (type, seqNr, atMs, payload, headroomBytes) =>
          this.#emitPacket(type, seqNr, atMs, payload, undefined, headroomBytes),
      },
      initialSeq & SEQ_MASK,
    );
    const maxAheadPackets = Math.min(config.maxPacketsInFlight * 2, 4096);
    this.#recv = new Receiver(config.recvBufferBytes, maxAheadPackets, config.ackEveryPackets);
    this.#lastHeardMs = nowMs;
    this.#lastSentMs = nowMs;
    this.#firstDataSeq = seqAdd(initialSeq, 1);
  }

  /**
   * Opens a connection: sends ST_SYN with connection_id = recvId; everything after uses recvId + 1.
   * offerPacketBytes > 0 offers bigger datagrams to a dhtchat peer (the driver only does so on loopback).
   */
  static connect(
    config: UtpConfig,
    recvId: number,
    initialSeq: number,
    nowMs: number,
    offerPacketBytes = 0,
  ): UtpConnection {
    const c = new UtpConnection(config, recvId, recvId + 1, initialSeq, nowMs);
    c.#offerPacketBytes = offerPacketBytes;
    c.#deadlines.arm('connect', nowMs + config.connectTimeoutMs);
    c.#sender.sendSyn(nowMs);
    return c;
  }

  /**
   * The acceptor's side, created once the initiator has proved it receives at its address: our SYN-ACK (an
   * ST_STATE with seq_nr = initialSeq, a SYN cookie) went out statelessly (endpoint.ts, syn-cookie.ts) and the
   * initiator's next packet acked it. recv id = the SYN's connection_id + 1, send id = its connection_id. The
   * driver then hands that packet to handlePacket as the connection's first.
   */
  static accept(
    config: UtpConfig,
    syn: AcceptedSyn,
    initialSeq: number,
    nowMs: number,
    offerPacketBytes = 0,
  ): UtpConnection {
    const c = new UtpConnection(config, syn.connectionId + 1, syn.connectionId, initialSeq, nowMs);
    c.#firstDataSeq = initialSeq & SEQ_MASK;
    if (offerPacketBytes > 0 && syn.largePacketBytes !== undefined) {
      c.#offerPacketBytes = offerPacketBytes;
      c.#agreePacketBytes(syn.largePacketBytes);
    }
    c.#state = 'connected';
    c.#recv.buffer.ackNr = syn.seqNr;
    c.#sender.peerWindowBytes = syn.wndSize;
    c.#deadlines.arm('keepalive', nowMs + config.keepaliveMs);
    c.#events.push({ type: 'connected' });
    return c;
  }

  // ---- getters ----

  get state(): ConnectionState {
    return this.#state;
  }

  get errorCode(): UtpErrorCode | undefined {
    return this.#errorCode;
  }

  get sendQueueBytes(): number {
    return this.#sender.queue.bytes;
  }

  get sendBufferLimitBytes(): number {
    return this.#config.sendBufferBytes;
  }

  /** max_window (LEDBAT) and cur_window (bytes in flight). */
  get windowBytes(): number {
    return this.#sender.congestion.windowBytes;
  }

  get inFlightBytes(): number {
    return this.#sender.window.inFlightBytes;
  }

  get rttMs(): number {
    return this.#sender.congestion.rttMs;
  }

  /** The largest datagram we send (bigger than config.maxPacketBytes once agreed with a local dhtchat peer). */
  get maxPacketBytes(): number {
    return this.#sender.maxPacketBytes;
  }

  get readableBytes(): number {
    return this.#recv.buffer.readableBytes;
  }

  /** Everything held for the application: reordered plus unread (never more than recvBufferBytes). */
  get bufferedReceiveBytes(): number {
    return this.#recv.buffer.bufferedBytes;
  }

  /**
   * The peer acknowledged data we sent: it runs a real stack at its address, past the handshake. The endpoint
   * evicts incoming strangers that have not got this far first (admission.ts).
   */
  get hasPeerAckedData(): boolean {
    return seqDiff(this.#sender.window.ackedSeq, this.#firstDataSeq) >= 0;
  }

  /** True once closed and past its linger: the endpoint may forget the connection id. */
  get isRemovable(): boolean {
    return this.#state === 'closed' && !this.#deadlines.isArmed('linger');
  }

  // ---- commands ----

  /**
   * Queues bytes to send. Never blocks; watch sendQueueBytes and the 'drain' event for backpressure. isOwned:
   * the buffer is handed over (not copied; the caller must not change it afterwards).
   */
  write(bytes: Uint8Array, nowMs: number, isOwned = false): void {
    if (this.#sender.isEndRequested || this.#state === 'closed') return;
    this.#sender.write(bytes, isOwned);
    this.#flush(nowMs);
  }

  /** Takes received in-order bytes (undefined when none wait); reading reopens the receive window. */
  read(nowMs: number, maxBytes?: number): Buffer | undefined {
    const chunk = this.#recv.read(maxBytes);
    if (chunk === undefined) this.#maybeEmitEnd();
    else if (this.#recv.isAckOwed) this.#flush(nowMs);
    return chunk;
  }

  /** Ends our direction: ST_FIN goes out once every queued byte has been sent. */
  end(nowMs: number): void {
    if (this.#sender.isEndRequested || this.#state === 'closed') return;
    this.#sender.end();
    this.#flush(nowMs);
  }

  /** Aborts: sends ST_RESET (unless the connection never got past SYN) and closes at once. */
  reset(nowMs: number): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'connected') this.#emitPacket(PacketType.ST_RESET, this.#sender.window.seqNr, nowMs);
    this.#close(undefined, nowMs, false);
  }

  // ---- polls ----

  pollTransmit(): Buffer | undefined {
    return this.#transmits.shift();
  }

  pollEvent(): UtpEvent | undefined {
    return this.#events.shift();
  }

  /** The earliest armed deadline (ms), or Infinity. */
  pollTimeout(): number {
    return this.#deadlines.next();
  }

  // ---- handle ----

  handleTimeout(nowMs: number): void {
    const d = this.#deadlines;
    if (d.isDue('linger', nowMs)) {
      d.disarm('linger');
      return;
    }
    if (this.#state === 'closed') return;
    if (d.isDue('connect', nowMs)) {
      this.#close(UtpErrorCode.CONNECT_TIMEOUT, nowMs, false);
      return;
    }
    if (d.isDue('finWait', nowMs)) {
      this.#close(undefined, nowMs, true);
      return;
    }
    if (d.isDue('retransmit', nowMs)) {
      const isPeerFinished = this.#recv.buffer.isEofReached;
      const outcome = this.#sender.onTimeout(
        nowMs,
        this.#lastHeardMs,
        isPeerFinished,
        this.#state === 'syn-sent',
      );
      if (outcome !== 'alive') {
        this.#close(outcome === 'dead' ? UtpErrorCode.TIMEOUT : undefined, nowMs, outcome === 'gave-up-fin');
        return;
      }
    }
    if (d.isDue('delayedAck', nowMs)) {
      d.disarm('delayedAck');
      if (this.#recv.isAckOwed) this.#sendState(nowMs);
    }
    if (d.isDue('keepalive', nowMs)) {
      // An idle connection still sends something every keepaliveMs, to hold NAT mappings open.
      if (nowMs - this.#lastSentMs >= this.#config.keepaliveMs && this.#state === 'connected')
        this.#sendState(nowMs);
      d.arm('keepalive', this.#lastSentMs + this.#config.keepaliveMs);
    }
    this.#flush(nowMs);
  }

  handlePacket(p: UtpPacket, nowMs: number): void {
    this.stats.packetsReceived++;
    if (this.#state === 'closed') {
      // TIME_WAIT: the peer may not have seen our ack of its FIN.
      const isFinOrData = p.type === PacketType.ST_FIN || p.type === PacketType.ST_DATA;
      if (this.#deadlines.isArmed('linger') && isFinOrData) this.#sendState(nowMs);
      return;
    }
    if (p.type === PacketType.ST_SYN) {
      // A resent SYN (our ST_STATE was lost): ack it again. Any other SYN on a live id is ignored.
      if (this.#state === 'connected' && p.connectionId === this.sendId && p.seqNr === this.#recv.ackNr) {
        this.#sendState(nowMs);
      } else this.stats.invalidPackets++;
      return;
    }
    // The ack must be for something we sent (a third party could inject packets; don't act on them).
    if (seqDiff(p.ackNr, seqAdd(this.#sender.window.seqNr, -1)) > 0) {
      this.stats.invalidPackets++;
      return;
    }
    if (p.type === PacketType.ST_RESET) {
      const code = this.#state === 'syn-sent' ? UtpErrorCode.CONNECTION_REFUSED : UtpErrorCode.RESET;
      this.#close(code, nowMs, false);
      return;
    }
    if (this.#state === 'syn-sent') {
      // Only the ack of our SYN completes the handshake; its seq_nr is the next the peer will send.
      if (p.ackNr !== seqAdd(this.#sender.window.ackedSeq, 1)) {
        this.stats.invalidPackets++;
        return;
      }
      this.#state = 'connected';
      if (this.#offerPacketBytes > 0 && p.largePacketBytes !== undefined) {
        this.#agreePacketBytes(p.largePacketBytes);
        this.#isRepeatingOffer = true;
      }
      this.#deadlines.disarm('connect');
      this.#recv.buffer.ackNr = seqAdd(p.seqNr, -1);
      this.#deadlines.arm('keepalive', nowMs + this.#config.keepaliveMs);
      this.#events.push({ type: 'connected' });
      // Like TCP's third handshake packet: confirms us to the acceptor even if we have nothing to say yet.
      if (this.#sender.queue.bytes === 0) this.#recv.owe();
    }
    this.#lastHeardMs = nowMs;
    this.#deadlines.disarm('connect');
    this.#recv.onTimestamp(p.timestampUs, nowMs);
    this.#sender.onPacket(p, nowMs);
    if (this.#state !== 'connected') return;
    if (p.type === PacketType.ST_DATA || p.type === PacketType.ST_FIN) {
      if (this.#recv.accept(p, this.stats)) this.#events.push({ type: 'readable' });
      this.#maybeEmitEnd();
    }
    this.#maybeFinish(nowMs);
    this.#flush(nowMs);
  }

  // ---- internals ----

  #maybeEmitEnd(): void {
    if (this.#recv.takeEnd()) this.#events.push({ type: 'end' });
  }

  /** Both FINs exchanged and ours acked: a clean close. Ours acked alone: wait a while for theirs. */
  #maybeFinish(nowMs: number): void {
    if (!this.#sender.isFinAcked) return;
    if (!this.#isFinAckReported) {
      this.#isFinAckReported = true;
      this.#events.push({ type: 'finAcked' });
    }
    if (this.#recv.buffer.isEofReached) this.#close(undefined, nowMs, true);
    else this.#deadlines.armIfIdle('finWait', nowMs + this.#config.finWaitMs);
  }

  /** Sends what the window allows, then settles the owed ack (piggybacked, now, or after delayedAckMs). */
  #flush(nowMs: number): void {
    if (this.#state !== 'connected') return;
    const didSendData = this.#sender.flush(nowMs);
    const ack = this.#recv.decide(didSendData);
    if (ack === 'piggybacked') this.#clearAck();
    else if (ack === 'now') this.#sendState(nowMs);
    else if (ack === 'later') this.#deadlines.armIfIdle('delayedAck', nowMs + this.#config.delayedAckMs);
  }

  /** ST_STATE: an ack (with a selective ACK when we hold out-of-order packets). seq_nr is the next to send. */
  #sendState(nowMs: number): void {
    this.#emitPacket(PacketType.ST_STATE, this.#sender.window.seqNr, nowMs, undefined, this.#recv.sack());
    this.#clearAck();
  }

  #clearAck(): void {
    this.#recv.clearAck();
    this.#deadlines.disarm('delayedAck');
  }

  /** Both ends are dhtchat on a local path: use the smaller of the two offers (never below the default). */
  #agreePacketBytes(peerBytes: number): void {
    const bytes = Math.min(peerBytes, this.#offerPacketBytes);
    if (bytes > this.#sender.maxPacketBytes) this.#sender.maxPacketBytes = bytes;
  }

  #emitPacket(
    type: PacketType,
    seqNr: number,
    nowMs: number,
    payload?: Buffer,
    sack?: Buffer,
    headroomBytes = 0,
  ): void {
    const isSyn = type === PacketType.ST_SYN;
    const isOffering =
      isSyn || (this.#isRepeatingOffer && type !== PacketType.ST_RESET && !this.hasPeerAckedData);
    const bytes = encodePacket({
      type,
      // The SYN carries our receive id; everything else the send id (BEP 29 "connection setup").
      connectionId: isSyn ? this.recvId : this.sendId,
      timestampUs: timestampMicros(nowMs),
      timestampDiffUs: this.#recv.replyMicro,
      wndSize: this.#recv.advertise(),
      seqNr,
      ackNr: isSyn ? 0 : this.#recv.ackNr,
      sack,
      payload,
      largePacketBytes: isOffering && this.#offerPacketBytes > 0 ? this.#offerPacketBytes : undefined,
      headroomBytes,
    });
    this.#transmits.push(bytes);
    this.stats.packetsSent++;
    this.#lastSentMs = nowMs;
  }

  #close(errorCode: UtpErrorCode | undefined, nowMs: number, isClean: boolean): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#errorCode = errorCode;
    this.#deadlines.disarmAll();
    if (isClean) {
      this.#deadlines.arm('linger', nowMs + this.#config.lingerMs);
      this.#events.push({ type: 'finished' });
    }
    this.#events.push({ type: 'closed', errorCode });
  }
}
