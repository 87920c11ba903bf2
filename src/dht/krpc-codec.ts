/**
 * The KRPC codec: the one mapping between bencoded packets and the typed messages of krpc-message.ts.
 * Split in two files (krpc-decode.ts, krpc-encode.ts) because together they pass the 400-line ceiling; wire
 * names appear only in those two files.
 * https://www.bittorrent.org/beps/bep_0005.html#krpc-protocol
 */
export { decodeKrpc, KrpcDecodeCode, type KrpcDecodeResult } from './krpc-decode.ts';
export { encodeKrpc } from './krpc-encode.ts';
