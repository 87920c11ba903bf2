/**
 * File stream frames (docs/PROTOCOL.md "Files"): what a receiver and a source say on a file stream, a secure
 * stream of the file channel beside the chat session. The receiver asks, the source answers; fixed binary
 * layouts, each frame a u32 big-endian body length, a type byte, then:
 *
 *   open        0x01  transferId[16]                         receiver → source: serve me this transfer
 *   opened      0x02  size u64 pieceBytes u32 root[32]       source → receiver: it is this file
 *   get-hashes  0x03  first u32 count u32 (1..8192)          receiver → source
 *   hashes      0x04  first u32 hashes[32 × n] (1..8192)     source → receiver
 *   get-piece   0x05  index u32                              receiver → source
 *   piece       0x06  index u32 data (the rest, ≥ 1 byte)    source → receiver (the piece whole)
 *   done        0x07  (empty)                                receiver → source: every piece verified
 *   refuse      0x08  reason u8                              either way, then the stream ends
 *   have        0x09  bitfield (1..8192 bytes)               source → receiver, before `opened`: it holds only
 *                                                            these pieces (a group member still downloading)
 *
 * Decoding never throws; anything else (length, unknown type, trailing bytes, a size past 2^53) is a rejection
 * with a stable code and the stream is dropped. Limits on what may follow what (only pieces asked for, at most
 * so many requests outstanding) are the endpoints' business (piece-server.ts, source-link.ts).
 */
import { HASH_BYTES, MAX_PIECE_BYTES, MAX_PIECES } from './file-layout.ts';
import { pieceBuffers } from './piece-buffers.ts';

export const TRANSFER_ID_BYTES = 16;
export const MAX_HASHES_PER_FRAME = 8192;
export const MAX_BITFIELD_BYTES = MAX_PIECES / 8;
const LENGTH_BYTES = 4;

export const FileFrameType = {
  open: 0x01,
  opened: 0x02,
  getHashes: 0x03,
  hashes: 0x04,
  getPiece: 0x05,
  piece: 0x06,
  done: 0x07,
  refuse: 0x08,
  have: 0x09,
} as const;

/** Why a stream is refused (a refuse frame's byte). */
export const RefuseReason = {
  /** No such transfer between us (or not ours to serve you). */
  unknown: 1,
  /** The transfer was canceled (or declined). */
  canceled: 2,
  /** The file is gone or changed on the source. */
  unavailable: 3,
  /** Too many streams at once: try later. */
  busy: 4,
  /** The other side broke the protocol (a frame out of place, too many requests). */
  protocol: 5,
  /** The file is not at its path on the source now (moved): ask again later. */
  missing: 6,
} as const;
export type RefuseReason = (typeof RefuseReason)[keyof typeof RefuseReason];
const REFUSE_REASONS = new Set<number>(Object.values(RefuseReason));

export type FileFrame =
  | { type: 'open'; transferId: Buffer }
  | { type: 'opened'; sizeBytes: number; pieceBytes: number; root: Buffer }
  | { type: 'get-hashes'; first: number; count: number }
  | { type: 'hashes'; first: number; hashes: Buffer }
  | { type: 'get-piece'; index: number }
  | { type: 'piece'; index: number; data: Buffer }
  | { type: 'done' }
  | { type: 'refuse'; reason: RefuseReason }
  | { type: 'have'; bitfield: Buffer };

export const FileFrameErrorCode = {
  tooLarge: 'FILE_FRAME_TOO_LARGE',
  malformed: 'FILE_FRAME_MALFORMED',
  unknownType: 'FILE_FRAME_UNKNOWN_TYPE',
} as const;
export type FileFrameErrorCode = (typeof FileFrameErrorCode)[keyof typeof FileFrameErrorCode];
export type FileFrameResult = { ok: true; frame: FileFrame } | { ok: false; code: FileFrameErrorCode };

/** The largest body a receiver accepts (a whole piece); a source accepts only the small request frames. */
export const MAX_FILE_FRAME_BYTES = 1 + 4 + MAX_PIECE_BYTES;
export const MAX_REQUEST_FRAME_BYTES = 1 + TRANSFER_ID_BYTES;

