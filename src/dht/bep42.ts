/**
 * BEP 42 (DHT security extension): a node id is bound to the node's external IP. The first 21 bits of the id
 * must equal the first 21 bits of crc32c((ip & mask) | (r << 29 or 61)), and the last byte carries r in its low
 * 3 bits. https://www.bittorrent.org/beps/bep_0042.html
 *
 * This file only computes and checks; whether a non-compliant node is trusted is the node's decision:
 * compliant(node) = isNodeIdValidForHost(id, host) || (isBep42Exempt(host) && !enforceBep42OnPrivate).
 */
import { DhtchatError, type Random } from '../runtime/index.ts';
import { crc32c } from '../wire/index.ts';
import { classifyHost, ipBytesOf } from './address-class.ts';
import { NODE_ID_BYTES } from './node-id.ts';

/** BEP 42 §Node ID restriction: the masks applied to the IPv4 address and to the high 64 bits of IPv6. */
const BEP42_V4_MASK = [0x03, 0x0f, 0x3f, 0xff] as const;
const BEP42_V6_MASK = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff] as const;

/**
 * crc32c of the masked address with r (0..7) in the top 3 bits, as BEP 42 defines it; undefined when the host is
 * not an IP address. Exported for the vectors (their "crc" column).
 */
export function bep42Crc(host: string, r: number): number | undefined {
  const bytes = ipBytesOf(host);
  if (bytes === undefined) return undefined;
  const mask = bytes.length === 4 ? BEP42_V4_MASK : BEP42_V6_MASK;
  const masked = Buffer.allocUnsafe(mask.length);
  for (let i = 0; i < mask.length; i++) masked[i] = bytes[i]! & mask[i]!;
  masked[0] = masked[0]! | ((r & 0x07) << 5);
  return crc32c(masked);
}

/**
 * A BEP 42 id for our external host. Starts from 20 random bytes: byte 19 is `rand` (its low 3 bits are r), the
 * low 3 bits of byte 2 stay random, and the first 21 bits are overwritten from the crc. Throws DHT_INVALID_HOST
 * when the host is not an IP address (a local error: the caller passes our own voted address).
 */
export function nodeIdForHost(host: string, random: Random): Buffer {
  const id = random.bytes(NODE_ID_BYTES);
  const crc = bep42Crc(host, id[NODE_ID_BYTES - 1]! & 0x07);
  if (crc === undefined) throw new DhtchatError('DHT_INVALID_HOST', `not an IP address: ${host}`);
  id[0] = (crc >>> 24) & 0xff;
  id[1] = (crc >>> 16) & 0xff;
  id[2] = ((crc >>> 8) & 0xf8) | (id[2]! & 0x07);
  return id;
}

/** True when the id's first 21 bits match the host's crc for the r in the id's last byte. No exemptions here. */
export function isNodeIdValidForHost(id: Buffer, host: string): boolean {
  if (id.length !== NODE_ID_BYTES) return false;
  const crc = bep42Crc(host, id[NODE_ID_BYTES - 1]! & 0x07);
  if (crc === undefined) return false;
  return id[0] === crc >>> 24 && id[1] === ((crc >>> 16) & 0xff) && (id[2]! & 0xf8) === ((crc >>> 8) & 0xf8);
}

/**
 * BEP 42 §Enforcement: "Any peer on a local network address is exempt" — 10/8, 172.16/12, 192.168/16,
 * 169.254/16, 127/8; for IPv6 we exempt the same classes (::1, fe80::/10, fc00::/7).
 */
export function isBep42Exempt(host: string): boolean {
  const c = classifyHost(host);
  return c === 'private' || c === 'loopback' || c === 'link-local';
}
