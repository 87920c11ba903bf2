/**
 * LEDBAT congestion control as BEP 29 "congestion control" describes it, with libtorrent's refinements (slow
 * start until the delay reaches the target or a loss, growth only while the window is actually used):
 *   off_target = CCONTROL_TARGET - our_delay
 *   max_window += MAX_CWND_INCREASE_BYTES_PER_RTT * (off_target / target) * (acked_bytes / in_flight)
 * Loss halves the window (once per window of packets: the caller decides), a timeout drops it to one packet.
 * This class only does arithmetic; the connection feeds it samples.
 */
import { CCONTROL_TARGET_US, LOSS_FACTOR, MAX_CWND_INCREASE_BYTES_PER_RTT } from '../header.ts';

export interface LedbatOptions {
  /** Target queuing delay in microseconds (BEP 29: 100 ms). */
  targetDelayUs?: number;
  /** Bytes the window may grow per RTT when the delay is zero. */
  gainBytesPerRtt?: number;
  initialWindowBytes: number;
  minWindowBytes: number;
  maxWindowBytes: number;
}

export class Ledbat {
  readonly #targetUs: number;
  readonly #gain: number;
  readonly #minWindow: number;
  readonly #maxWindow: number;
  #windowBytes: number;
  #isSlowStart = true;
  #slowStartThreshold = Number.POSITIVE_INFINITY;

  constructor(options: LedbatOptions) {
    this.#targetUs = options.targetDelayUs ?? CCONTROL_TARGET_US;
    this.#gain = options.gainBytesPerRtt ?? MAX_CWND_INCREASE_BYTES_PER_RTT;
    this.#minWindow = options.minWindowBytes;
    this.#maxWindow = options.maxWindowBytes;
    this.#windowBytes = options.initialWindowBytes;
  }

  /** max_window: bytes allowed in flight. */
  get windowBytes(): number {
    return Math.floor(this.#windowBytes);
  }

  get isSlowStart(): boolean {
    return this.#isSlowStart;
  }

  /**
   * An ack arrived. ackedBytes were acknowledged out of inFlightBytes (as they were before the ack); delayUs is the
   * current queuing delay (our_delay); isWindowLimited says whether the sender was filling the window.
   */
  onAck(ackedBytes: number, inFlightBytes: number, delayUs: number, isWindowLimited: boolean): void {
    if (ackedBytes <= 0 || inFlightBytes <= 0) return;
    const delayFactor = (this.#targetUs - delayUs) / this.#targetUs;
    const windowFactor = Math.min(1, ackedBytes / inFlightBytes);
    const linearGain = this.#gain * delayFactor * windowFactor;
    if (delayUs >= this.#targetUs && this.#isSlowStart) {
      // Slow start doubled the window in the RTT it took the delay to show: about half of it is queue beyond
      // the target. Deviation from libtorrent (which keeps the window and lets the linear gain drain it, at
      // 3000 bytes per RTT: tens of seconds on a deep buffer): halve it now, as TCP does on loss.
      this.#isSlowStart = false;
      this.#windowBytes = Math.max(this.#minWindow, this.#windowBytes / 2);
      this.#slowStartThreshold = this.#windowBytes;
      return;
    }
    if (!isWindowLimited && linearGain > 0) return;
    let gain = linearGain;
    if (this.#isSlowStart) {
      if (this.#windowBytes + ackedBytes > this.#slowStartThreshold) this.#isSlowStart = false;
      else gain = Math.max(ackedBytes, linearGain);
    }
    this.#windowBytes = Math.min(this.#maxWindow, Math.max(0, this.#windowBytes + gain));
  }

  /** A packet was lost (caller rate-limits this to once per window). */
  onLoss(): void {
    this.#windowBytes = Math.max(this.#minWindow, this.#windowBytes * LOSS_FACTOR);
    this.#slowStartThreshold = this.#windowBytes;
    this.#isSlowStart = false;
  }

  /** The retransmission timer fired: back to one packet, then slow start up to the threshold. */
  onTimeout(packetBytes: number): void {
    this.#slowStartThreshold = Math.max(this.#windowBytes / 2, packetBytes * 2);
    this.#windowBytes = packetBytes;
    this.#isSlowStart = true;
  }
}
