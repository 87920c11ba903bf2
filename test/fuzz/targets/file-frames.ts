/**
 * File stream frames (src/chat/files/file-frames.ts): decodeFileFrame on one body, and FileFrameReader on the same
 * bytes as a stream in chunks whose sizes come from the input, under a receiver's limit (a piece) or a source's
 * (a request). Properties: never throws; a rejection has a stable code; an accepted frame re-encodes to exactly
 * its bytes (fixed layouts: canonical); the reader yields only frames that re-encode to the next bytes of what it
 * was given, holds at most one frame, and stays failed after its first error.
 */
import assert from 'node:assert/strict';
import {
  decodeFileFrame,
  encodeFileFrame,
  FileFrameErrorCode,
  FileFrameReader,
  MAX_FILE_FRAME_BYTES,
  MAX_REQUEST_FRAME_BYTES,
  RefuseReason,
} from '../../../src/chat/files/file-frames.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import type { FuzzTarget } from '../fuzz-target.ts';

const CODES = new Set<string>(Object.values(FileFrameErrorCode));
const LENGTH_BYTES = 4;

export const fileFramesTarget: FuzzTarget = {
  name: 'file-frames',
  decoders: 'decodeFileFrame, FileFrameReader, encodeFileFrame',
  weight: 10,
  maxInputBytes: 4096,
  dictionary: [
    Buffer.of(1),
    Buffer.of(2),
    Buffer.of(3),
    Buffer.of(4),
    Buffer.of(5),
    Buffer.of(6),
    Buffer.of(7),
    Buffer.of(8),
    Buffer.of(9),
    Buffer.of(0, 0, 0x20, 0),
    Buffer.of(0, 0, 0x20, 1),
    Buffer.of(0, 0x40, 0, 5),
    Buffer.alloc(8, 0xff),
    Buffer.of(0, 0x20, 0, 0, 0, 0, 0, 0),
  ],
  seeds(random: FuzzRandom): Buffer[] {
    const frames = [
      encodeFileFrame({ type: 'open', transferId: random.bytes(16) }),
      encodeFileFrame({
        type: 'opened',
        sizeBytes: 5 * 2 ** 30 + 7,
        pieceBytes: 262_144,
        root: random.bytes(32),
      }),
      encodeFileFrame({ type: 'get-hashes', first: 8192, count: 100 }),
      encodeFileFrame({ type: 'hashes', first: 1, hashes: random.bytes(64) }),
      encodeFileFrame({ type: 'get-piece', index: random.u32() }),
      encodeFileFrame({ type: 'piece', index: 3, data: random.bytes(700) }),
      encodeFileFrame({ type: 'done' }),
      encodeFileFrame({ type: 'refuse', reason: RefuseReason.unavailable }),
      encodeFileFrame({ type: 'have', bitfield: random.bytes(3) }),
    ];
    return frames.map((parts) => Buffer.concat(parts).subarray(LENGTH_BYTES));
  },
  run(input: Buffer): string {
    const r = decodeFileFrame(input);
    let outcome: string;
    if (r.ok) {
      assert.ok(
        Buffer.concat(encodeFileFrame(r.frame)).subarray(LENGTH_BYTES).equals(input),
        'an accepted frame re-encodes to itself',
      );
      outcome = `ok:${r.frame.type}`;
    } else {
      assert.ok(CODES.has(r.code), `unknown code ${r.code}`);
      outcome = r.code;
    }
    // The same bytes as a stream: a length prefix taken from the input, or the body prefixed with its own length.
    const stream = (input[0] ?? 0) % 2 === 0 ? Buffer.concat([lengthOf(input), input]) : input;
    const limit = (input[input.length - 1] ?? 0) % 3 === 0 ? MAX_REQUEST_FRAME_BYTES : MAX_FILE_FRAME_BYTES;
    const reader = new FileFrameReader(limit);
    let consumed = 0;
    for (let offset = 0; offset < stream.length; ) {
      const size = 1 + (((stream[offset] as number) * 13) % 251);
      const { frames, error } = reader.push(stream.subarray(offset, offset + size));
      offset += size;
      assert.ok(reader.bufferedBytes <= limit + LENGTH_BYTES, 'at most one frame held');
      for (const frame of frames) {
        const bytes = Buffer.concat(encodeFileFrame(frame));
        assert.ok(
          stream.subarray(consumed, consumed + bytes.length).equals(bytes),
          'a frame the stream carried',
        );
        consumed += bytes.length;
      }
      if (error !== undefined) {
        assert.ok(CODES.has(error));
        assert.equal(reader.push(Buffer.of(0)).error, error, 'a reader that failed stays failed');
        return `${outcome}:stream-${error}`;
      }
    }
    return `${outcome}:stream-ok`;
  },
};

function lengthOf(body: Buffer): Buffer {
  const out = Buffer.alloc(LENGTH_BYTES);
  out.writeUInt32BE(body.length, 0);
  return out;
}
