/** The relay frames: exact encodings, strict decoding (one mutated field per case), the reader's bounds. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeRelayFrameBody,
  encodeRelayFrame,
  firstFrameService,
  RelayDecodeCode,
  type RelayFrame,
  RelayFrameReader,
  RelayRefusal,
} from '../../../src/net/relay/index.ts';
import { encodeFrame, SECURE_PATTERN_IDS } from '../../../src/net/secure/index.ts';

const tokenA = Buffer.alloc(32, 0xaa);
const tokenB = Buffer.alloc(32, 0xbb);
const body = (frame: RelayFrame): Buffer => encodeRelayFrame(frame).subarray(2);

describe('relay frames', () => {
  test('encodings are length ‖ type ‖ fields', () => {
    const join = encodeRelayFrame({ type: 'join', join: { role: 1, tokens: [tokenA] } });
    assert.equal(join.readUInt16BE(0), 36);
    assert.deepEqual(join.subarray(2, 6), Buffer.from([0x52, 1, 1, 1]));
    assert.deepEqual(join.subarray(6), tokenA);
    assert.deepEqual(
      encodeRelayFrame({ type: 'waiting', waitSeconds: 20 }),
      Buffer.from([0, 3, 0x57, 0, 20]),
    );
    assert.deepEqual(encodeRelayFrame({ type: 'matched' }), Buffer.from([0, 1, 0x4d]));
    assert.deepEqual(
      encodeRelayFrame({ type: 'refused', reason: RelayRefusal.noPartner }),
      Buffer.from([0, 2, 0x58, 3]),
    );
  });

  test('every frame round-trips', () => {
    const frames: RelayFrame[] = [
      { type: 'join', join: { role: 0, tokens: [tokenA] } },
      { type: 'join', join: { role: 1, tokens: [tokenA, tokenB] } },
      { type: 'waiting', waitSeconds: 0 },
      { type: 'waiting', waitSeconds: 65_535 },
      { type: 'matched' },
      ...Object.values(RelayRefusal).map((reason) => ({ type: 'refused' as const, reason })),
    ];
    for (const frame of frames) assert.deepEqual(decodeRelayFrameBody(body(frame)), { ok: true, frame });
  });

  test('one wrong field, one exact code', () => {
    const join = body({ type: 'join', join: { role: 0, tokens: [tokenA] } });
    const mutate = (at: number, value: number): Buffer => {
      const copy = Buffer.from(join);
      copy[at] = value;
      return copy;
    };
    const cases: Array<[Buffer, string]> = [
      [Buffer.alloc(0), RelayDecodeCode.empty],
      [Buffer.from([0x01]), RelayDecodeCode.unknownType],
      [mutate(1, 2), RelayDecodeCode.badVersion],
      [mutate(2, 2), RelayDecodeCode.badRole],
      [mutate(3, 0), RelayDecodeCode.badTokenCount],
      [mutate(3, 3), RelayDecodeCode.badTokenCount],
      [mutate(3, 2), RelayDecodeCode.badLength],
      [join.subarray(0, join.length - 1), RelayDecodeCode.badLength],
      [join.subarray(0, 3), RelayDecodeCode.badLength],
      [Buffer.from([0x57, 0]), RelayDecodeCode.badLength],
      [Buffer.from([0x4d, 0]), RelayDecodeCode.badLength],
      [Buffer.from([0x58]), RelayDecodeCode.badLength],
      [Buffer.from([0x58, 0]), RelayDecodeCode.badReason],
      [Buffer.from([0x58, 10]), RelayDecodeCode.badReason],
      [Buffer.alloc(69, 0x52), RelayDecodeCode.tooLarge],
    ];
    for (const [bytes, code] of cases) assert.deepEqual(decodeRelayFrameBody(bytes), { ok: false, code });
  });

  test('the encoder refuses to write a malformed JOIN', () => {
    assert.throws(() => encodeRelayFrame({ type: 'join', join: { role: 0, tokens: [] } }), RangeError);
    assert.throws(() => encodeRelayFrame({ type: 'join', join: { role: 0, tokens: [Buffer.alloc(31)] } }));
    const three = [tokenA, tokenA, tokenA];
    assert.throws(() => encodeRelayFrame({ type: 'join', join: { role: 0, tokens: three } }));
  });
});

describe('RelayFrameReader', () => {
  test('a frame split byte by byte, with what follows it handed back', () => {
    const wire = Buffer.concat([encodeRelayFrame({ type: 'matched' }), Buffer.from('noise bytes')]);
    const reader = new RelayFrameReader();
    for (let i = 0; i < 2; i++) assert.equal(reader.push(wire.subarray(i, i + 1)).kind, 'need-more');
    const read = reader.push(wire.subarray(2));
    assert.equal(read.kind, 'frame');
    if (read.kind !== 'frame') return;
    assert.deepEqual(read.frame, { type: 'matched' });
    assert.equal(read.rest.toString(), 'noise bytes');
  });

  test('a length above the largest frame is refused before its body is buffered', () => {
    const reader = new RelayFrameReader();
    assert.deepEqual(reader.push(Buffer.from([0xff, 0xff])), {
      kind: 'error',
      code: RelayDecodeCode.tooLarge,
    });
  });
});

describe('firstFrameService', () => {
  test('tells a relay JOIN from a secure stream by the first frame', () => {
    const join = encodeRelayFrame({ type: 'join', join: { role: 0, tokens: [tokenA] } });
    assert.equal(firstFrameService(join), 'relay');
    for (const id of Object.values(SECURE_PATTERN_IDS)) {
      assert.equal(firstFrameService(encodeFrame(Buffer.from([id, 1, 2, 3]))), 'secure');
    }
    assert.equal(firstFrameService(Buffer.from([0, 5, 0x09])), 'unknown');
    assert.equal(firstFrameService(Buffer.from([0, 5])), undefined);
  });
});
