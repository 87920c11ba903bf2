/** Stable error codes of the uTP layer (each described in docs/ERRORS.md under "uTP"). */
export const UtpErrorCode = {
  /** Our SYN was never answered. */
  CONNECT_TIMEOUT: 'UTP_CONNECT_TIMEOUT',
  /** Data stayed unacknowledged and nothing was heard from the peer for the peer timeout. */
  TIMEOUT: 'UTP_TIMEOUT',
  /** The peer reset the connection (ST_RESET). */
  RESET: 'UTP_RESET',
  /** The peer answered our SYN with ST_RESET. */
  CONNECTION_REFUSED: 'UTP_CONNECTION_REFUSED',
  /** The endpoint was closed while the connection was open. */
  ENDPOINT_CLOSED: 'UTP_ENDPOINT_CLOSED',
  /** No free connection id, or the endpoint's connection limit was reached. */
  TOO_MANY_CONNECTIONS: 'UTP_TOO_MANY_CONNECTIONS',
  /** An incoming connection from a stranger, not yet past its handshake, was reset to make room for another. */
  EVICTED: 'UTP_EVICTED',
  /** write() after end() or after the connection closed. */
  WRITE_AFTER_END: 'UTP_WRITE_AFTER_END',
} as const;
export type UtpErrorCode = (typeof UtpErrorCode)[keyof typeof UtpErrorCode];
