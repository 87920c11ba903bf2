/**
 * Compact peer and node encodings (BEP 5, BEP 32): an address is IP bytes then a big-endian port (6 bytes for
 * IPv4, 18 for IPv6); a node is a 20-byte id then its address (26 / 38 bytes); `nodes`/`nodes6` are those
 * concatenated.
 *
 * Decoders take remote input and return undefined on a bad length instead of throwing. Entries with port 0 are
 * kept (the bytes were well-formed); callers that contact or store them must filter them out. Encoders take
 * local values and throw DhtchatError(WIRE_COMPACT_BAD_ADDRESS / WIRE_COMPACT_BAD_NODE) on invalid input.
 */
import { DhtchatError, type UdpAddress } from '../runtime/index.ts';
import { bytesToHost, ipv4ToBytes, ipv6ToBytes } from './ip-bytes.ts';

export const COMPACT_ID_BYTES = 20;
export const COMPACT_ADDRESS_BYTES = { 4: 6, 6: 18 } as const;
export const COMPACT_NODE_BYTES = { 4: 26, 6: 38 } as const;

export const WIRE_COMPACT_BAD_ADDRESS = 'WIRE_COMPACT_BAD_ADDRESS';
export const WIRE_COMPACT_BAD_NODE = 'WIRE_COMPACT_BAD_NODE';

/** A DHT contact: its 20-byte node id and where it listens. */
export interface NodeInfo {
  id: Buffer;
  address: UdpAddress;
}

function writeAddress(a: UdpAddress, family: 4 | 6 | undefined, out: Buffer, offset: number): 4 | 6 {
  const ip = family === 6 ? undefined : ipv4ToBytes(a.host);
  const ipBytes = ip ?? (family === 4 ? undefined : ipv6ToBytes(a.host));
  if (ipBytes === undefined) {
    throw new DhtchatError(
      WIRE_COMPACT_BAD_ADDRESS,
      `not an IPv${family ?? '4/6'} host: ${JSON.stringify(a.host)}`,
    );
  }
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 0xffff) {
    throw new DhtchatError(WIRE_COMPACT_BAD_ADDRESS, `bad port: ${a.port}`);
  }
  ipBytes.copy(out, offset);
  out.writeUInt16BE(a.port, offset + ipBytes.length);
  return ipBytes.length === 4 ? 4 : 6;
}

function readAddress(b: Uint8Array, family: 4 | 6, offset: number): UdpAddress {
  const ipLength = family === 4 ? 4 : 16;
  const port = (b[offset + ipLength]! << 8) | b[offset + ipLength + 1]!;
  return { host: bytesToHost(b, family, offset), port };
}

/** 6 bytes for an IPv4 host, 18 for IPv6. */
export function encodeCompactAddress(a: UdpAddress): Buffer {
  const out = Buffer.allocUnsafe(COMPACT_ADDRESS_BYTES[6]);
  const family = writeAddress(a, undefined, out, 0);
  return family === 4 ? Buffer.from(out.subarray(0, COMPACT_ADDRESS_BYTES[4])) : out;
}

/** An address from exactly 6 (IPv4) or 18 (IPv6) bytes; undefined for any other length. Port 0 is kept. */
export function decodeCompactAddress(b: Uint8Array): UdpAddress | undefined {
  if (b.length === COMPACT_ADDRESS_BYTES[4]) return readAddress(b, 4, 0);
  if (b.length === COMPACT_ADDRESS_BYTES[6]) return readAddress(b, 6, 0);
  return undefined;
}

/** Concatenated 26-byte (family 4) or 38-byte (family 6) entries; every node must match the family. */
export function encodeCompactNodes(nodes: readonly NodeInfo[], family: 4 | 6): Buffer {
  const size = COMPACT_NODE_BYTES[family];
  const out = Buffer.allocUnsafe(nodes.length * size);
  nodes.forEach((node, i) => {
    if (!(node.id instanceof Uint8Array) || node.id.length !== COMPACT_ID_BYTES) {
      throw new DhtchatError(WIRE_COMPACT_BAD_NODE, `node id must be ${COMPACT_ID_BYTES} bytes`);
    }
    out.set(node.id, i * size);
    writeAddress(node.address, family, out, i * size + COMPACT_ID_BYTES);
  });
  return out;
}

/**
 * Nodes from a `nodes` (family 4) or `nodes6` (family 6) string; undefined when the length is not a multiple
 * of the entry size. Ids are copies. Entries with port 0 are kept: callers filter them.
 */
export function decodeCompactNodes(b: Uint8Array, family: 4 | 6): NodeInfo[] | undefined {
  const size = COMPACT_NODE_BYTES[family];
  if (b.length % size !== 0) return undefined;
  const nodes: NodeInfo[] = [];
  for (let offset = 0; offset < b.length; offset += size) {
    nodes.push({
      id: Buffer.from(b.subarray(offset, offset + COMPACT_ID_BYTES)),
      address: readAddress(b, family, offset + COMPACT_ID_BYTES),
    });
  }
  return nodes;
}
