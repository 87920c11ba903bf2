/**
 * BEP 14 Local Service Discovery announces: the HTTP-over-UDP lines a BitTorrent client multicasts on its LAN
 * (239.192.152.143:6771, [ff15::efc0:988f]:6771) to say "I am at this port for these info-hashes".
 *
 *   BT-SEARCH * HTTP/1.1\r\n
 *   Host: 239.192.152.143:6771\r\n
 *   Port: <our port>\r\n
 *   Infohash: <40 hex digits>\r\n        (one line per info-hash)
 *   cookie: <opaque, to recognise our own announces>\r\n
 *   \r\n
 *   \r\n
 *
 * The decoder is strict and bounded (anyone on the LAN may send anything): at most MAX_LSD_MESSAGE_BYTES, printable
 * ASCII header lines, the request line exactly as above, one Port in 1..65535, 1..MAX_LSD_INFOHASHES info-hashes of
 * exactly 40 hex digits, at most one cookie of visible ASCII; header names are case-insensitive (libtorrent writes
 * `cookie` in lower case) and unknown headers are skipped. Anything else: undefined, never a throw.
 */
export const LSD_PORT = 6771;
export const LSD_GROUP_V4 = '239.192.152.143';
export const MAX_LSD_MESSAGE_BYTES = 1400;
/** Info-hashes in one announce at most (libtorrent sends one; several fit well under a datagram). */
export const MAX_LSD_INFOHASHES = 8;
const MAX_COOKIE_CHARS = 64;
const MAX_LINES = 24;
const REQUEST_LINE = 'BT-SEARCH * HTTP/1.1';
const INFOHASH_BYTES = 20;

export interface LsdAnnounce {
  readonly port: number;
  readonly infohashes: readonly Buffer[];
  readonly cookie?: string;
}

/** The announce's bytes. Local: throws RangeError for a port, info-hash count or cookie out of range. */
export function encodeLsdAnnounce(announce: LsdAnnounce, host = `${LSD_GROUP_V4}:${LSD_PORT}`): Buffer {
  const { port, infohashes, cookie } = announce;
  if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError('LSD port');
  if (infohashes.length < 1 || infohashes.length > MAX_LSD_INFOHASHES)
    throw new RangeError('LSD info-hashes');
  if (infohashes.some((h) => h.length !== INFOHASH_BYTES)) throw new RangeError('an info-hash is 20 bytes');
  if (cookie !== undefined && !isCookie(cookie)) throw new RangeError('LSD cookie');
  const lines = [REQUEST_LINE, `Host: ${host}`, `Port: ${port}`];
  for (const hash of infohashes) lines.push(`Infohash: ${hash.toString('hex')}`);
  if (cookie !== undefined) lines.push(`cookie: ${cookie}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n\r\n`, 'latin1');
}

/** A received announce, or undefined when it is not one (remote input: never throws). */
export function decodeLsdAnnounce(message: Uint8Array): LsdAnnounce | undefined {
  if (message.length === 0 || message.length > MAX_LSD_MESSAGE_BYTES) return undefined;
  for (const byte of message) {
    if (byte !== 0x0d && byte !== 0x0a && (byte < 0x20 || byte > 0x7e)) return undefined;
  }
  const lines = Buffer.from(message.buffer, message.byteOffset, message.length)
    .toString('latin1')
    .split('\r\n');
  if (lines.length > MAX_LINES || lines[0] !== REQUEST_LINE) return undefined;
  let port: number | undefined;
  let cookie: string | undefined;
  const infohashes: Buffer[] = [];
  let isEnded = false;
  for (const line of lines.slice(1)) {
    if (line === '') {
      isEnded = true;
      continue;
    }
    if (isEnded || /[\r\n]/.test(line)) return undefined; // text after the blank line, a bare CR or LF
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'port') {
      if (port !== undefined || !/^[0-9]{1,5}$/.test(value)) return undefined;
      port = Number(value);
      if (port < 1 || port > 0xffff) return undefined;
    } else if (name === 'infohash') {
      if (!/^[0-9a-fA-F]{40}$/.test(value) || infohashes.length >= MAX_LSD_INFOHASHES) return undefined;
      infohashes.push(Buffer.from(value, 'hex'));
    } else if (name === 'cookie') {
      if (cookie !== undefined || !isCookie(value)) return undefined;
      cookie = value;
    }
  }
  if (!isEnded || port === undefined || infohashes.length === 0) return undefined;
  return cookie === undefined ? { port, infohashes } : { port, infohashes, cookie };
}

function isCookie(value: string): boolean {
  return /^[\x21-\x7e]+$/.test(value) && value.length <= MAX_COOKIE_CHARS;
}
