/**
 * A connection's timers as one named table of absolute deadlines (ms; Infinity = not armed). The connection
 * arms them from its event hooks; the driver only asks for the earliest one (pollTimeout) and calls back.
 */
export const TIMER_NAMES = ['connect', 'retransmit', 'delayedAck', 'keepalive', 'finWait', 'linger'] as const;
export type TimerName = (typeof TIMER_NAMES)[number];

export class Deadlines {
  readonly #at: Record<TimerName, number> = {
    connect: Infinity,
    retransmit: Infinity,
    delayedAck: Infinity,
    keepalive: Infinity,
    finWait: Infinity,
    linger: Infinity,
  };

  get(name: TimerName): number {
    return this.#at[name];
  }

  arm(name: TimerName, atMs: number): void {
    this.#at[name] = atMs;
  }

  /** Arms only if not armed yet (a delayed ack keeps its first deadline). */
  armIfIdle(name: TimerName, atMs: number): void {
    if (this.#at[name] === Infinity) this.#at[name] = atMs;
  }

  disarm(name: TimerName): void {
    this.#at[name] = Infinity;
  }

  isArmed(name: TimerName): boolean {
    return this.#at[name] !== Infinity;
  }

  isDue(name: TimerName, nowMs: number): boolean {
    return this.#at[name] <= nowMs;
  }

  disarmAll(): void {
    for (const name of TIMER_NAMES) this.#at[name] = Infinity;
  }

  /** The earliest armed deadline, or Infinity. */
  next(): number {
    const a = this.#at;
    return Math.min(a.connect, a.retransmit, a.delayedAck, a.keepalive, a.finWait, a.linger);
  }
}
