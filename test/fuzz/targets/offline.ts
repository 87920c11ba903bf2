/**
 * Offline messages (src/chat/offline-parts.ts, offline-seal.ts, offline-body.ts). The first input byte picks:
 *   0  parseHead + joinParts on the rest as a head part (its target computed from it, so the hash check passes
 *      and the structure checks run), with genuine tails
 *   1  the same on the rest decoded as bencode first: any value type where a part is expected
 *   2  decodeOfflinePlaintext: the message list inside an opened blob (length prefix, bencode, zero padding)
 *   3  decodeOfflineBody: one message's text, time and seq
 * Properties: never throws; rejections are known codes; what decodes re-encodes and decodes to the same thing;
 * a head yields at most 23 tail targets of 20 bytes and a chunk inside the part.
 */
import assert from 'node:assert/strict';
import { decodeOfflineBody, encodeOfflineBody } from '../../../src/chat/offline-body.ts';
import {
  joinParts,
  parseHead,
  splitBlob,
  blobCapacity,
  OFFLINE_MAX_PARTS,
} from '../../../src/chat/offline-parts.ts';
import { decodeOfflinePlaintext, OFFLINE_MAX_MESSAGES } from '../../../src/chat/offline-seal.ts';
import { immutableTarget } from '../../../src/dht/index.ts';
import { type BDict, type BValue, decodeBencode, encodeBencode } from '../../../src/wire/index.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import { type FuzzTarget, tokens } from '../fuzz-target.ts';

const PART_CODES = new Set([
  'CHAT_OFFLINE_MALFORMED_PART',
  'CHAT_OFFLINE_HASH_MISMATCH',
  'CHAT_OFFLINE_MISSING_PART',
]);
let tails: BValue[] = [];

function plaintextOf(messages: Array<{ id: Buffer; body: Buffer }>, padBytes: number): Buffer {
  const list = encodeBencode(
    messages.map((m) => {
      const entry: BDict = Object.create(null);
      entry['i'] = m.id;
      entry['b'] = m.body;
      return entry;
    }),
  );
  const out = Buffer.alloc(4 + list.length + padBytes);
  out.writeUInt32BE(list.length, 0);
  list.copy(out, 4);
  return out;
}

function checkParts(head: BValue): string {
  const headTarget = immutableTarget(encodeBencode(head));
  const parsed = parseHead(headTarget, head);
  if (parsed.ok) {
    assert.ok(Buffer.isBuffer(head));
    assert.ok(
      parsed.tailTargets.length < OFFLINE_MAX_PARTS && parsed.tailTargets.every((t) => t.length === 20),
    );
    assert.ok(parsed.chunk.length <= head.length);
  } else assert.ok(PART_CODES.has(parsed.code), parsed.code);
  const joined = joinParts(headTarget, head, tails);
  if (!joined.ok) assert.ok(PART_CODES.has(joined.code), joined.code);
  return `parts:${parsed.ok ? `ok:${parsed.tailTargets.length}` : parsed.code}:${joined.ok ? 'joined' : joined.code}`;
}

export const offlineTarget: FuzzTarget = {
  name: 'offline',
  decoders: 'parseHead, joinParts, decodeOfflinePlaintext, decodeOfflineBody',
  weight: 4,
  maxInputBytes: 2048,
  dictionary: tokens(
    '\x01\x00',
    '\x01\x01',
    '\x00\x18',
    '876:',
    '1:i',
    '1:b',
    '1:t',
    '1:c',
    '1:s',
    '16:',
    'le',
    'de',
    'i-1e',
    '\x00\x00\x00\x00',
  ),
  seeds(random: FuzzRandom): Buffer[] {
    const count = 3;
    const parts = splitBlob(random.bytes(blobCapacity(count)), count);
    tails = parts.slice(1).map((p) => p.v);
    const id = () => random.bytes(16);
    const body = encodeOfflineBody({ text: 'offline hello ✓', createdMs: 1_700_000_000_000, seq: 12 });
    return [
      Buffer.concat([Buffer.of(0), parts[0]!.v as Buffer]),
      Buffer.concat([Buffer.of(1), encodeBencode(parts[0]!.v)]),
      Buffer.concat([
        Buffer.of(2),
        plaintextOf(
          [
            { id: id(), body },
            { id: id(), body: Buffer.alloc(0) },
          ],
          30,
        ),
      ]),
      Buffer.concat([Buffer.of(3), body]),
    ];
  },
  run(input: Buffer): string {
    const rest = input.subarray(1);
    switch ((input[0] ?? 0) % 4) {
      case 0:
        return checkParts(rest);
      case 1: {
        const decoded = decodeBencode(rest);
        return decoded.ok ? checkParts(decoded.value) : 'parts:not-bencode';
      }
      case 2: {
        const messages = decodeOfflinePlaintext(rest);
        if (messages === undefined) return 'plaintext:reject';
        assert.ok(messages.length >= 1 && messages.length <= OFFLINE_MAX_MESSAGES);
        assert.ok(messages.every((m) => m.id.length === 16));
        assert.deepEqual(
          decodeOfflinePlaintext(plaintextOf(messages, 0)),
          messages,
          'decode(encode(x)) == x',
        );
        return `plaintext:ok:${Math.min(messages.length, 4)}`;
      }
      default: {
        const body = decodeOfflineBody(rest);
        if (body === undefined) return 'body:reject';
        const again = decodeOfflineBody(
          encodeOfflineBody({ text: body.text, createdMs: body.createdMs, seq: body.senderSeq }),
        );
        assert.deepEqual(again, body, 'decode(encode(x)) == x');
        return 'body:ok';
      }
    }
  },
};
