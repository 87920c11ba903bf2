/**
 * Drives BootstrapServer.handleTimeout from a Clock: one timer, armed for nextTimeoutMs and re-armed after every
 * firing, so delayed pings go out on time even when no packet arrives (the reference only ran its ping queue
 * when a packet came in). After handling packets, call poke(): it re-arms only when the deadline moved earlier.
 */
import type { Clock, Timer } from '../runtime/index.ts';
import type { BootstrapServer } from './bootstrap-server.ts';

export class TimeoutScheduler {
  readonly #server: BootstrapServer;
  readonly #clock: Clock;
  #timer: Timer | undefined;
  #armedForMs = Number.POSITIVE_INFINITY;
  #isStopped = false;

  constructor(server: BootstrapServer, clock: Clock) {
    this.#server = server;
    this.#clock = clock;
  }

  /** Re-arms the timer if the server's next deadline is earlier than the armed one. Cheap: call per packet. */
  poke(): void {
    const next = this.#server.nextTimeoutMs();
    if (next !== undefined && next < this.#armedForMs) this.#arm(next);
  }

  stop(): void {
    this.#isStopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #arm(atMs: number): void {
    if (this.#isStopped) return;
    this.#timer?.cancel();
    this.#armedForMs = atMs;
    this.#timer = this.#clock.setTimer(Math.max(0, atMs - this.#clock.monotonicMs()), () => this.#fire());
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedForMs = Number.POSITIVE_INFINITY;
    if (this.#isStopped) return;
    this.#server.handleTimeout(this.#clock.monotonicMs());
    this.poke();
  }
}
