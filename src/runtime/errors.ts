/**
 * The base of every local failure: a typed error with a stable code (documented in docs/ERRORS.md) and a cause.
 * Remote input is never rejected by throwing one of these past its layer: it is dropped or answered with a value.
 */
export class DhtchatError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DhtchatError';
    this.code = code;
  }
}

/**
 * A DhtchatError for an outcome that is routine on a network (a query timing out, a node closing with queries in
 * flight): thousands a minute on a busy node, and nobody reads their stacks. Capturing one costs more than the
 * rest of a timed-out query (a profile of the simulator put it at 4 % of all CPU), so these carry none.
 */
export function routineError(code: string, message: string): DhtchatError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new DhtchatError(code, message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The message of a thrown value, for a log line (anything may be thrown, not only Errors). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
