/**
 * Time as a seam. Protocol code never calls Date.now or setTimeout: it is given a Clock, so the same code runs
 * on real time, in unit tests, and in the simulator on virtual time.
 *
 * A Clock gives two readings that must not be mixed (docs/ARCHITECTURE.md, "Two times"):
 * - monotonicMs(): for durations measured and compared inside this process (timers, deadlines, RTT,
 *   retransmission, LEDBAT, rate limiters, back-offs). It never jumps; its origin is arbitrary (on a real clock,
 *   the wall time of the process start), so a value of it means nothing to another process or after a restart.
 * - wallMs(): Unix milliseconds, for what is persisted, sent, or compared with a value from disk or from a peer
 *   (record epochs and timestamps, message times, last-seen). It may step (NTP, a suspended laptop, the user).
 * Timers run on monotonic time. ManualClock gives the two readings different origins so that code mixing them
 * fails in tests instead of passing by luck.
 */

/** A pending one-shot callback; cancel() is idempotent. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds from an arbitrary origin that never jumps: durations, deadlines, timers, RTT. */
  monotonicMs(): number;
  /** Milliseconds since the Unix epoch: timestamps that are stored, sent, or compared with stored or sent ones. */
  wallMs(): number;
  /**
   * Calls fn once, delayMs of monotonic time from now (a wall-clock step neither delays nor hastens it). Real
   * timers are unref'd: a pending timer never keeps a process alive.
   */
  setTimer(delayMs: number, fn: () => void): Timer;
}

/** Default origins of the virtual clocks: far apart, so a wall reading used as a monotonic one is way off. */
export const VIRTUAL_WALL_START_MS = 1_700_000_000_000;
/** Like a process ten seconds old (performance.now() counts from the process start). */
export const VIRTUAL_MONOTONIC_START_MS = 10_000;

/**
 * The real monotonic origin: the wall time the process started at, plus performance.now() (which never jumps).
 * An origin near 0 would make every "0 means never" in the code read as "a moment ago" for the first minutes of
 * a process (a rate limit's last use, a back-off's last try): readings this large keep such defaults long ago,
 * as they were under Date.now(). It is still not wall time: it does not follow a later step of the wall clock.
 */
const MONOTONIC_ORIGIN_MS = performance.timeOrigin;

export const systemClock: Clock = {
  monotonicMs: () => MONOTONIC_ORIGIN_MS + performance.now(),
  wallMs: () => Date.now(),
  setTimer(delayMs, fn) {
    const handle = setTimeout(fn, Math.max(0, delayMs));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

interface ScheduledTimer {
  readonly dueMs: number;
  readonly order: number;
  readonly fn: () => void;
  isCancelled: boolean;
}

/**
 * A virtual clock for tests and the simulator: time moves only when advance() or runUntilIdle() is called, and
 * timers fire in due order (ties in scheduling order), so a run is reproducible. Both readings advance together;
 * jumpWall() steps wall time alone, as NTP or a suspended laptop would.
 */
export class ManualClock implements Clock {
  /** Monotonic time; timers are due on it. */
  #nowMs: number;
  /** wallMs() - monotonicMs(). */
  #wallOffsetMs: number;
  #order = 0;
  #timers: ScheduledTimer[] = [];

  constructor(wallStartMs = VIRTUAL_WALL_START_MS, monotonicStartMs = VIRTUAL_MONOTONIC_START_MS) {
    this.#nowMs = monotonicStartMs;
    this.#wallOffsetMs = wallStartMs - monotonicStartMs;
  }

  monotonicMs(): number {
    return this.#nowMs;
  }

  wallMs(): number {
    return this.#nowMs + this.#wallOffsetMs;
  }

  /** Steps wall time by deltaMs (either sign) without moving monotonic time or firing a timer. */
  jumpWall(deltaMs: number): void {
    this.#wallOffsetMs += deltaMs;
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    const timer: ScheduledTimer = {
      dueMs: this.#nowMs + Math.max(0, delayMs),
      order: this.#order++,
      fn,
      isCancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.isCancelled = true;
      },
    };
  }

  /** Number of timers still pending. */
  get pendingCount(): number {
    return this.#timers.filter((t) => !t.isCancelled).length;
  }

  /** Moves time forward by ms, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const endMs = this.#nowMs + ms;
    for (;;) {
      const next = this.#takeNextDue(endMs);
      if (next === undefined) break;
      this.#nowMs = next.dueMs;
      next.fn();
    }
    this.#nowMs = endMs;
  }

  /** Fires timers until none is left or maxSteps ran out; returns the number fired. */
  runUntilIdle(maxSteps = 1_000_000): number {
    let fired = 0;
    while (fired < maxSteps) {
      const next = this.#takeNextDue(Number.POSITIVE_INFINITY);
      if (next === undefined) break;
      this.#nowMs = Math.max(this.#nowMs, next.dueMs);
      next.fn();
      fired++;
    }
    return fired;
  }

  #takeNextDue(limitMs: number): ScheduledTimer | undefined {
    this.#timers = this.#timers.filter((t) => !t.isCancelled);
    let best: ScheduledTimer | undefined;
    for (const t of this.#timers) {
      if (t.dueMs > limitMs) continue;
      if (best === undefined || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.order < best.order))
        best = t;
    }
    if (best !== undefined) best.isCancelled = true;
    return best;
  }
}
