/**
 * Round-trip time and the retransmission timeout, as BEP 29 "timeouts" gives them:
 *   delta = rtt - packet_rtt; rtt_var += (|delta| - rtt_var) / 4; rtt += (packet_rtt - rtt) / 8;
 *   timeout = max(rtt + rtt_var * 4, 500)
 * Only packets sent once are sampled (the caller's job). The first sample seeds rtt and rtt_var = rtt / 2 as in
 * RFC 6298, so one slow first packet does not pin the timeout high. Consecutive timeouts double it, capped.
 */
import { INITIAL_TIMEOUT_MS } from './header.ts';

export class RttEstimator {
  readonly #minTimeoutMs: number;
  readonly #maxTimeoutMs: number;
  #rttMs = 0;
  #rttVarMs = 0;
  #hasSample = false;
  /** The smallest RTT seen: one-way delay can never exceed it (a sanity clamp for LEDBAT). */
  minRttMs = Number.POSITIVE_INFINITY;

  constructor(minTimeoutMs: number, maxTimeoutMs: number) {
    this.#minTimeoutMs = minTimeoutMs;
    this.#maxTimeoutMs = maxTimeoutMs;
  }

  get rttMs(): number {
    return this.#rttMs;
  }

  get hasSample(): boolean {
    return this.#hasSample;
  }

  addSample(packetRttMs: number): void {
    const sample = Math.max(0, packetRttMs);
    if (sample < this.minRttMs) this.minRttMs = sample;
    if (!this.#hasSample) {
      this.#rttMs = sample;
      this.#rttVarMs = sample / 2;
      this.#hasSample = true;
      return;
    }
    const delta = this.#rttMs - sample;
    this.#rttVarMs += (Math.abs(delta) - this.#rttVarMs) / 4;
    this.#rttMs += (sample - this.#rttMs) / 8;
  }

  /** The timeout after `consecutiveTimeouts` timeouts in a row (each one doubles it). */
  timeoutMs(consecutiveTimeouts: number): number {
    const base = this.#hasSample
      ? Math.max(this.#rttMs + this.#rttVarMs * 4, this.#minTimeoutMs)
      : Math.max(INITIAL_TIMEOUT_MS, this.#minTimeoutMs);
    return Math.min(base * 2 ** Math.min(consecutiveTimeouts, 16), Math.max(this.#maxTimeoutMs, base));
  }
}
