/**
 * PCP, the Port Control Protocol (RFC 6887, https://www.rfc-editor.org/rfc/rfc6887): its constants under the
 * RFC's names, and the codec for the one request we send — MAP (§11) for UDP — and its response. The decoder
 * never throws: a datagram that is not a well-formed MAP response (or a version-negotiation answer, §9) is a
 * value saying why.
 *
 *   request: header (§7.1, 24 bytes) + MAP (§11.1, 36 bytes)    response: header (§7.2, 24) + MAP (36) + options
 *   +---------+-+-------+-----------------+                      +---------+-+-------+--------+--------+
 *   | vers 2  |0| op 1  | reserved        |                      | vers 2  |1| op 1  | rsvd   | result |
 *   | requested lifetime (s)              |                      | lifetime (s)                        |
 *   | PCP client's IP address (16)        |                      | epoch time (s)                      |
 *   | mapping nonce (12)                  |                      | reserved (12)                       |
 *   | proto 17| reserved (3)              |                      | mapping nonce (12)                  |
 *   | internal port  | suggested ext port |                      | proto   | reserved (3)              |
 *   | suggested external IP address (16)  |                      | internal port  | assigned ext port  |
 *   +-------------------------------------+                      | assigned external IP address (16)   |
 *                                                                +-------------------------------------+
 * Addresses are 16 bytes; an IPv4 one is IPv4-mapped (::ffff:a.b.c.d), and "IPv4, no preference" is
 * ::ffff:0.0.0.0 (§11.1).
 */
import { normalizeHost } from '../../runtime/index.ts';
import { bytesToHost, hostToBytes } from '../../wire/index.ts';

export const PCP_VERSION = 2;
/** The PCP server's port (§19.1), shared with NAT-PMP; responses come to the port the request came from. */
export const PCP_SERVER_PORT = 5351;
export const PcpOpcode = { announce: 0, map: 1, peer: 2 } as const;
/** The R bit: set in responses (§7.2). */
export const PCP_RESPONSE_BIT = 0x80;
export const PcpResultCode = {
  success: 0,
  unsuppVersion: 1,
  notAuthorized: 2,
  malformedRequest: 3,
  unsuppOpcode: 4,
  unsuppOption: 5,
  malformedOption: 6,
  networkFailure: 7,
  noResources: 8,
  unsuppProtocol: 9,
  userExQuota: 10,
  cannotProvideExternal: 11,
  addressMismatch: 12,
  excessiveRemotePeers: 13,
} as const;
/** IANA protocol number for UDP, the MAP opcode's "Protocol" field. */
export const IANA_PROTOCOL_UDP = 17;
export const PCP_NONCE_BYTES = 12;
/** Every PCP message is at most 1100 bytes (§7) and a multiple of 4 (§7.3 pads options to 4). */
export const PCP_MAX_MESSAGE_BYTES = 1100;

const HEADER_BYTES = 24;
const MAP_BYTES = 36;
const OPTION_HEADER_BYTES = 4;
const IPV4_MAPPED_PREFIX = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

export interface PcpMapRequest {
  /** Our address as the server sees it (the source address of the request: §8.1). */
  clientHost: string;
  nonce: Buffer;
  internalPort: number;
  /** 0: no preference. */
  suggestedExternalPort: number;
  /** undefined: no preference (of the client's family). */
  suggestedExternalHost?: string;
  /** 0 deletes the mapping (§15). */
  lifetimeS: number;
}

/** The 60-byte MAP request, or undefined when a host is not an IP address or the nonce is not 12 bytes. */
export function encodeMapRequest(request: PcpMapRequest): Buffer | undefined {
  const client = addressBytes(request.clientHost);
  if (client === undefined || request.nonce.length !== PCP_NONCE_BYTES) return undefined;
  const isV4 = client.subarray(0, 12).equals(IPV4_MAPPED_PREFIX);
  const suggested =
    request.suggestedExternalHost === undefined
      ? noPreference(isV4)
      : addressBytes(request.suggestedExternalHost);
  if (suggested === undefined) return undefined;
  const out = Buffer.alloc(HEADER_BYTES + MAP_BYTES);
  out[0] = PCP_VERSION;
  out[1] = PcpOpcode.map;
  out.writeUInt32BE(request.lifetimeS, 4);
  client.copy(out, 8);
  request.nonce.copy(out, 24);
  out[36] = IANA_PROTOCOL_UDP;
  out.writeUInt16BE(request.internalPort, 40);
  out.writeUInt16BE(request.suggestedExternalPort, 42);
  suggested.copy(out, 44);
  return out;
}

