/** A Logger that keeps every line's fields, at every level, for a test to read. */
import type { LogFields, Logger } from '../../src/runtime/index.ts';

export function recordingLogger(): { logger: Logger; lines: LogFields[] } {
  const lines: LogFields[] = [];
  const logger: Logger = {
    debug: (f) => lines.push(f),
    info: (f) => lines.push(f),
    warn: (f) => lines.push(f),
    error: (f) => lines.push(f),
    child: () => logger,
  };
  return { logger, lines };
}
