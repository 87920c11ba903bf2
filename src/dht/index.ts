/**
 * The dht layer's public surface: the DhtNode facade and what its callers need (options and result types,
 * BEP 44 targets and signing helpers, BEP 42 id helpers, address classes, protocol constants).
 * Everything else in src/dht/ is internal.
 */
export {
  type HostClass,
  classifyHost,
  familyOf,
  isIpv6,
  isLocalHost,
  isPublicHost,
} from './address-class.ts';
export { isBep42Exempt, isNodeIdValidForHost, nodeIdForHost } from './bep42.ts';
export {
  immutableTarget,
  type MutableSignatureFields,
  mutableTarget,
  type SignableFields,
  signableBuffer,
  verifyMutableSignature,
} from './bep44.ts';
export {
  ALPHA,
  BEP44_MAX_SALT_BYTES,
  BEP44_MAX_V_BYTES,
  BEP44_REPUBLISH_MS,
  CLIENT_VERSION,
  K,
  KrpcErrorCode,
  MAX_OUTGOING_PACKET_BYTES,
  QUERY_TIMEOUT_MS,
} from './constants.ts';
export {
  DhtNode,
  type DhtNodeOptions,
  type DhtStats,
  type PutMutableArgs,
  type StoreResult,
} from './dht-node.ts';
export type { DhtCounters } from './dht-stats.ts';
export type { BootstrapSource, JoinEvent } from './joiner.ts';
export type { BValue, NodeInfo, UdpAddress } from './dht-types.ts';
export { decodeKrpc, encodeKrpc, KrpcDecodeCode, type KrpcDecodeResult } from './krpc-codec.ts';
export type {
  KrpcError,
  KrpcMessage,
  KrpcMethod,
  KrpcQuery,
  KrpcResponse,
  OutgoingQuery,
} from './krpc-message.ts';
export type { ItemStoreOptions } from './item-store.ts';
export type { FoundItem, ItemHolder, RequeryResult } from './lookups/get-item.ts';
export { compareDistance, idToHex, NODE_ID_BYTES, shortId, xorDistance } from './node-id.ts';
export type { PeerStoreOptions } from './peer-store.ts';
export { RateLimiter, type RateLimiterOptions } from './rate-limiter.ts';
export {
  decodeRoutingTableState,
  encodeRoutingTableState,
  type RoutingTableState,
} from './routing-table-state.ts';
export { KrpcRemoteError } from './rpc-manager.ts';
export {
  type IncomingNote,
  NOTE_MAX_BYTES,
  type NoteListener,
  RECENT_QUERIER_MS,
} from './note-relay.ts';
