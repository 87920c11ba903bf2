/** File stream frames: every frame round-trips in any chunking; limits and malformed bodies are values. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeFileFrame,
  encodeFileFrame,
  type FileFrame,
  FileFrameReader,
  MAX_FILE_FRAME_BYTES,
  MAX_REQUEST_FRAME_BYTES,
  RefuseReason,
} from '../../../src/chat/files/file-frames.ts';

const samples: FileFrame[] = [
  { type: 'open', transferId: Buffer.alloc(16, 1) },
  { type: 'opened', sizeBytes: 2 ** 40 + 1, pieceBytes: 262_144, root: Buffer.alloc(32, 2) },
  { type: 'get-hashes', first: 0, count: 8192 },
  { type: 'hashes', first: 3, hashes: Buffer.alloc(64, 3) },
  { type: 'get-piece', index: 0xffffffff },
  { type: 'piece', index: 5, data: Buffer.alloc(100_000, 5) },
  { type: 'done' },
  { type: 'refuse', reason: RefuseReason.busy },
  { type: 'have', bitfield: Buffer.from([0xf0, 0x01]) },
];

const wire = (frames: FileFrame[]): Buffer => Buffer.concat(frames.flatMap(encodeFileFrame));

describe('file frames', () => {
  test('round trip: whole, and in chunks of 1, 7 and 65,536 bytes', () => {
    const bytes = wire(samples);
    for (const size of [bytes.length, 1, 7, 65_536]) {
      const reader = new FileFrameReader(MAX_FILE_FRAME_BYTES);
      const got: FileFrame[] = [];
      for (let i = 0; i < bytes.length; i += size) {
        const { frames, error } = reader.push(bytes.subarray(i, i + size));
        assert.equal(error, undefined);
        got.push(...frames);
      }
      assert.deepEqual(got, samples, `chunks of ${size}`);
      assert.equal(reader.bufferedBytes, 0);
    }
  });

  test('a piece goes out as its own buffer (no copy of the data)', () => {
    const data = Buffer.alloc(16384, 9);
    const parts = encodeFileFrame({ type: 'piece', index: 1, data });
    assert.equal(parts.length, 2);
    assert.equal(parts[1], data);
  });

  test('a source reads only request-sized frames: a bigger length fails before any body is buffered', () => {
    const reader = new FileFrameReader(MAX_REQUEST_FRAME_BYTES);
    const big = wire([{ type: 'hashes', first: 0, hashes: Buffer.alloc(32) }]);
    const result = reader.push(big.subarray(0, 4));
    assert.equal(result.error, 'FILE_FRAME_TOO_LARGE');
    assert.equal(reader.push(wire([{ type: 'done' }])).error, 'FILE_FRAME_TOO_LARGE', 'stays failed');
    const ok = new FileFrameReader(MAX_REQUEST_FRAME_BYTES).push(wire(samples.slice(0, 1)));
    assert.equal(ok.frames.length, 1);
  });

  test('malformed bodies and unknown types are rejected with a code, never thrown', () => {
    const cases: [Buffer, string][] = [
      [Buffer.alloc(0), 'FILE_FRAME_MALFORMED'],
      [Buffer.of(0x01, 1, 2), 'FILE_FRAME_MALFORMED'],
      [Buffer.of(0x03, 0, 0, 0, 0, 0, 0, 0, 0), 'FILE_FRAME_MALFORMED'],
      [Buffer.concat([Buffer.of(0x03, 0, 0, 0, 0), Buffer.from([0, 0, 0x20, 0x01])]), 'FILE_FRAME_MALFORMED'],
      [Buffer.concat([Buffer.of(0x04, 0, 0, 0, 0), Buffer.alloc(33)]), 'FILE_FRAME_MALFORMED'],
      [Buffer.of(0x06, 0, 0, 0, 1), 'FILE_FRAME_MALFORMED'],
      [Buffer.of(0x07, 0), 'FILE_FRAME_MALFORMED'],
      [Buffer.of(0x08, 0), 'FILE_FRAME_MALFORMED'],
      [Buffer.of(0x08, 9), 'FILE_FRAME_MALFORMED'],
      [Buffer.of(0x09), 'FILE_FRAME_MALFORMED'],
      [Buffer.alloc(1 + 8193, 0x09), 'FILE_FRAME_MALFORMED'],
      [Buffer.of(0x0a), 'FILE_FRAME_UNKNOWN_TYPE'],
      [Buffer.alloc(MAX_FILE_FRAME_BYTES + 1, 6), 'FILE_FRAME_TOO_LARGE'],
    ];
    for (const [body, code] of cases) assert.deepEqual(decodeFileFrame(body), { ok: false, code });
    const opened = encodeFileFrame(samples[1] as FileFrame)[0]?.subarray(4) as Buffer;
    const past = Buffer.from(opened);
    past.writeBigUInt64BE(2n ** 53n, 1);
    assert.equal(decodeFileFrame(past).ok, false, 'a size past 2^53');
  });

  test('local misuse throws: a piece of 0 bytes, 8,193 hashes, a short root', () => {
    assert.throws(() => encodeFileFrame({ type: 'piece', index: 0, data: Buffer.alloc(0) }), RangeError);
    assert.throws(() => encodeFileFrame({ type: 'get-hashes', first: 0, count: 8193 }), RangeError);
    const root = Buffer.alloc(31);
    assert.throws(
      () => encodeFileFrame({ type: 'opened', sizeBytes: 1, pieceBytes: 16384, root }),
      RangeError,
    );
  });
});
