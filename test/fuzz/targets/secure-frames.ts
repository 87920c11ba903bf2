/**
 * Secure-stream frames (src/net/secure/frame-format.ts): FrameDecoder reassembling length-prefixed frames from
 * arbitrary chunks, then openTransportFrame (ChaCha20-Poly1305 with the nonce counter). The genuine stream is three
 * frames sealed under one key; inputs are that stream mutated, cut into chunks whose sizes come from the input
 * itself. Properties: never throws; the decoder holds at most one frame; a frame that opens is exactly the frame
 * sent at that position (authenticity); a rejection has a stable code.
 */
import assert from 'node:assert/strict';
import { CipherState } from '../../../src/crypto/index.ts';
import {
  FRAME_TYPES,
  FrameDecoder,
  MAX_FRAME_BYTES,
  openTransportFrame,
  sealTransportFrame,
} from '../../../src/net/secure/index.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import type { FuzzTarget } from '../fuzz-target.ts';

const KEY = Buffer.alloc(32, 0x4b);
const PLAINTEXTS = [Buffer.from('first frame'), Buffer.alloc(300, 7), Buffer.alloc(0)];

function genuineStream(): Buffer {
  const sender = new CipherState(KEY);
  return Buffer.concat([
    ...sealTransportFrame(sender, FRAME_TYPES.DATA, PLAINTEXTS[0] as Buffer),
    ...sealTransportFrame(sender, FRAME_TYPES.DATA, PLAINTEXTS[1] as Buffer),
    ...sealTransportFrame(sender, FRAME_TYPES.CLOSE, Buffer.alloc(0)),
  ]);
}

export const secureFramesTarget: FuzzTarget = {
  name: 'secure-frames',
  decoders: 'FrameDecoder, openTransportFrame',
  weight: 3,
  maxInputBytes: 2048,
  dictionary: [
    Buffer.of(0, 0),
    Buffer.of(0xff, 0xff),
    Buffer.of(0, 17),
    Buffer.of(0, 16),
    Buffer.of(0x80, 0),
  ],
  seeds(_random: FuzzRandom): Buffer[] {
    return [genuineStream()];
  },
  run(input: Buffer): string {
    // Small frame limits sometimes, so the limit check runs too (the last byte decides, a mutation can move it).
    const maxFrameBytes = (input[input.length - 1] ?? 0) % 4 === 0 ? 200 : MAX_FRAME_BYTES;
    const decoder = new FrameDecoder(maxFrameBytes);
    const receiver = new CipherState(KEY);
    let index = 0;
    for (let offset = 0; offset < input.length; ) {
      const size = 1 + (((input[offset] as number) * 7) % 97);
      const decoded = decoder.push(input.subarray(offset, offset + size));
      offset += size;
      if (!decoded.ok) {
        assert.match(decoded.code, /^SECURE_STREAM_[A-Z_]+$/);
        return `decoder:${decoded.code}`;
      }
      for (const body of decoded.frames) {
        assert.ok(body.length <= maxFrameBytes, 'a frame within the limit');
        const frame = openTransportFrame(receiver, body);
        if (!frame.ok) return `open:${frame.code}:${index}`;
        if (frame.type === FRAME_TYPES.DATA)
          assert.deepEqual(frame.data, PLAINTEXTS[index], 'the frame sent there');
        else assert.equal(index, 2, 'the close frame is the third');
        index++;
      }
    }
    return `end:${index}`;
  },
};
