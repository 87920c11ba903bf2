/**
 * The relay's data path: two streams joined byte for byte, each direction capped in rate. Nothing is parsed:
 * the friends' Noise frames go through as they came. Backpressure is the streams' own: a direction whose
 * destination is full, or that ran past its rate, pauses its source, so the source's uTP receive window closes
 * and the sender slows down (nothing is buffered here beyond what the streams already hold).
 *
 * Ends: a source's end is passed on as the destination's end (the friends' authenticated CLOSE frames have gone
 * through by then); an error or close on either side, a spent budget (onBytes says false), or idleMs without a
 * byte either way destroys both. onEnd is called once, with why.
 */
import type { Duplex } from 'node:stream';
import type { Clock, Timer } from '../../runtime/index.ts';

export type SpliceEndReason = 'ended' | 'closed' | 'budget' | 'idle' | 'stopped';

export interface SpliceOptions {
  readonly clock: Clock;
  /** Per direction. */
  readonly bytesPerSec: number;
  readonly burstBytes: number;
  readonly idleMs: number;
  /** Counts bytes moved (either direction); false stops the splice (the pair's budget is spent). */
  onBytes(bytes: number): boolean;
  onEnd(reason: SpliceEndReason): void;
}

export interface Splice {
  readonly bytesMoved: number;
  /** Destroys both streams (the relay is closing). */
  stop(): void;
}

export function splice(a: Duplex, b: Duplex, opts: SpliceOptions): Splice {
  let isDone = false;
  let bytesMoved = 0;
  let lastActivityMs = opts.clock.monotonicMs();
  let idleTimer: Timer | undefined;
  const finish = (reason: SpliceEndReason): void => {
    if (isDone) return;
    isDone = true;
    idleTimer?.cancel();
    for (const d of directions) d.cancel();
    a.destroy();
    b.destroy();
    opts.onEnd(reason);
  };
  const onData = (bytes: number): boolean => {
    bytesMoved += bytes;
    lastActivityMs = opts.clock.monotonicMs();
    if (opts.onBytes(bytes)) return true;
    finish('budget');
    return false;
  };
  const directions = [pipe(a, b, opts, onData), pipe(b, a, opts, onData)];
  let endedCount = 0;
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    from.on('end', () => {
      if (isDone) return;
      to.end();
      endedCount++;
      if (endedCount === 2) to.once('finish', () => finish('ended'));
    });
    from.on('error', () => finish('closed'));
    from.on('close', () => {
      // A clean close after both ends is 'ended' (finish already ran or is about to); anything else is a cut.
      if (endedCount < 2) finish('closed');
    });
  }
  const armIdle = (): void => {
    const dueMs = lastActivityMs + opts.idleMs;
    idleTimer = opts.clock.setTimer(Math.max(0, dueMs - opts.clock.monotonicMs()), () => {
      if (isDone) return;
      if (opts.clock.monotonicMs() - lastActivityMs >= opts.idleMs) finish('idle');
      else armIdle();
    });
  };
  armIdle();
  return {
    get bytesMoved() {
      return bytesMoved;
    },
    stop: () => finish('stopped'),
  };
}

/** One direction: from → to, with a token bucket of burstBytes refilled at bytesPerSec. */
function pipe(
  from: Duplex,
  to: Duplex,
  opts: SpliceOptions,
  onData: (bytes: number) => boolean,
): { cancel(): void } {
  let tokens = opts.burstBytes;
  let lastRefillMs = opts.clock.monotonicMs();
  let isWaitingForDrain = false;
  let refillTimer: Timer | undefined;
  const refill = (): void => {
    const nowMs = opts.clock.monotonicMs();
    tokens = Math.min(opts.burstBytes, tokens + ((nowMs - lastRefillMs) * opts.bytesPerSec) / 1000);
    lastRefillMs = nowMs;
  };
  const resumeIfAllowed = (): void => {
    if (!isWaitingForDrain && refillTimer === undefined && !from.destroyed) from.resume();
  };
  // A chunk larger than the tokens left is split: what the bucket allows goes now, the rest goes back to the
  // front of the source until the bucket has refilled for it. (Forwarding whole chunks on credit would let one
  // large read (a stream that coalesces packets) run a chunk's worth past the cap.)
  from.on('data', (chunk: Buffer) => {
    refill();
    const allowed = Math.max(0, Math.floor(tokens));
    const now = chunk.length <= allowed ? chunk : chunk.subarray(0, allowed);
    const rest = chunk.subarray(now.length);
    if (now.length > 0) {
      if (!onData(now.length)) return;
      tokens -= now.length;
      if (!to.write(now)) {
        isWaitingForDrain = true;
        from.pause();
        to.once('drain', () => {
          isWaitingForDrain = false;
          resumeIfAllowed();
        });
      }
    }
    if (rest.length > 0) {
      from.pause();
      from.unshift(rest);
      if (refillTimer !== undefined) return;
      const neededTokens = Math.min(rest.length, opts.burstBytes);
      const waitMs = Math.max(1, Math.ceil(((neededTokens - tokens) * 1000) / opts.bytesPerSec));
      refillTimer = opts.clock.setTimer(waitMs, () => {
        refillTimer = undefined;
        refill();
        resumeIfAllowed();
      });
    }
  });
  return {
    cancel: () => {
      refillTimer?.cancel();
      refillTimer = undefined;
    },
  };
}
