/**
 * What `dhtchat bootstrap` prints and when: JSON lines on stdout (the listening line, then stats lines), stats on
 * a timer and on SIGHUP, and the wait for SIGINT/SIGTERM. Shared by the single-process and cluster modes.
 */
import type { Logger } from '../runtime/index.ts';

/** One JSON object per stdout line; Buffers as hex. */
export function emit(record: Record<string, unknown>): void {
  process.stdout.write(
    `${JSON.stringify(record, (_k, v) => (isBufferJson(v) ? Buffer.from(v.data).toString('hex') : v))}\n`,
  );
}

function isBufferJson(v: unknown): v is { type: 'Buffer'; data: number[] } {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer';
}

/** Calls printStats every interval and on SIGHUP; resolves on SIGINT or SIGTERM. */
export function untilSignalled(printStats: () => void, statsIntervalMs: number): Promise<void> {
  const timer = setInterval(printStats, statsIntervalMs);
  return new Promise((resolve) => {
    const stop = (): void => {
      clearInterval(timer);
      process.off('SIGHUP', printStats);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGHUP', printStats);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Warnings and errors as JSON lines on stderr (stdout carries the listening and stats lines). */
export const stderrLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (fields, message) =>
    process.stderr.write(`${JSON.stringify({ level: 'warn', ...fields, msg: message })}\n`),
  error: (fields, message) =>
    process.stderr.write(`${JSON.stringify({ level: 'error', ...fields, msg: message })}\n`),
  child: () => stderrLogger,
};