/**
 * One frame with its length prefix, as buffers to write in order: a piece's data goes out as its own buffer,
 * never copied. Throws RangeError on out-of-range fields (local misuse).
 */
export function encodeFileFrame(frame: FileFrame): Buffer[] {
  if (frame.type === 'piece') {
    if (frame.data.length === 0 || frame.data.length > MAX_PIECE_BYTES) throw new RangeError('piece size');
    const head = Buffer.allocUnsafe(LENGTH_BYTES + 5);
    head.writeUInt32BE(5 + frame.data.length, 0);
    head[LENGTH_BYTES] = FileFrameType.piece;
    head.writeUInt32BE(checkU32(frame.index), LENGTH_BYTES + 1);
    return [head, frame.data];
  }
  const body = encodeBody(frame);
  const out = Buffer.allocUnsafe(LENGTH_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, LENGTH_BYTES);
  return [out];
}

function encodeBody(frame: Exclude<FileFrame, { type: 'piece' }>): Buffer {
  switch (frame.type) {
    case 'open':
      if (frame.transferId.length !== TRANSFER_ID_BYTES) throw new RangeError('a transfer id is 16 bytes');
      return Buffer.concat([Buffer.of(FileFrameType.open), frame.transferId]);
    case 'opened': {
      if (frame.root.length !== HASH_BYTES) throw new RangeError('a root is 32 bytes');
      const out = Buffer.alloc(1 + 8 + 4 + HASH_BYTES);
      out[0] = FileFrameType.opened;
      out.writeBigUInt64BE(BigInt(frame.sizeBytes), 1);
      out.writeUInt32BE(checkU32(frame.pieceBytes), 9);
      frame.root.copy(out, 13);
      return out;
    }
    case 'get-hashes': {
      if (frame.count < 1 || frame.count > MAX_HASHES_PER_FRAME) throw new RangeError('1-8192 hashes');
      const out = Buffer.alloc(9);
      out[0] = FileFrameType.getHashes;
      out.writeUInt32BE(checkU32(frame.first), 1);
      out.writeUInt32BE(frame.count, 5);
      return out;
    }
    case 'hashes': {
      const count = frame.hashes.length / HASH_BYTES;
      if (!Number.isInteger(count) || count < 1 || count > MAX_HASHES_PER_FRAME) {
        throw new RangeError('1-8192 hashes');
      }
      const head = Buffer.alloc(5);
      head[0] = FileFrameType.hashes;
      head.writeUInt32BE(checkU32(frame.first), 1);
      return Buffer.concat([head, frame.hashes]);
    }
    case 'get-piece': {
      const out = Buffer.alloc(5);
      out[0] = FileFrameType.getPiece;
      out.writeUInt32BE(checkU32(frame.index), 1);
      return out;
    }
    case 'done':
      return Buffer.of(FileFrameType.done);
    case 'refuse':
      return Buffer.of(FileFrameType.refuse, frame.reason);
    case 'have':
      if (frame.bitfield.length < 1 || frame.bitfield.length > MAX_BITFIELD_BYTES) {
        throw new RangeError('a bitfield is 1-8192 bytes');
      }
      return Buffer.concat([Buffer.of(FileFrameType.have), frame.bitfield]);
  }
}

function checkU32(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError('not a u32');
  return value;
}

