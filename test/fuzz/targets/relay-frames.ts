/**
 * Relay frames (src/net/relay/relay-protocol.ts): RelayFrameReader over arbitrary chunks, then the frame body
 * decoder. Inputs start from a genuine exchange (JOIN with one and two tokens, WAITING, MATCHED, REFUSED),
 * cut into chunks whose sizes come from the input itself. Properties: never throws; the reader never holds more
 * than one frame's worth; a rejection has a stable RELAY_FRAME_* code; an accepted frame re-encodes to the exact
 * bytes it was read from; what follows a frame is handed back whole.
 */
import assert from 'node:assert/strict';
import {
  decodeRelayFrameBody,
  encodeRelayFrame,
  firstFrameService,
  type RelayFrame,
  RelayFrameReader,
  RelayRefusal,
} from '../../../src/net/relay/index.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import type { FuzzTarget } from '../fuzz-target.ts';

const LENGTH_BYTES = 2;
const MAX_FRAME_BODY_BYTES = 68;

export const relayFramesTarget: FuzzTarget = {
  name: 'relay-frames',
  decoders: 'RelayFrameReader, decodeRelayFrameBody, firstFrameService',
  weight: 10,
  maxInputBytes: 512,
  dictionary: [
    Buffer.of(0x52, 1, 0, 1),
    Buffer.of(0x52, 1, 1, 2),
    Buffer.of(0x57),
    Buffer.of(0x4d),
    Buffer.of(0x58),
    Buffer.of(0, 36),
    Buffer.of(0, 68),
    Buffer.of(0, 69),
    Buffer.of(0xff, 0xff),
  ],
  seeds(random: FuzzRandom): Buffer[] {
    const frames: RelayFrame[] = [
      { type: 'join', join: { role: 0, tokens: [random.bytes(32)] } },
      { type: 'join', join: { role: 1, tokens: [random.bytes(32), random.bytes(32)] } },
      { type: 'waiting', waitSeconds: 20 },
      { type: 'matched' },
      { type: 'refused', reason: RelayRefusal.noPartner },
    ];
    return [
      ...frames.map((f) => encodeRelayFrame(f)),
      Buffer.concat([encodeRelayFrame(frames[2] as RelayFrame), encodeRelayFrame({ type: 'matched' })]),
      Buffer.concat([encodeRelayFrame({ type: 'matched' }), random.bytes(40)]),
    ];
  },
  run(input: Buffer): string {
    const service = firstFrameService(input) ?? 'short';
    const body = input.subarray(LENGTH_BYTES);
    const direct = decodeRelayFrameBody(body);
    if (direct.ok) assert.deepEqual(encodeRelayFrame(direct.frame).subarray(LENGTH_BYTES), body);
    else assert.match(direct.code, /^RELAY_FRAME_[A-Z_]+$/);
    const reader = new RelayFrameReader();
    let fed = 0;
    for (let offset = 0; offset < input.length; ) {
      const size = 1 + (((input[offset] as number) * 7) % 13);
      const chunk = input.subarray(offset, offset + size);
      offset += chunk.length;
      fed += chunk.length;
      const read = reader.push(chunk);
      if (read.kind === 'need-more') {
        assert.ok(fed < LENGTH_BYTES + MAX_FRAME_BODY_BYTES, 'the reader holds at most one frame');
        continue;
      }
      if (read.kind === 'error') {
        assert.match(read.code, /^RELAY_FRAME_[A-Z_]+$/);
        return `${service}:reader:${read.code}`;
      }
      const encoded = encodeRelayFrame(read.frame);
      assert.deepEqual(encoded, input.subarray(0, encoded.length), 'the frame is the bytes it was read from');
      assert.deepEqual(read.rest, input.subarray(encoded.length, offset), 'the rest is handed back whole');
      return `${service}:frame:${read.frame.type}`;
    }
    return `${service}:need-more`;
  },
};
