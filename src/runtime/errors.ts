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
