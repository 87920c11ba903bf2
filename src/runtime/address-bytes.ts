/**
 * Host strings to compact address bytes, without allocating: the hot path turns every requester's address into
 * the 6-byte (IPv4) or 18-byte (IPv6) compact form of BEP 5 / BEP 32, written straight into a scratch buffer.
 * The wire layer's encodeCompactAddress does the same with a fresh Buffer; here the per-packet cost matters (the
 * bootstrap server's hot path, the batched datagram socket's destinations).
 */

export const COMPACT_V4_BYTES = 6;
export const COMPACT_V6_BYTES = 18;

/**
 * Writes the compact form (ip bytes then big-endian port) of host:port at out[offset]. Returns the number of
 * bytes written (6 or 18), or 0 when host is not a plain IPv4 dotted quad or IPv6 literal (zone ids rejected).
 */
export function writeCompactAddress(host: string, port: number, out: Uint8Array, offset: number): number {
  if (port < 0 || port > 0xffff) return 0;
  if (host.indexOf(':') < 0) {
    if (!writeIpv4(host, out, offset)) return 0;
    out[offset + 4] = port >>> 8;
    out[offset + 5] = port & 0xff;
    return COMPACT_V4_BYTES;
  }
  if (!writeIpv6(host, out, offset)) return 0;
  out[offset + 16] = port >>> 8;
  out[offset + 17] = port & 0xff;
  return COMPACT_V6_BYTES;
}

/** Parses a dotted quad into 4 bytes at out[offset]; false for anything else (no leading zeros, no shorthand). */
function writeIpv4(host: string, out: Uint8Array, offset: number): boolean {
  const length = host.length;
  if (length < 7 || length > 15) return false;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= length; i++) {
    const c = i === length ? 0x2e : host.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return false;
      out[offset + part] = value;
      part++;
      value = 0;
      digits = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39) return false;
    if (digits > 0 && value === 0) return false;
    value = value * 10 + (c - 0x30);
    digits++;
    if (value > 255) return false;
  }
  return part === 4;
}

/** Parses an IPv6 literal (with :: and an optional trailing dotted quad) into 16 bytes at out[offset]. */
function writeIpv6(host: string, out: Uint8Array, offset: number): boolean {
  const length = host.length;
  if (length < 2 || length > 45) return false;
  let word = 0;
  let gap = -1;
  let i = 0;
  if (host.charCodeAt(0) === 0x3a) {
    if (host.charCodeAt(1) !== 0x3a) return false;
    gap = 0;
    i = 2;
    if (i === length) {
      out.fill(0, offset, offset + 16);
      return true;
    }
  }
  while (i < length) {
    if (word >= 8) return false;
    const start = i;
    let value = 0;
    while (i < length && i - start < 5) {
      const c = host.charCodeAt(i);
      const nibble = hexValue(c);
      if (nibble < 0) break;
      value = (value << 4) | nibble;
      i++;
    }
    const digits = i - start;
    if (i < length && host.charCodeAt(i) === 0x2e) {
      // A trailing dotted quad fills the last two words.
      if (word > 6 || !writeIpv4(host.slice(start), out, offset + word * 2)) return false;
      word += 2;
      i = length;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    out[offset + word * 2] = value >>> 8;
    out[offset + word * 2 + 1] = value & 0xff;
    word++;
    if (i === length) break;
    if (host.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < length && host.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = word;
      i++;
    } else if (i === length) {
      return false;
    }
  }
  if (gap < 0) return word === 8;
  if (word >= 8) return false;
  // Shift the words after the gap to the end and zero the gap.
  const tail = word - gap;
  const shift = 8 - word;
  for (let w = tail - 1; w >= 0; w--) {
    out[offset + (gap + shift + w) * 2] = out[offset + (gap + w) * 2]!;
    out[offset + (gap + shift + w) * 2 + 1] = out[offset + (gap + w) * 2 + 1]!;
  }
  out.fill(0, offset + gap * 2, offset + (gap + shift) * 2);
  return true;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** The host string of compact ip bytes (4 or 16) at bytes[offset]: dotted quad or RFC 5952 IPv6. */
export function hostFromBytes(bytes: Uint8Array, offset: number, ipLength: 4 | 16): string {
  if (ipLength === 4) {
    return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  }
  const words: number[] = [];
  for (let w = 0; w < 8; w++) words.push((bytes[offset + w * 2]! << 8) | bytes[offset + w * 2 + 1]!);
  // RFC 5952: compress the longest run (length >= 2) of zero words.
  let bestStart = -1;
  let bestLength = 0;
  for (let w = 0; w < 8; ) {
    if (words[w] !== 0) {
      w++;
      continue;
    }
    let end = w;
    while (end < 8 && words[end] === 0) end++;
    if (end - w > bestLength && end - w >= 2) {
      bestStart = w;
      bestLength = end - w;
    }
    w = end;
  }
  const hex = words.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The port of a compact address whose ip part is ipLength bytes long. */
export function portFromBytes(bytes: Uint8Array, offset: number, ipLength: 4 | 16): number {
  return (bytes[offset + ipLength]! << 8) | bytes[offset + ipLength + 1]!;
}
