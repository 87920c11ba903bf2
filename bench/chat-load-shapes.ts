/**
 * The two loads of the session benchmarks (bench/chat-session.bench.ts in one process, bench/chat-daemon-session
 * .bench.ts through daemons and their API), driven the same way for both:
 *   - paced: one send every 1000/rate ms whatever happened to the earlier ones (a user base typing, not a
 *     client waiting): what latency does a message see at that rate;
 *   - window: at most `window` messages sent and not yet delivered; a new one starts as soon as one is
 *     delivered, until a count or a time is reached: the sustained rate = messages ÷ (last delivered − first
 *     send).
 * `one(i)` sends message i and resolves when it is delivered, with its send → delivered time; every run is
 * bounded by a deadline and stops by itself.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Delivered {
  /** send → delivered, ms. */
  latencyMs: number;
  /** send → the send call returned (the API answered, the commit was done), ms. */
  answerMs: number;
}

export interface LoadResult {
  samples: Delivered[];
  elapsedMs: number;
  messagesPerSecond: number;
}

export async function paced(
  count: number,
  ratePerSecond: number,
  deadlineMs: number,
  one: (i: number) => Promise<Delivered>,
): Promise<LoadResult> {
  const intervalMs = 1000 / ratePerSecond;
  const start = performance.now();
  const running: Promise<Delivered>[] = [];
  for (let i = 0; i < count; i++) {
    const dueMs = start + i * intervalMs;
    const waitMs = dueMs - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    if (performance.now() - start > deadlineMs) throw new Error(`paced: deadline of ${deadlineMs} ms passed`);
    running.push(one(i));
  }
  const samples = await withDeadline(Promise.all(running), deadlineMs - (performance.now() - start), 'paced');
  const elapsedMs = performance.now() - start;
  return { samples, elapsedMs, messagesPerSecond: (count / elapsedMs) * 1000 };
}

/**
 * Stops starting sends after `count` sends or `maxStartMs`, whichever first (a slow tree is measured over the same
 * time, not made to finish the count), then waits for those in flight; the rate counts the delivered ones.
 */
export async function windowed(
  count: number,
  window: number,
  maxStartMs: number,
  deadlineMs: number,
  one: (i: number) => Promise<Delivered>,
): Promise<LoadResult> {
  const samples: Delivered[] = [];
  let next = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count && performance.now() - start < maxStartMs) samples.push(await one(next++));
  };
  await withDeadline(
    Promise.all(Array.from({ length: Math.min(window, count) }, worker)),
    deadlineMs,
    'window',
  );
  const elapsedMs = performance.now() - start;
  return { samples, elapsedMs, messagesPerSecond: (samples.length / elapsedMs) * 1000 };
}

async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: deadline passed`)), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** This disk's fsyncs per second right now: 4 KiB appended and fsync'd, `count` times, in the given dir. */
export function fsyncsPerSecond(dir: string, count = 200): number {
  const path = join(dir, 'fsync-probe');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 1);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    writeSync(fd, block);
    fsyncSync(fd);
  }
  const elapsedMs = performance.now() - start;
  closeSync(fd);
  rmSync(path);
  return (count / elapsedMs) * 1000;
}