export type PcpResponse =
  | {
      kind: 'map';
      resultCode: number;
      /** On success the mapping's lifetime; on an error, how long the error holds (§7.2). */
      lifetimeS: number;
      epochS: number;
      nonce: Buffer;
      protocol: number;
      internalPort: number;
      externalPort: number;
      /** Dotted quad for IPv4-mapped addresses. */
      externalHost: string;
    }
  /** An error answer without the MAP fields (the server could not parse them). */
  | { kind: 'mapError'; resultCode: number; lifetimeS: number; epochS: number }
  /**
   * The server speaks another version (§9): `serverVersion` 0 is a NAT-PMP server (RFC 6886 §3.5 answers any
   * non-zero version this way), 1 an old PCP draft.
   */
  | { kind: 'unsupportedVersion'; serverVersion: number };

export const PcpDecodeError = {
  size: 'PCP_BAD_SIZE',
  version: 'PCP_BAD_VERSION',
  notResponse: 'PCP_NOT_RESPONSE',
  opcode: 'PCP_BAD_OPCODE',
  option: 'PCP_BAD_OPTION',
} as const;
export type PcpDecodeError = (typeof PcpDecodeError)[keyof typeof PcpDecodeError];

export type PcpDecodeResult = { ok: true; response: PcpResponse } | { ok: false; code: PcpDecodeError };

export function decodePcpResponse(bytes: Uint8Array): PcpDecodeResult {
  if (bytes.length < 4 || bytes.length > PCP_MAX_MESSAGE_BYTES)
    return { ok: false, code: PcpDecodeError.size };
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const isResponse = (b[1]! & PCP_RESPONSE_BIT) !== 0;
  if (b[0] !== PCP_VERSION) {
    // Version negotiation: in both NAT-PMP's 16-bit result field and PCP's 8-bit one, byte 3 holds the code.
    if (isResponse && b[3] === PcpResultCode.unsuppVersion && b.length >= 8) {
      return { ok: true, response: { kind: 'unsupportedVersion', serverVersion: b[0]! } };
    }
    return { ok: false, code: PcpDecodeError.version };
  }
  if (!isResponse) return { ok: false, code: PcpDecodeError.notResponse };
  if (b.length < HEADER_BYTES || b.length % 4 !== 0) return { ok: false, code: PcpDecodeError.size };
  if ((b[1]! & ~PCP_RESPONSE_BIT) !== PcpOpcode.map) return { ok: false, code: PcpDecodeError.opcode };
  const resultCode = b[3]!;
  const lifetimeS = b.readUInt32BE(4);
  const epochS = b.readUInt32BE(8);
  if (b.length < HEADER_BYTES + MAP_BYTES) {
    if (resultCode === PcpResultCode.success) return { ok: false, code: PcpDecodeError.size };
    return { ok: true, response: { kind: 'mapError', resultCode, lifetimeS, epochS } };
  }
  if (!areOptionsWellFormed(b.subarray(HEADER_BYTES + MAP_BYTES))) {
    return { ok: false, code: PcpDecodeError.option };
  }
  const map = b.subarray(HEADER_BYTES, HEADER_BYTES + MAP_BYTES);
  return {
    ok: true,
    response: {
      kind: 'map',
      resultCode,
      lifetimeS,
      epochS,
      nonce: Buffer.from(map.subarray(0, PCP_NONCE_BYTES)),
      protocol: map[12]!,
      internalPort: map.readUInt16BE(16),
      externalPort: map.readUInt16BE(18),
      externalHost: normalizeHost(bytesToHost(map, 6, 20)),
    },
  };
}

/** Options (§7.3) are skipped, but their lengths must add up exactly: code, reserved, length, data padded to 4. */
function areOptionsWellFormed(options: Buffer): boolean {
  let offset = 0;
  while (offset < options.length) {
    if (offset + OPTION_HEADER_BYTES > options.length) return false;
    const dataBytes = options.readUInt16BE(offset + 2);
    offset += OPTION_HEADER_BYTES + Math.ceil(dataBytes / 4) * 4;
    if (offset > options.length) return false;
  }
  return true;
}

/** 16 bytes for an address: IPv6 as is, IPv4 mapped. */
function addressBytes(host: string): Buffer | undefined {
  const raw = hostToBytes(host);
  if (raw === undefined) return undefined;
  return raw.length === 16 ? raw : Buffer.concat([IPV4_MAPPED_PREFIX, raw]);
}

function noPreference(isV4: boolean): Buffer {
  return isV4 ? Buffer.concat([IPV4_MAPPED_PREFIX, Buffer.alloc(4)]) : Buffer.alloc(16);
}
