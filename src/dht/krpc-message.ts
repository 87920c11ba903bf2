/**
 * Typed KRPC messages (BEP 5, 32, 33, 43, 44, 51), camelCase. Wire names (`info_hash`, `nodes6`) appear only in
 * krpc-codec.ts, which maps between these and bencoded dictionaries.
 * https://www.bittorrent.org/beps/bep_0005.html
 */
import type { BValue, NodeInfo, UdpAddress } from './dht-types.ts';

/** 'n4' / 'n6' as in BEP 32's `want`. */
export type WantFamily = 'n4' | 'n6';

interface QueryBase {
  readonly kind: 'query';
  readonly tid: Buffer;
  /** Sender's id (`a.id`). */
  readonly id: Buffer;
  /** BEP 43 read-only flag (`ro: 1`). */
  readonly readOnly: boolean;
  /** BEP 32 `want`; empty means "the family the query came in on". */
  readonly want: readonly WantFamily[];
  /** Client version (`v`), if sent. */
  readonly version?: Buffer;
}

export interface PingQuery extends QueryBase {
  readonly method: 'ping';
}

export interface FindNodeQuery extends QueryBase {
  readonly method: 'find_node';
  readonly target: Buffer;
}

export interface GetPeersQuery extends QueryBase {
  readonly method: 'get_peers';
  readonly infoHash: Buffer;
  /** BEP 33: ask for bloom filters instead of peers. */
  readonly scrape: boolean;
  /** BEP 33: do not return seeds. */
  readonly noSeed: boolean;
}

export interface AnnouncePeerQuery extends QueryBase {
  readonly method: 'announce_peer';
  readonly infoHash: Buffer;
  readonly port: number;
  readonly impliedPort: boolean;
  readonly token: Buffer;
  /** BEP 33 `seed` flag. */
  readonly seed: boolean;
}

export interface GetQuery extends QueryBase {
  readonly method: 'get';
  readonly target: Buffer;
  /** Only return v if the stored seq is greater than this (BEP 44 `seq`). */
  readonly seq?: number;
}

export interface PutQuery extends QueryBase {
  readonly method: 'put';
  readonly token: Buffer;
  readonly v: BValue;
  /** The exact bytes of `v` as received (BEP 44 signs and hashes these). */
  readonly vBytes: Buffer;
  /** Mutable items only. */
  readonly k?: Buffer;
  readonly sig?: Buffer;
  readonly seq?: number;
  readonly cas?: number;
  readonly salt?: Buffer;
}

export interface SampleInfohashesQuery extends QueryBase {
  readonly method: 'sample_infohashes';
  readonly target: Buffer;
}

/**
 * dhtchat extension (docs/ARCHITECTURE.md "Introducers"): asks the receiver to pass `note` on to `to`, an address
 * that queried the receiver recently. Other implementations refuse it (libtorrent: 203) or stay silent.
 */
export interface DhtchatForwardQuery extends QueryBase {
  readonly method: 'dhtchat_forward';
  readonly to: UdpAddress;
  readonly note: Buffer;
}

/** dhtchat extension: a note an introducer forwards; `from` is the original caller as the introducer saw it. */
export interface DhtchatNoteQuery extends QueryBase {
  readonly method: 'dhtchat_note';
  readonly from: UdpAddress;
  readonly note: Buffer;
}

/** A query whose method we do not know but which carries `target` or `info_hash` (answered like find_node). */
export interface UnknownQuery extends QueryBase {
  readonly method: 'unknown';
  readonly name: string;
  readonly target?: Buffer;
}

export type KrpcQuery =
  | PingQuery
  | FindNodeQuery
  | GetPeersQuery
  | AnnouncePeerQuery
  | GetQuery
  | PutQuery
  | SampleInfohashesQuery
  | DhtchatForwardQuery
  | DhtchatNoteQuery
  | UnknownQuery;

export type KrpcMethod = KrpcQuery['method'];

/** A response (`y: r`). Every field but id is optional; which ones are present depends on the query. */
export interface KrpcResponse {
  readonly kind: 'response';
  readonly tid: Buffer;
  readonly id: Buffer;
  /** Top-level `ip`: how the responder sees us (BEP 42). */
  readonly yourAddress?: UdpAddress;
  readonly nodes?: readonly NodeInfo[];
  readonly nodes6?: readonly NodeInfo[];
  readonly token?: Buffer;
  readonly values?: readonly UdpAddress[];
  /** BEP 33 bloom filters (256 bytes each). */
  readonly bfsd?: Buffer;
  readonly bfpe?: Buffer;
  /** BEP 44 */
  readonly v?: BValue;
  readonly vBytes?: Buffer;
  readonly k?: Buffer;
  readonly sig?: Buffer;
  readonly seq?: number;
  /** BEP 51 */
  readonly interval?: number;
  readonly num?: number;
  readonly samples?: readonly Buffer[];
  readonly version?: Buffer;
}

/** An error (`y: e`, `e: [code, message]`). */
export interface KrpcError {
  readonly kind: 'error';
  readonly tid: Buffer;
  readonly code: number;
  readonly message: string;
  readonly yourAddress?: UdpAddress;
  readonly version?: Buffer;
}

export type KrpcMessage = KrpcQuery | KrpcResponse | KrpcError;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * A query as a lookup hands it to the node for sending: the node fills in tid, id, `ro` and `want`.
 * For `put`, `vBytes` must equal encodeBencode(v).
 */
export type OutgoingQuery = DistributiveOmit<
  KrpcQuery,
  'kind' | 'tid' | 'id' | 'readOnly' | 'want' | 'version'
>;
