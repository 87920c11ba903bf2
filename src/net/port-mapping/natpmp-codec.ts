/**
 * NAT-PMP (RFC 6886, https://www.rfc-editor.org/rfc/rfc6886): every constant under the RFC's names, and the codec
 * for the two requests we send (§3.2 external address, §3.3 map UDP) and their responses. The decoder never
 * throws: a datagram that is not exactly a response we can use is a value saying why.
 *
 *   request (§3.3, 12 bytes)                       response (§3.3, 16 bytes)
 *   +--------+--------+-----------------+          +--------+--------+-----------------+
 *   | vers 0 | op 1   | reserved (0)    |          | vers 0 | op 129 | result code     |
 *   | internal port   | suggested ext p |          | seconds since start of epoch      |
 *   | requested lifetime (s)            |          | internal port   | mapped ext port |
 *   +-----------------------------------+          | lifetime (s)                      |
 *                                                  +-----------------------------------+
 * External address (§3.2): the request is [0, 0]; the response [0, 128, result(2), epoch(4), address(4)].
 */

export const NATPMP_VERSION = 0;
/** The gateway listens here (§3.1); replies come from it to the port we sent from. */
export const NATPMP_SERVER_PORT = 5351;
export const NatPmpOpcode = { externalAddress: 0, mapUdp: 1 } as const;
/** A response's opcode is the request's plus 128 (§3.2). */
export const NATPMP_RESPONSE_OPCODE_OFFSET = 128;
export const NatPmpResultCode = {
  success: 0,
  unsupportedVersion: 1,
  notAuthorized: 2,
  networkFailure: 3,
  outOfResources: 4,
  unsupportedOpcode: 5,
} as const;
/** The RFC's recommended mapping lifetime (§3.3). */
export const NATPMP_RECOMMENDED_LIFETIME_S = 7200;

const EXTERNAL_ADDRESS_RESPONSE_BYTES = 12;
const MAP_REQUEST_BYTES = 12;
const MAP_RESPONSE_BYTES = 16;
/** An error response carries at least version, opcode, result code and epoch (§3.5). */
const ERROR_RESPONSE_MIN_BYTES = 8;
/** Nothing in NAT-PMP is longer than PCP's limit, which shares its port (RFC 6887 §7). */
const MAX_RESPONSE_BYTES = 1100;

export function encodeExternalAddressRequest(): Buffer {
  return Buffer.from([NATPMP_VERSION, NatPmpOpcode.externalAddress]);
}

export interface NatPmpMapRequest {
  internalPort: number;
  /** 0: no preference. */
  suggestedExternalPort: number;
  /** 0 deletes the mapping (§3.4; then the suggested external port must be 0 too). */
  lifetimeS: number;
}

export function encodeMapRequest(request: NatPmpMapRequest): Buffer {
  const out = Buffer.alloc(MAP_REQUEST_BYTES);
  out[0] = NATPMP_VERSION;
  out[1] = NatPmpOpcode.mapUdp;
  out.writeUInt16BE(request.internalPort, 4);
  out.writeUInt16BE(request.suggestedExternalPort, 6);
  out.writeUInt32BE(request.lifetimeS, 8);
  return out;
}

export type NatPmpOpcodeName = 'externalAddress' | 'mapUdp';

export type NatPmpResponse =
  | { kind: 'externalAddress'; epochS: number; externalHost: string }
  | { kind: 'mapping'; epochS: number; internalPort: number; externalPort: number; lifetimeS: number }
  /** A non-zero result code: the fields past the epoch are undefined (§3.5). */
  | { kind: 'error'; opcode: NatPmpOpcodeName; resultCode: number; epochS: number };

export const NatPmpDecodeError = {
  size: 'NATPMP_BAD_SIZE',
  version: 'NATPMP_BAD_VERSION',
  opcode: 'NATPMP_BAD_OPCODE',
} as const;
export type NatPmpDecodeError = (typeof NatPmpDecodeError)[keyof typeof NatPmpDecodeError];

export type NatPmpDecodeResult =
  | { ok: true; response: NatPmpResponse }
  | { ok: false; code: NatPmpDecodeError };

export function decodeNatPmpResponse(bytes: Uint8Array): NatPmpDecodeResult {
  if (bytes.length < ERROR_RESPONSE_MIN_BYTES || bytes.length > MAX_RESPONSE_BYTES) {
    return { ok: false, code: NatPmpDecodeError.size };
  }
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (b[0] !== NATPMP_VERSION) return { ok: false, code: NatPmpDecodeError.version };
  const opcode = opcodeName(b[1]!);
  if (opcode === undefined) return { ok: false, code: NatPmpDecodeError.opcode };
  const resultCode = b.readUInt16BE(2);
  const epochS = b.readUInt32BE(4);
  if (resultCode !== NatPmpResultCode.success) {
    return { ok: true, response: { kind: 'error', opcode, resultCode, epochS } };
  }
  if (opcode === 'externalAddress') {
    if (b.length !== EXTERNAL_ADDRESS_RESPONSE_BYTES) return { ok: false, code: NatPmpDecodeError.size };
    const externalHost = `${b[8]}.${b[9]}.${b[10]}.${b[11]}`;
    return { ok: true, response: { kind: 'externalAddress', epochS, externalHost } };
  }
  if (b.length !== MAP_RESPONSE_BYTES) return { ok: false, code: NatPmpDecodeError.size };
  return {
    ok: true,
    response: {
      kind: 'mapping',
      epochS,
      internalPort: b.readUInt16BE(8),
      externalPort: b.readUInt16BE(10),
      lifetimeS: b.readUInt32BE(12),
    },
  };
}

function opcodeName(byte: number): NatPmpOpcodeName | undefined {
  if (byte === NATPMP_RESPONSE_OPCODE_OFFSET + NatPmpOpcode.externalAddress) return 'externalAddress';
  if (byte === NATPMP_RESPONSE_OPCODE_OFFSET + NatPmpOpcode.mapUdp) return 'mapUdp';
  return undefined;
}
