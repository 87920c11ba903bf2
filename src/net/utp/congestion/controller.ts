/**
 * The sender's congestion state in one place: RTT and timeout (rtt.ts), base delay (delay-history.ts) and the
 * LEDBAT window (ledbat.ts), fed by the connection's ack, loss and timeout events. BEP 29's once-per-window
 * rule for loss lives here too.
 */
import { MIN_PACKET_BYTES, seqAdd, seqDiff } from '../header.ts';
import { RttEstimator } from '../rtt.ts';
import { DelayHistory } from './delay-history.ts';
import { Ledbat } from './ledbat.ts';

export interface CongestionOptions {
  targetDelayUs: number;
  maxPacketBytes: number;
  maxWindowBytes: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

export class CongestionController {
  #maxPacketBytes: number;
  readonly #rtt: RttEstimator;
  readonly #ledbat: Ledbat;
  readonly #delays = new DelayHistory();
  readonly #recentDelaysUs: number[] = [];
  /** Losses of packets up to this sequence number were already answered by a window cut. */
  #lossSeq: number;

  constructor(options: CongestionOptions, initialSeq: number) {
    this.#maxPacketBytes = options.maxPacketBytes;
    this.#rtt = new RttEstimator(options.minTimeoutMs, options.maxTimeoutMs);
    this.#ledbat = new Ledbat({
      targetDelayUs: options.targetDelayUs,
      initialWindowBytes: 4 * options.maxPacketBytes,
      minWindowBytes: MIN_PACKET_BYTES,
      maxWindowBytes: options.maxWindowBytes,
    });
    this.#lossSeq = seqAdd(initialSeq, -1);
  }

  /** max_window in bytes. */
  get windowBytes(): number {
    return this.#ledbat.windowBytes;
  }

  get rttMs(): number {
    return this.#rtt.rttMs;
  }

  /** The connection agreed on another packet size (loopback, dhtchat to dhtchat). */
  set maxPacketBytes(bytes: number) {
    this.#maxPacketBytes = bytes;
  }

  timeoutMs(consecutiveTimeouts: number): number {
    return this.#rtt.timeoutMs(consecutiveTimeouts);
  }

  /**
   * An ack: rttSampleMs from the freshest packet it acked (if any), timestampDiffUs the peer's one-way delay
   * sample (0: none). our_delay is the smallest of the last three samples over base_delay, clamped to this
   * ack's RTT (a one-way delay can never exceed the round trip it is part of; libtorrent's sanity check).
   */
  onAck(
    ackedBytes: number,
    inFlightBeforeBytes: number,
    timestampDiffUs: number,
    rttSampleMs: number | undefined,
    nowMs: number,
  ): void {
    if (rttSampleMs !== undefined) this.#rtt.addSample(rttSampleMs);
    // 0 means "no sample"; uTorrent has been seen sending INT_MAX for the same (libtorrent ignores it too).
    if (ackedBytes <= 0 || timestampDiffUs === 0 || timestampDiffUs === 0x7fffffff) return;
    this.#recentDelaysUs.push(this.#delays.addSample(timestampDiffUs, nowMs));
    if (this.#recentDelaysUs.length > 3) this.#recentDelaysUs.shift();
    const rttClampUs = rttSampleMs === undefined ? Number.POSITIVE_INFINITY : rttSampleMs * 1000;
    const delayUs = Math.min(Math.min(...this.#recentDelaysUs), rttClampUs);
    const isWindowLimited = inFlightBeforeBytes + this.#maxPacketBytes > this.#ledbat.windowBytes;
    this.#ledbat.onAck(ackedBytes, inFlightBeforeBytes, delayUs, isWindowLimited);
  }

  /** Packet `seq` was lost; nextSeq is our seq_nr. BEP 29: max_window *= 0.5, once per window of packets. */
  onLoss(seq: number, nextSeq: number): void {
    if (seqDiff(seq, this.#lossSeq) <= 0) return;
    this.#ledbat.onLoss();
    this.#lossSeq = seqAdd(nextSeq, -1);
  }

  /**
   * The retransmission timer fired. BEP 29 drops the window to one packet; we allow two, so the probe is one of
   * two round trips that must both fail for the next timeout, which keeps a lossy but live path (30 % each way)
   * from looking dead. Losses of packets already sent are then not counted again.
   */
  onTimeout(nextSeq: number): void {
    this.#ledbat.onTimeout(2 * this.#maxPacketBytes);
    this.#lossSeq = seqAdd(nextSeq, -1);
  }
}