/** Decodes one frame body (without its length prefix). Never throws. */
export function decodeFileFrame(body: Buffer): FileFrameResult {
  if (body.length === 0) return bad('malformed');
  if (body.length > MAX_FILE_FRAME_BYTES) return bad('tooLarge');
  const size = body.length - 1;
  switch (body[0]) {
    case FileFrameType.open:
      if (size !== TRANSFER_ID_BYTES) return bad('malformed');
      return ok({ type: 'open', transferId: Buffer.from(body.subarray(1)) });
    case FileFrameType.opened: {
      if (size !== 8 + 4 + HASH_BYTES) return bad('malformed');
      const sizeBytes = body.readBigUInt64BE(1);
      if (sizeBytes > BigInt(Number.MAX_SAFE_INTEGER)) return bad('malformed');
      return ok({
        type: 'opened',
        sizeBytes: Number(sizeBytes),
        pieceBytes: body.readUInt32BE(9),
        root: Buffer.from(body.subarray(13)),
      });
    }
    case FileFrameType.getHashes: {
      if (size !== 8) return bad('malformed');
      const count = body.readUInt32BE(5);
      if (count < 1 || count > MAX_HASHES_PER_FRAME) return bad('malformed');
      return ok({ type: 'get-hashes', first: body.readUInt32BE(1), count });
    }
    case FileFrameType.hashes: {
      const hashBytes = size - 4;
      if (hashBytes < HASH_BYTES || hashBytes % HASH_BYTES !== 0) return bad('malformed');
      if (hashBytes / HASH_BYTES > MAX_HASHES_PER_FRAME) return bad('malformed');
      return ok({ type: 'hashes', first: body.readUInt32BE(1), hashes: body.subarray(5) });
    }
    case FileFrameType.getPiece:
      if (size !== 4) return bad('malformed');
      return ok({ type: 'get-piece', index: body.readUInt32BE(1) });
    case FileFrameType.piece:
      if (size < 5) return bad('malformed');
      return ok({ type: 'piece', index: body.readUInt32BE(1), data: body.subarray(5) });
    case FileFrameType.done:
      return size === 0 ? ok({ type: 'done' }) : bad('malformed');
    case FileFrameType.refuse: {
      const reason = body[1];
      if (size !== 1 || reason === undefined || !REFUSE_REASONS.has(reason)) return bad('malformed');
      return ok({ type: 'refuse', reason: reason as RefuseReason });
    }
    case FileFrameType.have:
      if (size < 1 || size > MAX_BITFIELD_BYTES) return bad('malformed');
      return ok({ type: 'have', bitfield: Buffer.from(body.subarray(1)) });
    default:
      return bad('unknownType');
  }
}

function ok(frame: FileFrame): FileFrameResult {
  return { ok: true, frame };
}

function bad(key: keyof typeof FileFrameErrorCode): FileFrameResult {
  return { ok: false, code: FileFrameErrorCode[key] };
}

/**
 * Splits a byte stream into file frames. Holds at most one partial frame (≤ maxBodyBytes + 4 bytes) and copies
 * each byte at most once more, however the stream is chunked (a 4 MiB piece arriving in 64 KiB chunks is
 * gathered with one copy, not re-concatenated per chunk), into a buffer from pieceBuffers (the download gives
 * a piece's back once it is written). After the first error it refuses everything.
 */
export class FileFrameReader {
  readonly #maxBodyBytes: number;
  #chunks: Buffer[] = [];
  #bufferedBytes = 0;
  #bodyBytes: number | undefined;
  #error: FileFrameErrorCode | undefined;

  constructor(maxBodyBytes: number) {
    this.#maxBodyBytes = Math.min(maxBodyBytes, MAX_FILE_FRAME_BYTES);
  }

  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  push(chunk: Buffer): { frames: FileFrame[]; error?: FileFrameErrorCode } {
    const frames: FileFrame[] = [];
    if (this.#error !== undefined) return { frames, error: this.#error };
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#bufferedBytes += chunk.length;
    }
    for (;;) {
      if (this.#bodyBytes === undefined) {
        if (this.#bufferedBytes < LENGTH_BYTES) break;
        const length = this.#take(LENGTH_BYTES).readUInt32BE(0);
        if (length > this.#maxBodyBytes) return this.#fail(frames, FileFrameErrorCode.tooLarge);
        this.#bodyBytes = length;
      }
      if (this.#bufferedBytes < this.#bodyBytes) break;
      const result = decodeFileFrame(this.#take(this.#bodyBytes));
      this.#bodyBytes = undefined;
      if (!result.ok) return this.#fail(frames, result.code);
      frames.push(result.frame);
    }
    return { frames };
  }

  #fail(frames: FileFrame[], code: FileFrameErrorCode): { frames: FileFrame[]; error: FileFrameErrorCode } {
    this.#error = code;
    this.#chunks = [];
    this.#bufferedBytes = 0;
    return { frames, error: code };
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0];
    let out: Buffer;
    if (first !== undefined && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = pieceBuffers.take(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.#chunks[0] as Buffer;
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
