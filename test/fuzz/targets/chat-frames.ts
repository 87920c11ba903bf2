/**
 * Chat frames (src/chat/session/frames.ts): decodeChatFrame on one body, and ChatFrameReader on the same bytes as
 * a stream in chunks whose sizes come from the input. Properties: never throws; a rejection has a stable code;
 * an accepted frame re-encodes to exactly its bytes (the layouts are fixed, so the encoding is canonical); the
 * reader yields only frames that re-encode to a prefix of what it was given, and stops at its first error.
 */
import assert from 'node:assert/strict';
import {
  ChatFrameReader,
  decodeChatFrame,
  encodeChatFrame,
  FrameErrorCode,
} from '../../../src/chat/session/frames.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import type { FuzzTarget } from '../fuzz-target.ts';

const CODES = new Set<string>(Object.values(FrameErrorCode));
const LENGTH_BYTES = 4;

export const chatFramesTarget: FuzzTarget = {
  name: 'chat-frames',
  decoders: 'decodeChatFrame, ChatFrameReader, encodeChatFrame',
  weight: 20,
  maxInputBytes: 17_000,
  dictionary: [
    Buffer.of(1),
    Buffer.of(2),
    Buffer.of(3),
    Buffer.of(4),
    Buffer.of(5),
    Buffer.of(6),
    Buffer.of(7),
    Buffer.of(8),
    Buffer.of(0x0b),
    Buffer.of(0x0c),
    Buffer.of(0x0d),
    Buffer.of(0x0e),
    Buffer.of(0x0f),
    Buffer.of(0x10),
    Buffer.of(64),
    Buffer.of(65),
    Buffer.of(0, 0, 0x40, 0x11),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('é', 'utf8'),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from([0xf0, 0x9f, 0x98, 0x80]),
    Buffer.alloc(8, 0xff),
  ],
  seeds(random: FuzzRandom): Buffer[] {
    const id = () => random.bytes(16);
    return [
      encodeChatFrame({ type: 'hello', version: 1 }),
      encodeChatFrame({
        type: 'message',
        id: id(),
        createdMs: 1_700_000_000_000,
        senderSeq: 7,
        text: 'hi — ✓ 😀',
      }),
      encodeChatFrame({ type: 'ack', ids: [id(), id()] }),
      encodeChatFrame({ type: 'read', ids: [id()] }),
      encodeChatFrame({ type: 'typing', isTyping: true }),
      encodeChatFrame({ type: 'ping', nonce: random.u32() }),
      encodeChatFrame({ type: 'pong', nonce: random.u32() }),
      encodeChatFrame({
        type: 'request',
        name: 'Carol',
        message: 'hello from Carol',
        stamp: { hour: 491_234, nonces: random.bytes(128) },
      }),
      encodeChatFrame({ type: 'request-ack', status: 'received', stampBits: 15 }),
      encodeChatFrame({
        type: 'file-offer',
        transferId: id(),
        sizeBytes: 3 * 2 ** 30,
        pieceBytes: 262_144,
        root: random.bytes(32),
        name: '../report\u202e.pdf',
      }),
      encodeChatFrame({ type: 'file-state', transferId: id(), state: 'canceled' }),
      encodeChatFrame({ type: 'forward', tag: random.bytes(16), note: random.bytes(55) }),
      encodeChatFrame({ type: 'relayed', from: random.bytes(32), note: random.bytes(55) }),
    ].map((framed) => framed.subarray(LENGTH_BYTES));
  },
  run(input: Buffer): string {
    const r = decodeChatFrame(input);
    let outcome: string;
    if (r.ok) {
      assert.ok(
        encodeChatFrame(r.frame).subarray(LENGTH_BYTES).equals(input),
        'an accepted frame re-encodes to itself',
      );
      outcome = `ok:${r.frame.type}`;
    } else {
      assert.ok(CODES.has(r.code), `unknown code ${r.code}`);
      outcome = r.code;
    }
    // The same bytes as a stream: a length prefix taken from the input, or the body prefixed with its own length.
    const stream = (input[0] ?? 0) % 2 === 0 ? Buffer.concat([lengthOf(input), input]) : input;
    const reader = new ChatFrameReader();
    let consumed = 0;
    for (let offset = 0; offset < stream.length; ) {
      const size = 1 + (((stream[offset] as number) * 13) % 251);
      const { frames, error } = reader.push(stream.subarray(offset, offset + size));
      offset += size;
      for (const frame of frames) {
        const bytes = encodeChatFrame(frame);
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
