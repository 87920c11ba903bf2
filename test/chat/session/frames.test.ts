import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ChatFrame,
  ChatFrameReader,
  decodeChatFrame,
  CHAT_PROTOCOL_VERSION,
  encodeChatFrame,
  FrameType,
  MAX_CHAT_FRAME_BYTES,
  MAX_PROFILE_NAME_BYTES,
  PROFILE_FRAME_VERSION,
  FORWARD_FRAME_VERSION,
} from '../../../src/chat/session/frames.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';

const id = (n: number): Buffer => Buffer.alloc(16, n);
const samples: ChatFrame[] = [
  { type: 'hello', version: 1 },
  { type: 'message', id: id(1), createdMs: 1_700_000_000_123, senderSeq: 7, text: 'héllo 👋' },
  { type: 'message', id: id(2), createdMs: 0, senderSeq: 0, text: 'x'.repeat(16 * 1024) },
  { type: 'ack', ids: [id(1), id(2)] },
  { type: 'read', ids: [id(3)] },
  { type: 'typing', isTyping: true },
  { type: 'typing', isTyping: false },
  { type: 'ping', nonce: 0xdeadbeef },
  { type: 'pong', nonce: 1 },
  {
    type: 'request',
    name: 'Alice',
    message: 'hi, it is me',
    stamp: { hour: 491_234, nonces: Buffer.alloc(128, 9) },
  },
  { type: 'request', name: '', message: '', stamp: { hour: 0, nonces: Buffer.alloc(128) } },
  { type: 'request-ack', status: 'received', stampBits: 19 },
  { type: 'request-ack', status: 'stamp-refused', stampBits: 0 },
  {
    type: 'file-offer',
    transferId: id(9),
    sizeBytes: 2 ** 40 + 3,
    pieceBytes: 262_144,
    root: Buffer.alloc(32, 7),
    name: '../../etc/passwd\u202e',
  },
  { type: 'file-state', transferId: id(9), state: 'complete' },
  { type: 'file-state', transferId: id(8), state: 'unavailable' },
];

