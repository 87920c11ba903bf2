/** Public surface of the wire layer: strict bencode, compact encodings (BEP 5/32), CRC-32C, IP bytes. */
export { decodeBencode } from './bencode-decode.ts';
export { encodeBencode } from './bencode-encode.ts';
export {
  type BDict,
  BencodeErrorCode,
  type BencodeErrorCodeValue,
  type BValue,
  DEFAULT_DECODE_LIMITS,
  type DecodeLimits,
  type DecodeResult,
  WIRE_BENCODE_UNENCODABLE,
} from './bencode-types.ts';
export {
  COMPACT_ADDRESS_BYTES,
  COMPACT_ID_BYTES,
  COMPACT_NODE_BYTES,
  decodeCompactAddress,
  decodeCompactNodes,
  encodeCompactAddress,
  encodeCompactNodes,
  type NodeInfo,
  WIRE_COMPACT_BAD_ADDRESS,
  WIRE_COMPACT_BAD_NODE,
} from './compact.ts';
export { crc32c } from './crc32c.ts';
export { bytesToHost, hostToBytes, ipv4ToBytes, ipv6ToBytes } from './ip-bytes.ts';
export { rawValueAt } from './raw-value.ts';
export {
  decodeLsdAnnounce,
  encodeLsdAnnounce,
  LSD_GROUP_V4,
  LSD_PORT,
  type LsdAnnounce,
  MAX_LSD_INFOHASHES,
  MAX_LSD_MESSAGE_BYTES,
} from './lsd-message.ts';
