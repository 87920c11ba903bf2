/**
 * The secure stream's wire format. Every message on the underlying byte stream is a frame: a 2-byte big-endian
 * length, then that many bytes (at most 65535: Noise's own message limit, §3).
 *
 *   handshake, first frame:  len ‖ channel (high 4 bits) | pattern id (low 4 bits) ‖ Noise message 1
 *   handshake, later frames: len ‖ Noise message
 *   transport frames:        len ‖ ChaChaPoly(k, n, ad = "", frame type (1 byte) ‖ data) ‖ tag
 *
 * The frame type makes the end of the stream authenticated (CLOSE), so a cut connection is told apart from a
 * clean end. Nonces are implicit counters: a replayed, reordered, dropped or altered frame fails to decrypt.
 */
import { type CipherState, NOISE_MAX_MESSAGE_BYTES, NOISE_TAG_BYTES } from '../../crypto/index.ts';

export const FRAME_LENGTH_BYTES = 2;
export const MAX_FRAME_BYTES = NOISE_MAX_MESSAGE_BYTES;

/** Which Noise pattern the initiator chose; the protocol name (mixed into h) makes a forged id fail. */
export const SECURE_PATTERN_IDS = { IK: 1, XX: 2 } as const;
export type SecurePattern = keyof typeof SECURE_PATTERN_IDS;

/**
 * Channels let two peers run streams of different purposes to the same listener (a chat session, a file
 * stream): the initiator names one in the high 4 bits of its first byte; 0 is the byte as it was before
 * channels, so a channel-0 stream is unchanged on the wire. Both sides mix a non-zero channel into the prologue
 * (channelPrologue), so a channel altered on the way fails the handshake like a forged pattern id.
 */
export const MAX_SECURE_CHANNEL = 15;

/** The first handshake byte: channel and pattern id. */
export function firstHandshakeByte(pattern: SecurePattern, channel: number): number {
  return ((channel & MAX_SECURE_CHANNEL) << 4) | SECURE_PATTERN_IDS[pattern];
}

/** The prologue a channel's handshake uses: the protocol's own for channel 0, else it ‖ 0x00 ‖ channel. */
export function channelPrologue(prologue: Uint8Array, channel: number): Uint8Array {
  return channel === 0 ? prologue : Buffer.concat([prologue, Buffer.of(0, channel)]);
}

export const FRAME_TYPES = { DATA: 0, CLOSE: 1 } as const;

/** The smallest transport frame: a type byte and a tag. */
export const MIN_TRANSPORT_FRAME_BYTES = 1 + NOISE_TAG_BYTES;
/** The most data one transport frame carries. */
export const MAX_FRAME_DATA_BYTES = MAX_FRAME_BYTES - MIN_TRANSPORT_FRAME_BYTES;

/** Default: both sides Rekey() a direction's cipher after this many frames in it (Noise §11.3). */
export const DEFAULT_REKEY_AFTER_FRAMES = 65_536;

/** len ‖ body. */
export function encodeFrame(body: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_LENGTH_BYTES + body.length);
  frame.writeUInt16BE(body.length, 0);
  frame.set(body, FRAME_LENGTH_BYTES);
  return frame;
}

export type FrameDecodeResult = { ok: true; frames: Buffer[] } | { ok: false; code: string };
export type FramePartsDecodeResult = { ok: true; frames: Buffer[][] } | { ok: false; code: string };

