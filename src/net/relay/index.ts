/** Relays (docs/ARCHITECTURE.md "Relays"): the protocol, the relay server, and joining one. */
export {
  type RelayJoinAttempt,
  type RelayJoinOptions,
  RELAY_CLIENT_TIMING,
  joinRelay,
} from './relay-client.ts';
export { RELAY_ERROR_MESSAGES, RelayErrorCode } from './relay-errors.ts';
export { DEFAULT_RELAY_LIMITS, type RelayLimits, RelayMatcher } from './relay-matcher.ts';
export {
  decodeRelayFrameBody,
  encodeRelayFrame,
  firstFrameService,
  RELAY_MAX_TOKENS,
  RELAY_PROTOCOL_VERSION,
  RELAY_TOKEN_BYTES,
  RelayDecodeCode,
  type RelayFrame,
  RelayFrameReader,
  RelayRefusal,
  type RelayJoin,
  type RelayRole,
} from './relay-protocol.ts';
export { RelayServer, type RelayServerOptions, type RelayStats } from './relay-server.ts';
export { type Splice, type SpliceEndReason, splice } from './relay-splice.ts';
