/**
 * uTP (BEP 29, https://www.bittorrent.org/beps/bep_0029.html): every protocol constant under the BEP's names,
 * and the header codec. The decoder never throws: it returns a result value, so a hostile datagram is only ever
 * counted and dropped.
 *
 *   0       4       8               16              24              32
 *   +-------+-------+---------------+---------------+---------------+
 *   | type  | ver   | extension     | connection_id                 |
 *   | timestamp_microseconds                                        |
 *   | timestamp_difference_microseconds                             |
 *   | wnd_size                                                      |
 *   | seq_nr                        | ack_nr                        |
 *   +-------+-------+---------------+---------------+---------------+
 */

/** Packet types ("type" nibble). */
export const PacketType = {
  ST_DATA: 0,
  ST_FIN: 1,
  ST_STATE: 2,
  ST_RESET: 3,
  ST_SYN: 4,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

export const UTP_VERSION = 1;
export const HEADER_BYTES = 20;
/** The longest header a data packet has: ours with the packet-size extension (a data packet has no SACK). */
export const MAX_DATA_HEADER_BYTES = HEADER_BYTES + 4;
/** Extension types. 1 is the BEP's selective ACK; libtorrent also sends 3 (close reason), which we skip. */
export const EXTENSION_NONE = 0;
export const EXTENSION_SACK = 1;
/**
 * Private to dhtchat: "I am dhtchat and take datagrams up to this many bytes" (a 2-byte body), sent in the SYN
 * and echoed in its ack, to agree on loopback-sized packets. Other implementations skip unknown extension types
 * (libtorrent and libutp walk the chain by length), so they never see a difference.
 */
export const EXTENSION_DHTCHAT_PACKET_SIZE = 0xdc;
/** Sequence and ack numbers are 16 bits and wrap. */
export const SEQ_MASK = 0xffff;

/** BEP 29 "timeouts": the floor of the retransmission timeout and its value before any RTT sample. */
export const MIN_TIMEOUT_MS = 500;
export const INITIAL_TIMEOUT_MS = 1000;
/** BEP 29 "congestion control": CCONTROL_TARGET, the queuing delay uTP accepts. */
export const CCONTROL_TARGET_US = 100_000;
/** BEP 29 MAX_CWND_INCREASE_PACKETS_PER_RTT, in bytes as libtorrent's utp_gain_factor (3000). */
export const MAX_CWND_INCREASE_BYTES_PER_RTT = 3000;
/** BEP 29 "packet loss": 3 duplicate (or selective) acks past a packet mark it lost; max_window *= 0.5. */
export const DUP_ACK_LIMIT = 3;
export const LOSS_FACTOR = 0.5;
/** BEP 29 "timeouts": the smallest packet size, the window after a timeout. */
export const MIN_PACKET_BYTES = 150;
/** BEP 29 base_delay is a sliding minimum over two minutes. */
export const BASE_DELAY_WINDOW_MS = 120_000;

export interface UtpHeader {
  type: PacketType;
  extension: number;
  connectionId: number;
  timestampUs: number;
  timestampDiffUs: number;
  wndSize: number;
  seqNr: number;
  ackNr: number;
}

export interface UtpPacket extends UtpHeader {
  /** The selective ACK bitmask, if the packet carried one (a view into the datagram). */
  sack: Buffer | undefined;
  /** The payload (a view into the datagram; not copied). */
  payload: Buffer;
  /** EXTENSION_DHTCHAT_PACKET_SIZE: the largest datagram the (dhtchat) sender takes, if it offered one. */
  largePacketBytes?: number | undefined;
}

export type DecodeError = 'too-short' | 'bad-version' | 'bad-type' | 'bad-extension';
export type DecodeResult = { ok: true; packet: UtpPacket } | { ok: false; error: DecodeError };

/** True if the datagram could be a uTP v1 packet (used by the socket demultiplexer; cheap). */
export function looksLikeUtp(bytes: Uint8Array): boolean {
  if (bytes.length < HEADER_BYTES) return false;
  const first = bytes[0] as number;
  return (first & 0x0f) === UTP_VERSION && first >> 4 <= PacketType.ST_SYN;
}

export function decodePacket(bytes: Buffer): DecodeResult {
  if (bytes.length < HEADER_BYTES) return { ok: false, error: 'too-short' };
  const first = bytes[0] as number;
  if ((first & 0x0f) !== UTP_VERSION) return { ok: false, error: 'bad-version' };
  const type = first >> 4;
  if (type > PacketType.ST_SYN) return { ok: false, error: 'bad-type' };
  let offset = HEADER_BYTES;
  let next = bytes[1] as number;
  let sack: Buffer | undefined;
  let largePacketBytes: number | undefined;
  // Extensions are a linked list: (next type, length, body). Bounded by the datagram length.
  while (next !== EXTENSION_NONE) {
    if (offset + 2 > bytes.length) return { ok: false, error: 'bad-extension' };
    const following = bytes[offset] as number;
    const length = bytes[offset + 1] as number;
    offset += 2;
    if (offset + length > bytes.length) return { ok: false, error: 'bad-extension' };
    // BEP 29 says the mask is a multiple of 4 bytes, but libtorrent sends any length: accept every length.
    if (next === EXTENSION_SACK && length > 0) sack = bytes.subarray(offset, offset + length);
    if (next === EXTENSION_DHTCHAT_PACKET_SIZE && length === 2) largePacketBytes = bytes.readUInt16BE(offset);
    offset += length;
    next = following;
  }
  return {
    ok: true,
    packet: {
      type: type as PacketType,
      extension: bytes[1] as number,
      connectionId: bytes.readUInt16BE(2),
      timestampUs: bytes.readUInt32BE(4),
      timestampDiffUs: bytes.readUInt32BE(8),
      wndSize: bytes.readUInt32BE(12),
      seqNr: bytes.readUInt16BE(16),
      ackNr: bytes.readUInt16BE(18),
      sack,
      payload: bytes.subarray(offset),
      largePacketBytes,
    },
  };
}

export interface EncodeFields {
  type: PacketType;
  connectionId: number;
  timestampUs: number;
  timestampDiffUs: number;
  wndSize: number;
  seqNr: number;
  ackNr: number;
  sack?: Uint8Array | undefined;
  payload?: Uint8Array | undefined;
  largePacketBytes?: number | undefined;
  /**
   * How many bytes just before the payload, in the payload's buffer, are ours to overwrite (the send queue's
   * headroom, on a packet's first transmission). When the header fits there it is written there and the payload
   * is not copied; otherwise the packet is a fresh buffer.
   */
  headroomBytes?: number | undefined;
}

/** Encodes one packet (header, optional SACK extension, payload): a fresh buffer, or in the payload's headroom. */
export function encodePacket(fields: EncodeFields): Buffer {
  const sackBytes = fields.sack === undefined ? 0 : 2 + fields.sack.length;
  const hasSize = fields.largePacketBytes !== undefined;
  const sizeBytes = hasSize ? 4 : 0;
  const payload = fields.payload;
  const payloadBytes = payload === undefined ? 0 : payload.length;
  const headerBytes = HEADER_BYTES + sackBytes + sizeBytes;
  const isInPlace =
    headerBytes <= (fields.headroomBytes ?? 0) &&
    payload !== undefined &&
    payloadBytes > 0 &&
    payload.byteOffset >= headerBytes;
  const out = isInPlace
    ? Buffer.from(payload.buffer, payload.byteOffset - headerBytes, headerBytes + payloadBytes)
    : Buffer.allocUnsafe(headerBytes + payloadBytes);
  out[0] = (fields.type << 4) | UTP_VERSION;
  const afterSack = hasSize ? EXTENSION_DHTCHAT_PACKET_SIZE : EXTENSION_NONE;
  out[1] = fields.sack === undefined ? afterSack : EXTENSION_SACK;
  out.writeUInt16BE(fields.connectionId & 0xffff, 2);
  out.writeUInt32BE(fields.timestampUs >>> 0, 4);
  out.writeUInt32BE(fields.timestampDiffUs >>> 0, 8);
  out.writeUInt32BE(Math.max(0, Math.min(0xffffffff, fields.wndSize)) >>> 0, 12);
  out.writeUInt16BE(fields.seqNr & SEQ_MASK, 16);
  out.writeUInt16BE(fields.ackNr & SEQ_MASK, 18);
  let offset = HEADER_BYTES;
  if (fields.sack !== undefined) {
    out[offset] = afterSack;
    out[offset + 1] = fields.sack.length;
    out.set(fields.sack, offset + 2);
    offset += sackBytes;
  }
  if (fields.largePacketBytes !== undefined) {
    out[offset] = EXTENSION_NONE;
    out[offset + 1] = 2;
    out.writeUInt16BE(Math.min(0xffff, fields.largePacketBytes), offset + 2);
    offset += sizeBytes;
  }
  if (payload !== undefined && !isInPlace) out.set(payload, offset);
  return out;
}

/** (a - b) on the 16-bit circle, in [-32768, 32767]: positive when a is after b. */
export function seqDiff(a: number, b: number): number {
  return ((a - b + 0x8000) & SEQ_MASK) - 0x8000;
}

export function seqAdd(a: number, n: number): number {
  return (a + n) & SEQ_MASK;
}

/** (a - b) on the 32-bit circle of microsecond timestamps, in [-2^31, 2^31). */
export function microsDiff(a: number, b: number): number {
  return ((a - b) | 0) as number;
}

/** The low 32 bits of a millisecond clock in microseconds; never 0, which means "no timestamp". */
export function timestampMicros(nowMs: number): number {
  const us = Math.floor(nowMs * 1000) >>> 0;
  return us === 0 ? 1 : us;
}