/**
 * Reassembles frames from arbitrary chunks. Holds at most one partial frame (≤ maxFrameBytes + 2 bytes), and
 * copies each byte at most once more, however small the chunks (no quadratic re-concatenation); pushParts
 * copies nothing (each frame as views of the chunks it spans, for a consumer that reads parts in order).
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #bufferedBytes = 0;
  #frameBytes: number | undefined;
  #isFailed = false;

  constructor(maxFrameBytes: number = MAX_FRAME_BYTES) {
    this.#maxFrameBytes = Math.min(maxFrameBytes, MAX_FRAME_BYTES);
  }

  /** Bytes held (a partial frame, or length bytes). */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Adds a chunk; returns every frame it completes, or an error (after which the decoder stays failed). */
  push(chunk: Uint8Array): FrameDecodeResult {
    const result = this.pushParts(chunk);
    if (!result.ok) return result;
    return {
      ok: true,
      frames: result.frames.map((parts) =>
        parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts),
      ),
    };
  }

  /** As push(), each frame as the views of the chunks it spans, in order (none empty; [] for an empty frame). */
  pushParts(chunk: Uint8Array): FramePartsDecodeResult {
    if (this.#isFailed) return { ok: false, code: 'SECURE_STREAM_FAILED' };
    if (chunk.length > 0) {
      this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.#bufferedBytes += chunk.length;
    }
    const frames: Buffer[][] = [];
    for (;;) {
      if (this.#frameBytes === undefined) {
        if (this.#bufferedBytes < FRAME_LENGTH_BYTES) break;
        const length = this.#take(FRAME_LENGTH_BYTES).readUInt16BE(0);
        if (length > this.#maxFrameBytes) {
          this.#isFailed = true;
          this.#chunks = [];
          return { ok: false, code: 'SECURE_STREAM_FRAME_TOO_LARGE' };
        }
        this.#frameBytes = length;
      }
      if (this.#bufferedBytes < this.#frameBytes) break;
      frames.push(this.#takeParts(this.#frameBytes));
      this.#frameBytes = undefined;
    }
    return { ok: true, frames };
  }

  /** True when the input so far ends exactly at a frame boundary. */
  get isAtBoundary(): boolean {
    return this.#bufferedBytes === 0 && this.#frameBytes === undefined;
  }

  #takeParts(n: number): Buffer[] {
    const parts: Buffer[] = [];
    let taken = 0;
    while (taken < n) {
      const chunk = this.#chunks[0];
      if (chunk === undefined) break;
      const used = Math.min(chunk.length, n - taken);
      parts.push(used === chunk.length ? chunk : chunk.subarray(0, used));
      taken += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    this.#bufferedBytes -= n;
    return parts;
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0];
    let out: Buffer;
    if (first !== undefined && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.#chunks[0];
        if (chunk === undefined) break;
        const used = Math.min(chunk.length, n - filled);
        out.set(chunk.subarray(0, used), filled);
        filled += used;
        if (used === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(used);
      }
    }
    this.#bufferedBytes -= n;
    return out;
  }
}

export type TransportFrame =
  | { ok: true; type: typeof FRAME_TYPES.DATA; data: Buffer }
  | { ok: true; type: typeof FRAME_TYPES.CLOSE }
  | { ok: false; code: string };

const EMPTY_AD = Buffer.alloc(0);
/** Below this, one copy into a pooled buffer is cheaper than several chunks on the transport. */
const SMALL_FRAME_BYTES = 4096;
const FRAME_TYPE_BYTES = Object.values(FRAME_TYPES).map((t) => Buffer.of(t));

/** Decrypts and parses one transport frame body with the receiving cipher (which advances on success). */
export function openTransportFrame(receive: CipherState, body: Uint8Array): TransportFrame {
  const frame = openTransportFrameParts(receive, [body]);
  if (!frame.ok || frame.type === FRAME_TYPES.CLOSE) return frame;
  const data = frame.data.length === 1 ? (frame.data[0] as Buffer) : Buffer.concat(frame.data);
  return { ok: true, type: FRAME_TYPES.DATA, data };
}

export type TransportFrameParts =
  | { ok: true; type: typeof FRAME_TYPES.DATA; data: Buffer[] }
  | { ok: true; type: typeof FRAME_TYPES.CLOSE }
  | { ok: false; code: string };

/**
 * As openTransportFrame, over a body given in parts (FrameDecoder.pushParts): the data comes out in parts too
 * (none empty), decrypted straight from where the bytes arrived.
 */
export function openTransportFrameParts(
  receive: CipherState,
  body: readonly Uint8Array[],
): TransportFrameParts {
  let bodyBytes = 0;
  for (const part of body) bodyBytes += part.length;
  if (bodyBytes < MIN_TRANSPORT_FRAME_BYTES) return { ok: false, code: 'SECURE_STREAM_FRAME_TOO_SHORT' };
  const plaintext = receive.decryptWithAdParts(EMPTY_AD, body);
  if (plaintext === undefined) return { ok: false, code: 'NOISE_DECRYPT_FAILED' };
  // Authenticated, and at least the type byte long: the first part holds it.
  const first = plaintext[0];
  if (first?.[0] === FRAME_TYPES.DATA) {
    const data = first.length === 1 ? plaintext.slice(1) : [first.subarray(1), ...plaintext.slice(1)];
    return { ok: true, type: FRAME_TYPES.DATA, data };
  }
  if (first?.[0] === FRAME_TYPES.CLOSE && bodyBytes === MIN_TRANSPORT_FRAME_BYTES)
    return { ok: true, type: FRAME_TYPES.CLOSE };
  return { ok: false, code: 'SECURE_STREAM_BAD_FRAME_TYPE' };
}

/**
 * Encrypts one transport frame with the sending cipher, as chunks to write in order: len, then the ciphertext
 * parts and tag (no copy of the data for large frames), or all of it in one pooled buffer for small frames.
 * data may come in parts (a frame's head and its payload): they are sealed as one frame, never copied together.
 */
export function sealTransportFrame(
  send: CipherState,
  type: number,
  data: Uint8Array | readonly Uint8Array[],
): Buffer[] {
  const dataParts = data instanceof Uint8Array ? [data] : data;
  let dataBytes = 0;
  for (const part of dataParts) dataBytes += part.length;
  const parts = send.encryptWithAdParts(EMPTY_AD, [FRAME_TYPE_BYTES[type] ?? Buffer.of(type), ...dataParts]);
  const header = Buffer.allocUnsafe(FRAME_LENGTH_BYTES);
  header.writeUInt16BE(MIN_TRANSPORT_FRAME_BYTES + dataBytes, 0);
  parts.unshift(header);
  return dataBytes < SMALL_FRAME_BYTES ? [Buffer.concat(parts)] : parts;
}
