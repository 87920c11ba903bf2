/**
 * The KRPC codec: the one mapping between bencoded packets and the typed messages of krpc-message.ts.
 * Split in two files (krpc-decode.ts, krpc-encode.ts) because together they pass the 400-line ceiling. Each
 * first tries a fast path for the common shapes (krpc-scan.ts, krpc-write.ts) and keeps the generic one as the
 * reference; wire names appear only in these files.
 * https://www.bittorrent.org/beps/bep_0005.html#krpc-protocol
 */
export { decodeKrpc, KrpcDecodeCode, type KrpcDecodeResult } from './krpc-decode.ts';
export { encodeKrpc } from './krpc-encode.ts';
