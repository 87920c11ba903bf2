/**
 * Time as a seam. Protocol code never calls Date.now or setTimeout: it is given a Clock, so the same code runs
 * on real time, in unit tests, and in the simulator on virtual time.
 */

/** A pending one-shot callback; cancel() is idempotent. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch (virtual under a ManualClock). */
  now(): number;
  /** Calls fn once, delayMs from now. Real timers are unref'd: a pending timer never keeps a process alive. */
  setTimer(delayMs: number, fn: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
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
 * timers fire in due order (ties in scheduling order), so a run is reproducible.
 */
export class ManualClock implements Clock {
  #nowMs: number;
  #order = 0;
  #timers: ScheduledTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
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