describe('chat frames', () => {
  test('every frame round-trips through the reader, byte by byte and all at once', () => {
    const wire = Buffer.concat(samples.map(encodeChatFrame));
    const whole = new ChatFrameReader().push(wire);
    assert.equal(whole.error, undefined);
    assert.deepEqual(whole.frames, samples);
    const reader = new ChatFrameReader();
    const got: ChatFrame[] = [];
    for (let i = 0; i < wire.length; i += 7) got.push(...reader.push(wire.subarray(i, i + 7)).frames);
    assert.deepEqual(got, samples);
  });

  test('file frames: exact sizes, every state, no size past 2^53, a name of 1-1024 bytes of UTF-8', () => {
    const offerSample = samples.find((f) => f.type === 'file-offer') as ChatFrame;
    const stateSample = samples.find((f) => f.type === 'file-state') as ChatFrame;
    const offer = encodeChatFrame(offerSample).subarray(4);
    assert.equal(offer[0], FrameType.fileOffer);
    const noName = offer.subarray(0, 1 + 16 + 8 + 4 + 32);
    assert.deepEqual(decodeChatFrame(noName), { ok: false, code: 'CHAT_FRAME_MALFORMED' });
    const huge = Buffer.from(offer);
    huge.writeBigUInt64BE(2n ** 53n, 17);
    assert.equal(decodeChatFrame(huge).ok, false);
    const longName = { ...offerSample, name: 'n'.repeat(1025) } as ChatFrame;
    assert.throws(() => encodeChatFrame(longName));
    const state = encodeChatFrame(stateSample).subarray(4);
    assert.equal(state.length, 1 + 16 + 1);
    for (const [code, ok] of [
      [0, false],
      [1, true],
      [4, true],
      [5, false],
    ] as const) {
      const body = Buffer.from(state);
      body[17] = code;
      assert.equal(decodeChatFrame(body).ok, ok, `state byte ${code}`);
    }
    assert.equal(decodeChatFrame(Buffer.concat([state, Buffer.of(0)])).ok, false, 'trailing byte');
  });

  test('limits: text over 16 KiB is refused both ways; bad UTF-8, trailing bytes, unknown types', () => {
    assert.throws(() =>
      encodeChatFrame({ type: 'message', id: id(1), createdMs: 0, senderSeq: 0, text: 'x'.repeat(16385) }),
    );
    const big = Buffer.alloc(4 + MAX_CHAT_FRAME_BYTES + 1);
    big.writeUInt32BE(MAX_CHAT_FRAME_BYTES + 1, 0);
    assert.equal(new ChatFrameReader().push(big.subarray(0, 8)).error, 'CHAT_FRAME_TOO_LARGE');
    const message = encodeChatFrame(samples[1] as ChatFrame).subarray(4);
    const badUtf8 = Buffer.concat([message, Buffer.of(0xff)]);
    assert.deepEqual(decodeChatFrame(badUtf8), { ok: false, code: 'CHAT_FRAME_MALFORMED' });
    const hello = Buffer.of(1, 1, 0);
    assert.deepEqual(decodeChatFrame(hello), { ok: false, code: 'CHAT_FRAME_MALFORMED' });
    assert.deepEqual(decodeChatFrame(Buffer.of(0x7f)), { ok: false, code: 'CHAT_FRAME_UNKNOWN_TYPE' });
    const ack = encodeChatFrame({ type: 'ack', ids: [id(1)] }).subarray(4);
    assert.equal(decodeChatFrame(ack.subarray(0, ack.length - 1)).ok, false);
    const farFuture = Buffer.from(message);
    farFuture.writeBigUInt64BE(2n ** 60n, 17);
    assert.equal(decodeChatFrame(farFuture).ok, false);
  });

  test('request and request-ack: short stamps, long names, unknown ack statuses are malformed', () => {
    const request = encodeChatFrame(samples[9] as ChatFrame).subarray(4);
    // Type, 132 stamp bytes, name length: anything cut inside the stamp or the name is refused.
    for (const cut of [1, 5, 100, 133, 134, 136]) {
      assert.deepEqual(decodeChatFrame(request.subarray(0, cut)), {
        ok: false,
        code: 'CHAT_FRAME_MALFORMED',
      });
    }
    const longName = Buffer.from(request);
    longName[133] = 65;
    assert.deepEqual(decodeChatFrame(longName), { ok: false, code: 'CHAT_FRAME_MALFORMED' });
    assert.deepEqual(decodeChatFrame(Buffer.of(FrameType.requestAck, 2, 19)), {
      ok: false,
      code: 'CHAT_FRAME_MALFORMED',
    });
    assert.deepEqual(decodeChatFrame(Buffer.of(FrameType.requestAck, 0)), {
      ok: false,
      code: 'CHAT_FRAME_MALFORMED',
    });
    assert.deepEqual(decodeChatFrame(Buffer.of(FrameType.requestAck, 0, 19, 0)), {
      ok: false,
      code: 'CHAT_FRAME_MALFORMED',
    });
    assert.throws(() =>
      encodeChatFrame({
        type: 'request',
        name: '',
        message: '',
        stamp: { hour: 1, nonces: Buffer.alloc(127) },
      }),
    );
  });

  test('fuzz: 100,000 mutated frames never throw and only decode to well-formed frames', () => {
    const random = new SeededRandom('chat-frames-fuzz');
    const seeds = samples.map((f) => encodeChatFrame(f).subarray(4)).filter((b) => b.length < 200);
    let accepted = 0;
    for (let i = 0; i < 100_000; i++) {
      const base = seeds[random.int(seeds.length)] as Buffer;
      const bytes = Buffer.from(base);
      const flips = 1 + random.int(4);
      let mutated: Buffer = bytes;
      for (let f = 0; f < flips; f++) {
        const op = random.int(3);
        if (op === 0 && mutated.length > 0) mutated[random.int(mutated.length)] = random.int(256);
        else if (op === 1) mutated = mutated.subarray(0, random.int(mutated.length + 1));
        else mutated = Buffer.concat([mutated, random.bytes(1 + random.int(20))]);
      }
      const result = decodeChatFrame(mutated);
      if (result.ok) {
        accepted++;
        // Whatever decodes re-encodes to the same bytes: there is one way to write each frame.
        assert.deepEqual(encodeChatFrame(result.frame).subarray(4), mutated);
      }
    }
    assert.ok(accepted > 0 && accepted < 100_000);
  });

  test('fuzz: random streams into the reader never throw and stop at the first error', () => {
    const random = new SeededRandom('chat-reader-fuzz');
    for (let i = 0; i < 2000; i++) {
      const reader = new ChatFrameReader();
      const first = reader.push(random.bytes(random.int(64)));
      const second = reader.push(random.bytes(random.int(64)));
      if (first.error !== undefined) assert.equal(second.error, first.error);
    }
  });

  test('profile frame: a name of 1-256 bytes of UTF-8 round-trips; empty, longer or bad UTF-8 is malformed', () => {
    for (const name of ['Robert', 'Ĝoŝ 🚲', '語'.repeat(64), 'x'.repeat(MAX_PROFILE_NAME_BYTES)]) {
      const wire = encodeChatFrame({ type: 'profile', name });
      assert.deepEqual(new ChatFrameReader().push(wire).frames, [{ type: 'profile', name }]);
    }
    assert.throws(() => encodeChatFrame({ type: 'profile', name: '' }), RangeError);
    assert.throws(() => encodeChatFrame({ type: 'profile', name: 'x'.repeat(257) }), RangeError);
    const malformed = { ok: false, code: 'CHAT_FRAME_MALFORMED' };
    assert.deepEqual(decodeChatFrame(Buffer.of(FrameType.profile)), malformed);
    assert.deepEqual(decodeChatFrame(Buffer.of(FrameType.profile, 0xc3)), malformed);
    const tooLong = Buffer.concat([Buffer.of(FrameType.profile), Buffer.alloc(257, 0x61)]);
    assert.deepEqual(decodeChatFrame(tooLong), malformed);
    assert.ok(PROFILE_FRAME_VERSION <= CHAT_PROTOCOL_VERSION, 'we speak the version that carries it');
  });

  test('forward and relayed frames: a 16-byte tag or 32-byte key, then a note of 1-64 bytes', () => {
    const note = Buffer.alloc(55, 7);
    const forward = { type: 'forward' as const, tag: Buffer.alloc(16, 1), note };
    const relayed = { type: 'relayed' as const, from: Buffer.alloc(32, 2), note };
    for (const frame of [forward, relayed]) {
      assert.deepEqual(new ChatFrameReader().push(encodeChatFrame(frame)).frames, [frame]);
    }
    assert.throws(() => encodeChatFrame({ ...forward, tag: Buffer.alloc(15) }), RangeError);
    assert.throws(() => encodeChatFrame({ ...relayed, note: Buffer.alloc(65) }), RangeError);
    assert.throws(() => encodeChatFrame({ ...relayed, note: Buffer.alloc(0) }), RangeError);
    const malformed = { ok: false, code: 'CHAT_FRAME_MALFORMED' };
    assert.deepEqual(
      decodeChatFrame(Buffer.concat([Buffer.of(FrameType.forward), Buffer.alloc(16)])),
      malformed,
    );
    assert.deepEqual(
      decodeChatFrame(Buffer.concat([Buffer.of(FrameType.relayed), Buffer.alloc(32 + 65)])),
      malformed,
    );
    assert.deepEqual(decodeChatFrame(Buffer.of(FrameType.relayed, 1, 2)), malformed);
    assert.ok(FORWARD_FRAME_VERSION <= CHAT_PROTOCOL_VERSION);
  });
});
