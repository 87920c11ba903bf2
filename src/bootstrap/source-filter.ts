/**
 * Which sources the bootstrap server talks to, and how it keys them. Works on the compact address bytes the hot
 * path already has (no string classification per packet); test/bootstrap/source-filter.test.ts checks it
 * against the dht layer's classifyHost as a naive twin.
 *
 * Without allowPrivate, only globally routable unicast sources are served (the reference drops unspecified,
 * RFC 1918, link-local and loopback IPv4; link-local, loopback, multicast, unspecified, site-local, ULA,
 * IPv4-compatible and IPv4-mapped IPv6). With allowPrivate, private and loopback sources are served too, and
 * loopback sources are keyed by address and port, so test nodes sharing 127.0.0.1 count as different nodes.
 * The benchmarking range 198.18.0.0/15 (RFC 2544) is never on the Internet: it is served only with allowPrivate,
 * as the network-namespace lab's stand-in for public addresses (test/lab), keyed by IP like a public host.
 */

export const SourceVerdict = {
  /** Drop: never answered. */
  rejected: 0,
  /** Served; per-IP rules key it by its IP address. */
  keyedByIp: 1,
  /** Served; per-IP rules key it by IP and port (loopback under allowPrivate). */
  keyedByIpAndPort: 2,
} as const;
export type SourceVerdict = (typeof SourceVerdict)[keyof typeof SourceVerdict];

/** Classifies the source whose compact address (ip then port) is at bytes[offset], ipLength 4 or 16. */
export function classifySource(
  bytes: Uint8Array,
  offset: number,
  ipLength: 4 | 16,
  isPrivateAllowed: boolean,
): SourceVerdict {
  const port = (bytes[offset + ipLength]! << 8) | bytes[offset + ipLength + 1]!;
  if (port === 0) return SourceVerdict.rejected;
  const kind = ipLength === 4 ? ipv4Kind(bytes, offset) : ipv6Kind(bytes, offset);
  if (kind === KIND_PUBLIC) return SourceVerdict.keyedByIp;
  if (kind === KIND_NEVER || !isPrivateAllowed) return SourceVerdict.rejected;
  return kind === KIND_LOOPBACK ? SourceVerdict.keyedByIpAndPort : SourceVerdict.keyedByIp;
}

const KIND_PUBLIC = 0;
const KIND_PRIVATE = 1;
const KIND_LOOPBACK = 2;
/** Unspecified, multicast, broadcast, reserved: never a DHT node. */
const KIND_NEVER = 3;

function ipv4Kind(b: Uint8Array, o: number): number {
  const a0 = b[o]!;
  const a1 = b[o + 1]!;
  if (a0 === 0) return KIND_NEVER;
  if (a0 === 127) return KIND_LOOPBACK;
  if (a0 >= 224) return KIND_NEVER; // multicast 224/4, reserved 240/4, broadcast
  if (a0 === 10) return KIND_PRIVATE;
  if (a0 === 172 && (a1 & 0xf0) === 16) return KIND_PRIVATE;
  if (a0 === 192 && a1 === 168) return KIND_PRIVATE;
  if (a0 === 169 && a1 === 254) return KIND_PRIVATE; // link-local
  if (a0 === 100 && (a1 & 0xc0) === 64) return KIND_PRIVATE; // carrier-grade NAT 100.64/10
  if (a0 === 198 && (a1 & 0xfe) === 18) return KIND_PRIVATE; // benchmarking 198.18/15: the lab's Internet
  return KIND_PUBLIC;
}

function ipv6Kind(b: Uint8Array, o: number): number {
  const first = b[o]!;
  if (first === 0xff) return KIND_NEVER; // multicast
  if (first === 0xfe && (b[o + 1]! & 0xc0) === 0x80) return KIND_PRIVATE; // link-local fe80::/10
  if (first === 0xfe && (b[o + 1]! & 0xc0) === 0xc0) return KIND_PRIVATE; // site-local fec0::/10
  if ((first & 0xfe) === 0xfc) return KIND_PRIVATE; // unique local fc00::/7
  if (first !== 0) return KIND_PUBLIC;
  // ::/80 prefix: unspecified, loopback, IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d).
  for (let i = 1; i < 10; i++) if (b[o + i] !== 0) return KIND_PUBLIC;
  const w5 = (b[o + 10]! << 8) | b[o + 11]!;
  if (w5 === 0xffff) return KIND_NEVER; // mapped: a dual-stack artefact, never a real IPv6 node
  if (w5 !== 0) return KIND_PUBLIC;
  let low = 0;
  for (let i = 12; i < 15; i++) low |= b[o + i]!;
  const last = b[o + 15]!;
  if (low === 0 && last === 1) return KIND_LOOPBACK;
  return KIND_NEVER; // unspecified or IPv4-compatible (deprecated)
}
