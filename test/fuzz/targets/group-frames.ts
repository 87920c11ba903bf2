/**
 * Group frames (src/chat/groups/group-frames.ts): the sub-frames members exchange inside a chat frame of type
 * `group`. Properties: never throws; what decodes re-encodes to exactly its bytes; lists stay within their limits.
 */
import assert from 'node:assert/strict';
import {
  decodeGroupFrame,
  encodeGroupFrame,
  MAX_WANT_HASHES,
} from '../../../src/chat/groups/group-frames.ts';
import { MAX_GROUP_MEMBERS } from '../../../src/chat/groups/group-key-seal.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import type { FuzzTarget } from '../fuzz-target.ts';

export const groupFramesTarget: FuzzTarget = {
  name: 'group-frames',
  decoders: 'decodeGroupFrame, encodeGroupFrame',
  weight: 8,
  maxInputBytes: 4096,
  dictionary: [
    Buffer.of(0),
    Buffer.of(1),
    Buffer.of(6),
    Buffer.of(18),
    Buffer.of(16),
    Buffer.of(64),
    Buffer.of(65),
    Buffer.of(0x7f, 0, 0, 1),
  ],
  seeds(random: FuzzRandom): Buffer[] {
    const groupId = random.bytes(32);
    const h = () => random.bytes(32);
    return [
      encodeGroupFrame({ type: 'heads', groupId, opHeads: [h()], messageHeads: [h(), h()] }),
      encodeGroupFrame({ type: 'want', groupId, hashes: [h()] }),
      encodeGroupFrame({ type: 'entry', groupId, entry: random.bytes(200) }),
      encodeGroupFrame({ type: 'read', groupId, heads: [] }),
      encodeGroupFrame({ type: 'typing', groupId, isTyping: true }),
      encodeGroupFrame({
        type: 'peers',
        groupId,
        peers: [
          { member: h(), address: { host: '127.0.0.1', port: 7001 } },
          { member: h(), address: { host: '2001:db8::1', port: 7002 } },
        ],
      }),
      encodeGroupFrame({ type: 'invite', groupId, name: 'club ✓' }),
      encodeGroupFrame({ type: 'join', groupId }),
      encodeGroupFrame({ type: 'decline', groupId }),
    ];
  },
  run(input: Buffer): string {
    const frame = decodeGroupFrame(input);
    if (frame === undefined) return 'reject';
    if (frame.type === 'want') assert.ok(frame.hashes.length >= 1 && frame.hashes.length <= MAX_WANT_HASHES);
    if (frame.type === 'peers') assert.ok(frame.peers.length <= MAX_GROUP_MEMBERS);
    assert.ok(encodeGroupFrame(frame).equals(input), 'a group frame re-encodes to its bytes');
    return `ok:${frame.type}`;
  },
};
