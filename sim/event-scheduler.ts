/**
 * The simulator's discrete-event loop on virtual time. It is the Clock every simulated node is given (timers,
 * packet deliveries, churn), backed by one TimerHeap; time jumps from one due event to the next, so an idle hour
 * costs nothing.
 *
 * Protocol code is asynchronous (lookups are promises): after the events due at one instant have run, the loop
 * yields to the host event loop once (setImmediate), which runs every microtask they queued — promise chains
 * included — before the next instant, exactly as a real node's continuations run before its next packet or
 * timer. Times are whole milliseconds (a delay is rounded up), so everything due in the same millisecond shares
 * one yield. Nothing else in the process may use real I/O or timers during a run: then the order of events, and
 * so every result, is a function of the seed.
 *
 * Every run is bounded: in virtual time, in events, and in wall time (RunOutcome says which bound ended it).
 */
import {
  type Clock,
  type Timer,
  VIRTUAL_MONOTONIC_START_MS,
  VIRTUAL_WALL_START_MS,
} from '../src/runtime/index.ts';
import { TimerHeap } from './timer-heap.ts';

export interface RunLimits {
  /** Stop once the virtual monotonic clock would pass this time (the clock is left at it). */
  untilMs?: number;
  /** Stop as soon as this holds (checked after every instant). */
  isDone?: () => boolean;
  /** Events (timer callbacks) this call may run; default 2,000,000,000. */
  maxEvents?: number;
  /** Wall-clock milliseconds this call may take; default unlimited (the scenario sets one). */
  maxWallMs?: number;
}

export type RunOutcome = 'done' | 'time' | 'idle' | 'event-limit' | 'wall-limit';

const DEFAULT_MAX_EVENTS = 2_000_000_000;
/** Instants between two looks at the wall clock. */
const WALL_CHECK_EVERY = 256;

const yieldToHost = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class EventScheduler implements Clock {
  readonly #heap = new TimerHeap();
  /** Virtual monotonic time; events are due on it. */
  #nowMs: number;
  /** wallMs() - monotonicMs(): the two origins differ, as in ManualClock, so mixing them shows. */
  #wallOffsetMs: number;
  /** Events run since construction. */
  eventsRun = 0;

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

  /** Steps wall time by deltaMs (either sign) without moving monotonic time or running an event. */
  jumpWall(deltaMs: number): void {
    this.#wallOffsetMs += deltaMs;
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    const delay = delayMs > 0 ? Math.ceil(delayMs) : 0;
    return this.#heap.push(this.#nowMs + delay, fn);
  }

  /** Timers and deliveries still pending. */
  get pendingCount(): number {
    return this.#heap.liveCount;
  }

  /** Runs events in time order until a limit is reached (see RunLimits) or nothing is left. */
  async run(limits: RunLimits): Promise<RunOutcome> {
    const endMs = limits.untilMs ?? Number.POSITIVE_INFINITY;
    const maxEvents = limits.maxEvents ?? DEFAULT_MAX_EVENTS;
    const wallDeadline = limits.maxWallMs === undefined ? Infinity : performance.now() + limits.maxWallMs;
    const firstEvent = this.eventsRun;
    let instants = 0;
    // Continuations of whatever the caller just started run first (they may schedule events of their own).
    await yieldToHost();
    for (;;) {
      if (limits.isDone?.() === true) return 'done';
      if (this.eventsRun - firstEvent >= maxEvents) return 'event-limit';
      if (++instants % WALL_CHECK_EVERY === 0 && performance.now() > wallDeadline) return 'wall-limit';
      const dueMs = this.#heap.peekDueMs();
      if (dueMs === undefined) return 'idle';
      if (dueMs > endMs) {
        this.#nowMs = endMs;
        return 'time';
      }
      if (dueMs > this.#nowMs) this.#nowMs = dueMs;
      for (let fn = this.#heap.popDue(this.#nowMs); fn !== undefined; fn = this.#heap.popDue(this.#nowMs)) {
        this.eventsRun++;
        fn();
      }
      await yieldToHost();
    }
  }

  /** Lets ms of virtual time pass (the clock ends exactly ms later, events or not). */
  async runFor(ms: number, limits: Omit<RunLimits, 'untilMs' | 'isDone'> = {}): Promise<RunOutcome> {
    const endMs = this.#nowMs + ms;
    const outcome = await this.run({ ...limits, untilMs: endMs });
    if (outcome === 'idle') this.#nowMs = endMs;
    return outcome === 'idle' ? 'time' : outcome;
  }

  /** Runs until p settles; rejects when a limit came first (with p still pending). */
  async settle<T>(p: Promise<T>, limits: Omit<RunLimits, 'isDone'> = {}): Promise<T> {
    let isSettled = false;
    const mark = (): void => {
      isSettled = true;
    };
    p.then(mark, mark);
    const outcome = await this.run({ ...limits, isDone: () => isSettled });
    if (!isSettled) throw new Error(`simulation stopped (${outcome}) before the awaited operation settled`);
    return p;
  }
}
