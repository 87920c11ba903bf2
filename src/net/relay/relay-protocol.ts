/**
 * The relay protocol's frames (docs/ARCHITECTURE.md "Relays"). A relay joins two uTP streams whose first frames
 * present the same pair token, then copies bytes between them; the friends run Noise end to end inside, so the
 * relay only ever sees these few control frames and ciphertext.
 *
 * Every frame is framed like the secure stream's (src/net/secure/frame-format.ts): a 2-byte big-endian length,
 * then the body, whose first byte says what it is. A secure stream's first body byte is its Noise pattern id
 * (1 or 2); JOIN's is 'R', so one listener tells a relay half from a chat session by its first frame
 * (firstFrameService below).
 *
 *   JOIN     client → relay, the stream's first frame:  'R' ‖ version (1) ‖ role (0 | 1) ‖ n (1..2) ‖ n × token(32)
 *   WAITING  relay → client, the join is accepted:      'W' ‖ seconds the half may wait for its partner (u16)
 *   MATCHED  relay → client, the partner is here:       'M'     — every later byte is the partner's
 *   REFUSED  relay → client, then the stream ends:      'X' ‖ reason (1)
 *
 * Role 0 is the friend with the lower public key: the relay matches a role-0 half with a role-1 half only, so a
 * friend who joins again (its old half not timed out yet) replaces its own half instead of meeting itself. Two
 * tokens: near an epoch boundary a client presents both epochs' tokens, and a half matches on either. A client
 * sends nothing after JOIN until MATCHED; a relay drops a half that does.
 *
 * Decoders are strict (exact lengths, known types and reasons) and never throw: remote input is a value.
 */
import { SECURE_PATTERN_IDS } from '../secure/index.ts';

export const RELAY_PROTOCOL_VERSION = 1;
export const RELAY_TOKEN_BYTES = 32;
export const RELAY_MAX_TOKENS = 2;
const LENGTH_BYTES = 2;

export const RelayFrameType = { join: 0x52, waiting: 0x57, matched: 0x4d, refused: 0x58 } as const;

/** Why a relay refused a half (one byte on the wire; docs/ERRORS.md lists the client's RELAY_* codes). */
export const RelayRefusal = {
  /** The relay is full (halves or pairs). */
  busy: 1,
  /** Too many halves from this host or subnet. */
  sourceLimit: 2,
  /** No partner came within the wait. */
  noPartner: 3,
  /** A matched pair already uses this token. */
  tokenInUse: 4,
  /** This pair's byte budget is spent for now. */
  budgetSpent: 5,
  /** Malformed or unsupported JOIN, or bytes sent before MATCHED. */
  badJoin: 6,
  /** This relay serves only its own friends (a daemon relaying for friends). */
  notAllowed: 7,
  /** The relay is shutting down. */
  closing: 8,
  /** Another half of the same role presented the token: this one is replaced. */
  replaced: 9,
} as const;
export type RelayRefusal = (typeof RelayRefusal)[keyof typeof RelayRefusal];
const REFUSALS = new Set<number>(Object.values(RelayRefusal));

export type RelayRole = 0 | 1;

export interface RelayJoin {
  readonly role: RelayRole;
  /** One or two 32-byte tokens (the current epoch's first). */
  readonly tokens: readonly Buffer[];
}

export type RelayFrame =
  | { readonly type: 'join'; readonly join: RelayJoin }
  | { readonly type: 'waiting'; readonly waitSeconds: number }
  | { readonly type: 'matched' }
  | { readonly type: 'refused'; readonly reason: RelayRefusal };

/** The largest body any relay frame has (a JOIN with two tokens). */
export const RELAY_MAX_FRAME_BODY_BYTES = 4 + RELAY_MAX_TOKENS * RELAY_TOKEN_BYTES;

export const RelayDecodeCode = {
  empty: 'RELAY_FRAME_EMPTY',
  unknownType: 'RELAY_FRAME_UNKNOWN_TYPE',
  badLength: 'RELAY_FRAME_BAD_LENGTH',
  badVersion: 'RELAY_FRAME_BAD_VERSION',
  badRole: 'RELAY_FRAME_BAD_ROLE',
  badTokenCount: 'RELAY_FRAME_BAD_TOKEN_COUNT',
  badReason: 'RELAY_FRAME_BAD_REASON',
  tooLarge: 'RELAY_FRAME_TOO_LARGE',
} as const;
export type RelayDecodeCode = (typeof RelayDecodeCode)[keyof typeof RelayDecodeCode];

export type RelayDecodeResult = { ok: true; frame: RelayFrame } | { ok: false; code: RelayDecodeCode };

/** length ‖ body for one frame. Throws only on local misuse (a wrong token size, a bad count). */
export function encodeRelayFrame(frame: RelayFrame): Buffer {
  const body = bodyOf(frame);
  const out = Buffer.allocUnsafe(LENGTH_BYTES + body.length);
  out.writeUInt16BE(body.length, 0);
  body.copy(out, LENGTH_BYTES);
  return out;
}

