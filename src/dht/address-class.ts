/**
 * What kind of address a host is: public, private, loopback, link-local, unspecified, multicast or reserved.
 * The DHT uses it to decide who may vote on our external IP, whose node ids are exempt from BEP 42, and which
 * addresses it accepts and hands out when `--allow-private` is off.
 *
 * Choices (where the RFCs leave room for a DHT):
 * - 100.64.0.0/10 (carrier-grade NAT, RFC 6598) is `reserved`, not `private`: it is not reachable from the
 *   Internet, yet BEP 42 does not exempt it, so it must not share the private class that drives the exemption.
 * - 198.18.0.0/15 (benchmarking, RFC 2544) is `benchmarking`: never on the Internet, so it is the network-namespace
 *   lab's stand-in for public addresses (test/lab). Like a private address it is admitted only with
 *   `--allow-private`; unlike one it is not BEP 42-exempt, so lab nodes there bind their ids to their IPs as
 *   public nodes do (libtorrent treats the range the same way).
 * - Documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) are `public`: they never appear
 *   on the Internet, so this costs nothing there, and tests may use them as stand-ins for public hosts.
 * - IPv6 unique-local fc00::/7 and the deprecated site-local fec0::/10 are `private`; anything outside 2000::/3
 *   that no other rule names is `reserved`.
 * - IPv4-mapped IPv6 (::ffff:a.b.c.d) is classified as the IPv4 address it carries.
 * - A zone index (fe80::1%eth0) is ignored; a host that does not parse is `reserved`.
 */

export type HostClass =
  | 'public'
  | 'private'
  | 'loopback'
  | 'link-local'
  | 'unspecified'
  | 'multicast'
  | 'benchmarking'
  | 'reserved';

import { hostToBytes } from '../wire/index.ts';

const IPV4_MAPPED_PREFIX = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

/**
 * The network-order bytes of a host: 4 for IPv4 (including IPv4-mapped IPv6, unwrapped), 16 for IPv6; undefined
 * when the text is not an IP address. A zone index or surrounding brackets are ignored. BEP 42, BEP 33 and the
 * tokens all hash these bytes, never the text.
 */
export function ipBytesOf(host: string): Buffer | undefined {
  let text = host.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const bytes = hostToBytes(text);
  if (bytes?.length === 16 && bytes.subarray(0, 12).equals(IPV4_MAPPED_PREFIX)) {
    return Buffer.from(bytes.subarray(12));
  }
  return bytes;
}

/** True when the host is an IPv6 address (IPv4-mapped ones count as IPv4). */
export function isIpv6(host: string): boolean {
  return ipBytesOf(host)?.length === 16;
}

/** 6 for IPv6 hosts, 4 otherwise (including unparseable text, which no rule will accept anyway). */
export function familyOf(host: string): 4 | 6 {
  return isIpv6(host) ? 6 : 4;
}

function inV4(b: Buffer, first: number, second: number, prefixBits: number): boolean {
  const value = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const net = ((first << 24) | (second << 16)) >>> 0;
  const mask = prefixBits === 0 ? 0 : (0xffffffff << (32 - prefixBits)) >>> 0;
  return (value & mask) >>> 0 === (net & mask) >>> 0;
}

function classifyV4(b: Buffer): HostClass {
  if (b.readUInt32BE(0) === 0) return 'unspecified';
  if (inV4(b, 127, 0, 8)) return 'loopback';
  if (inV4(b, 10, 0, 8) || inV4(b, 172, 16, 12) || inV4(b, 192, 168, 16)) return 'private';
  if (inV4(b, 169, 254, 16)) return 'link-local';
  if (inV4(b, 224, 0, 4)) return 'multicast';
  if (inV4(b, 198, 18, 15)) return 'benchmarking';
  // 0/8 "this network", 100.64/10 CGNAT, 192.0.0/24 IETF protocol assignments, 240/4 future use (and the
  // 255.255.255.255 broadcast).
  if (inV4(b, 0, 0, 8) || inV4(b, 100, 64, 10) || inV4(b, 240, 0, 4)) return 'reserved';
  if (b[0] === 192 && b[1] === 0 && b[2] === 0) return 'reserved';
  return 'public';
}

function classifyV6(b: Buffer): HostClass {
  const allZeroUpTo15 = b.subarray(0, 15).every((x) => x === 0);
  if (allZeroUpTo15 && b[15] === 0) return 'unspecified';
  if (allZeroUpTo15 && b[15] === 1) return 'loopback';
  const first = b[0]!;
  const second = b[1]!;
  if (first === 0xff) return 'multicast';
  if (first === 0xfe && (second & 0xc0) === 0x80) return 'link-local';
  if (first === 0xfe && (second & 0xc0) === 0xc0) return 'private';
  if ((first & 0xfe) === 0xfc) return 'private';
  // Global unicast is 2000::/3; everything else left (::/8 incl. IPv4-compatible, 100::/64 discard, ...) is not.
  if ((first & 0xe0) !== 0x20) return 'reserved';
  return 'public';
}

/** The class of a host given as text (IPv4 dotted quad or IPv6). */
export function classifyHost(host: string): HostClass {
  const bytes = ipBytesOf(host);
  if (bytes === undefined) return 'reserved';
  return bytes.length === 4 ? classifyV4(bytes) : classifyV6(bytes);
}

/** True for hosts a DHT may talk to on the open Internet. */
export function isPublicHost(host: string): boolean {
  return classifyHost(host) === 'public';
}

/**
 * True for the hosts `--allow-private` admits besides public ones: the local-network classes and the
 * benchmarking range the lab uses as its Internet.
 */
export function isAdmittedWhenPrivateAllowed(host: string): boolean {
  const c = classifyHost(host);
  return c === 'private' || c === 'loopback' || c === 'link-local' || c === 'benchmarking';
}

/** True for the local-network classes (private, loopback, link-local): usable on a LAN or loopback test network. */
export function isLocalHost(host: string): boolean {
  const c = classifyHost(host);
  return c === 'private' || c === 'loopback' || c === 'link-local';
}
