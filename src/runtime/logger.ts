/**
 * Logging as a seam, pino-compatible (fields first, then message), so the app can pass a pino logger straight
 * in. Protocol code receives a Logger and defaults to nullLogger. Never log secrets.
 */

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(fields: LogFields, message?: string): void;
  info(fields: LogFields, message?: string): void;
  warn(fields: LogFields, message?: string): void;
  error(fields: LogFields, message?: string): void;
  child(fields: LogFields): Logger;
}

const noop = (): void => {};

export const nullLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => nullLogger,
};

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
export type LogLevel = keyof typeof LEVELS;

/** A small JSON-lines logger for command-line tools: one object per line with level, time and msg. */
export function jsonLinesLogger(
  write: (line: string) => void,
  minLevel: LogLevel = 'info',
  now: () => number = Date.now,
  bound: LogFields = {},
): Logger {
  const at =
    (level: LogLevel) =>
    (fields: LogFields, message?: string): void => {
      if (LEVELS[level] < LEVELS[minLevel]) return;
      const record: LogFields = { level, time: now(), ...bound, ...fields };
      if (message !== undefined) record['msg'] = message;
      write(`${JSON.stringify(record, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v))}\n`);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => jsonLinesLogger(write, minLevel, now, { ...bound, ...fields }),
  };
}
