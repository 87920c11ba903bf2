/**
 * IP host strings ⇄ raw address bytes (4 or 16, network order), as the compact encodings and BEP 42 need them.
 * Hosts follow the runtime's UdpAddress convention: IPv4 dotted quads, IPv6 lower-case. Output of
 * bytesToHost is canonical (RFC 5952: lower-case, no leading zeros, longest zero run compressed, IPv4-mapped
 * addresses as ::ffff:a.b.c.d), so host strings are usable as map keys.
 */
import { isIPv6 } from 'node:net';

/**
 * The 4 bytes of a dotted quad, or undefined when host is not one. Accepts exactly what net.isIPv4 accepts
 * (four decimal octets 0-255, no leading zeros, nothing else), but by a hand-written scan: this runs for every
 * packet (families, classes, tokens, compact encodings), and the regex plus split cost more than the rest of a
 * ping reply.
 */
export function ipv4ToBytes(host: string): Buffer | undefined {
  const length = host.length;
  if (length < 7 || length > 15) return undefined;
  const out = Buffer.allocUnsafe(4);
  let octet = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= length; i++) {
    const c = i === length ? 0x2e : host.charCodeAt(i);
    if (c === 0x2e) {
      // '.' (or the end): close the octet; none may be empty or have a leading zero.
      if (digits === 0 || octet > 3 || (digits > 1 && host.charCodeAt(i - digits) === 0x30)) return undefined;
      out[octet++] = value;
      value = 0;
      digits = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39 || digits === 3) return undefined;
    value = value * 10 + (c - 0x30);
    digits++;
    if (value > 255) return undefined;
  }
  return octet === 4 ? out : undefined;
}

/** Parses one side of an IPv6 address (groups around "::") into 16-bit words. */
function ipv6Words(side: string): number[] | undefined {
  if (side === '') return [];
  const words: number[] = [];
  const groups = side.split(':');
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i]!;
    if (group.includes('.')) {
      // An embedded IPv4 tail (::ffff:1.2.3.4) is the last group and counts as two words.
      const v4 = i === groups.length - 1 ? ipv4ToBytes(group) : undefined;
      if (v4 === undefined) return undefined;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      words.push(Number.parseInt(group, 16));
    }
  }
  return words;
}

/** The 16 bytes of an IPv6 address (no zone id), or undefined when host is not one. */
export function ipv6ToBytes(host: string): Buffer | undefined {
  if (host.includes('%') || !isIPv6(host)) return undefined;
  const halves = host.split('::');
  if (halves.length > 2) return undefined;
  const head = ipv6Words(halves[0]!);
  const tail = halves.length === 2 ? ipv6Words(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 2 ? zeros < 1 : zeros !== 0) return undefined;
  const words = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  const out = Buffer.allocUnsafe(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(words[i]!, i * 2);
  return out;
}

/** 4 or 16 address bytes for an IPv4 or IPv6 host, or undefined. */
export function hostToBytes(host: string): Buffer | undefined {
  return ipv4ToBytes(host) ?? ipv6ToBytes(host);
}

function formatIpv4(b: Uint8Array, offset: number): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

function formatIpv6(b: Uint8Array, offset: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[offset + i * 2]! << 8) | b[offset + i * 2 + 1]!);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${formatIpv4(b, offset + 12)}`;
  }
  // RFC 5952 §4.2: compress the longest run of two or more zero words, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The canonical host string for 4 or 16 address bytes at offset. */
export function bytesToHost(b: Uint8Array, family: 4 | 6, offset = 0): string {
  return family === 4 ? formatIpv4(b, offset) : formatIpv6(b, offset);
}