function bodyOf(frame: RelayFrame): Buffer {
  switch (frame.type) {
    case 'join': {
      const { role, tokens } = frame.join;
      if (tokens.length < 1 || tokens.length > RELAY_MAX_TOKENS)
        throw new RangeError('a JOIN carries one or two tokens');
      if (tokens.some((t) => t.length !== RELAY_TOKEN_BYTES)) throw new RangeError('a token is 32 bytes');
      return Buffer.concat([
        Buffer.of(RelayFrameType.join, RELAY_PROTOCOL_VERSION, role, tokens.length),
        ...tokens,
      ]);
    }
    case 'waiting': {
      const body = Buffer.of(RelayFrameType.waiting, 0, 0);
      body.writeUInt16BE(Math.max(0, Math.min(0xffff, Math.round(frame.waitSeconds))), 1);
      return body;
    }
    case 'matched':
      return Buffer.of(RelayFrameType.matched);
    case 'refused':
      return Buffer.of(RelayFrameType.refused, frame.reason);
  }
}

/** One frame body (without its length). Never throws. */
export function decodeRelayFrameBody(body: Uint8Array): RelayDecodeResult {
  if (body.length === 0) return { ok: false, code: RelayDecodeCode.empty };
  if (body.length > RELAY_MAX_FRAME_BODY_BYTES) return { ok: false, code: RelayDecodeCode.tooLarge };
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.length);
  switch (bytes[0]) {
    case RelayFrameType.join: {
      if (bytes.length < 4) return { ok: false, code: RelayDecodeCode.badLength };
      if (bytes[1] !== RELAY_PROTOCOL_VERSION) return { ok: false, code: RelayDecodeCode.badVersion };
      const role = bytes[2];
      if (role !== 0 && role !== 1) return { ok: false, code: RelayDecodeCode.badRole };
      const count = bytes[3] as number;
      if (count < 1 || count > RELAY_MAX_TOKENS) return { ok: false, code: RelayDecodeCode.badTokenCount };
      if (bytes.length !== 4 + count * RELAY_TOKEN_BYTES)
        return { ok: false, code: RelayDecodeCode.badLength };
      const tokens: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        const start = 4 + i * RELAY_TOKEN_BYTES;
        tokens.push(Buffer.from(bytes.subarray(start, start + RELAY_TOKEN_BYTES)));
      }
      return { ok: true, frame: { type: 'join', join: { role, tokens } } };
    }
    case RelayFrameType.waiting:
      if (bytes.length !== 3) return { ok: false, code: RelayDecodeCode.badLength };
      return { ok: true, frame: { type: 'waiting', waitSeconds: bytes.readUInt16BE(1) } };
    case RelayFrameType.matched:
      if (bytes.length !== 1) return { ok: false, code: RelayDecodeCode.badLength };
      return { ok: true, frame: { type: 'matched' } };
    case RelayFrameType.refused: {
      if (bytes.length !== 2) return { ok: false, code: RelayDecodeCode.badLength };
      const reason = bytes[1] as number;
      if (!REFUSALS.has(reason)) return { ok: false, code: RelayDecodeCode.badReason };
      return { ok: true, frame: { type: 'refused', reason: reason as RelayRefusal } };
    }
    default:
      return { ok: false, code: RelayDecodeCode.unknownType };
  }
}

export type RelayReadResult =
  | { kind: 'need-more' }
  | { kind: 'frame'; frame: RelayFrame; rest: Buffer }
  | { kind: 'error'; code: RelayDecodeCode };

/**
 * Reads one relay frame off the front of a byte stream: feed chunks until it says 'frame' (with the bytes after
 * the frame, which belong to whoever reads on) or 'error'. Holds at most one frame's bytes: a length above the
 * largest frame is refused at once, before anything more is buffered.
 */
export class RelayFrameReader {
  #buffered: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): RelayReadResult {
    this.#buffered =
      this.#buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffered, chunk]);
    if (this.#buffered.length < LENGTH_BYTES) return { kind: 'need-more' };
    const length = this.#buffered.readUInt16BE(0);
    if (length > RELAY_MAX_FRAME_BODY_BYTES) return { kind: 'error', code: RelayDecodeCode.tooLarge };
    if (this.#buffered.length < LENGTH_BYTES + length) return { kind: 'need-more' };
    const decoded = decodeRelayFrameBody(this.#buffered.subarray(LENGTH_BYTES, LENGTH_BYTES + length));
    const rest = this.#buffered.subarray(LENGTH_BYTES + length);
    this.#buffered = Buffer.alloc(0);
    return decoded.ok ? { kind: 'frame', frame: decoded.frame, rest } : { kind: 'error', code: decoded.code };
  }
}

/**
 * What an incoming stream's first bytes say it is: a secure stream (its first frame's first byte is a Noise
 * pattern id), a relay half (JOIN), or neither. Undefined while fewer than 3 bytes are known.
 */
export function firstFrameService(bytes: Uint8Array): 'secure' | 'relay' | 'unknown' | undefined {
  if (bytes.length < LENGTH_BYTES + 1) return undefined;
  const first = bytes[LENGTH_BYTES] as number;
  if (first === RelayFrameType.join) return 'relay';
  return (Object.values(SECURE_PATTERN_IDS) as number[]).includes(first) ? 'secure' : 'unknown';
}
