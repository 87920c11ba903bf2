/**
 * Group entries (src/chat/groups/group-entry.ts, group-ops.ts, group-key-seal.ts, group-message-seal.ts). The
 * first input byte picks:
 *   0  decodeEntry (+ verifyEntrySignature): the whole signed entry
 *   1  decodeOp: a membership op's body
 *   2  decodeMessageBody, decodePlaintext and decodeFileOfferPlaintext: a message's body layout and an opened
 *      plaintext (a text, or a file offered to the group)
 *   3  decodeKeyBlock: a sealed epoch key per member
 * Properties: never throws; rejections are known codes or undefined; what decodes re-encodes to exactly its
 * bytes (every layout is canonical), within its limits.
 */
import assert from 'node:assert/strict';
import { writeCreate, writeMessage, writeOp } from '../../../src/chat/groups/group-authoring.ts';
import {
  decodeEntry,
  encodeHeader,
  EntryDecodeError,
  MAX_ENTRY_BYTES,
  MAX_PARENTS,
  verifyEntrySignature,
} from '../../../src/chat/groups/group-entry.ts';
import {
  decodeKeyBlock,
  encodeKeyBlock,
  MAX_GROUP_MEMBERS,
} from '../../../src/chat/groups/group-key-seal.ts';
import {
  decodeFileOfferPlaintext,
  encodeFileOfferPlaintext,
} from '../../../src/chat/groups/group-file-offer.ts';
import { decodeMessageBody, decodePlaintext } from '../../../src/chat/groups/group-message-seal.ts';
import { decodeOp, encodeOp } from '../../../src/chat/groups/group-ops.ts';
import { identityFromSeed } from '../../../src/chat/identity.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import type { FuzzTarget } from '../fuzz-target.ts';

const CODES = new Set<string>(Object.values(EntryDecodeError));

function seedEntries(): { create: Buffer; add: Buffer; message: Buffer } {
  const alice = identityFromSeed(Buffer.alloc(32, 1));
  const bob = identityFromSeed(Buffer.alloc(32, 2));
  const ctx = { identity: alice, random: new SeededRandom('fuzz-group'), nowMs: 1_700_000_000_000 };
  const { groupId, entry: create, epochKey } = writeCreate(ctx, 'fuzz club');
  const parents = [{ hash: create.hash, lamport: create.lamport }];
  const { entry: add } = writeOp(
    ctx,
    { groupId, seq: 2, parents },
    { type: 'add', target: bob.publicKey, messageHeads: [{ hash: Buffer.alloc(32, 7), lamport: 3 }] },
    [alice.publicKey, bob.publicKey],
  );
  const message = writeMessage(
    ctx,
    { groupId, seq: 3, parents: [] },
    { epoch: create.hash, step: 0, stepKey: epochKey },
    'fuzz ✓',
  );
  return { create: create.bytes, add: add.bytes, message: message.bytes };
}

export const groupEntriesTarget: FuzzTarget = {
  name: 'group-entries',
  decoders:
    'decodeEntry, verifyEntrySignature, decodeOp, decodeMessageBody, decodePlaintext, decodeFileOfferPlaintext, decodeKeyBlock',
  weight: 4,
  maxInputBytes: 4096,
  dictionary: [
    Buffer.of(1),
    Buffer.of(2),
    Buffer.of(16),
    Buffer.of(17),
    Buffer.of(100),
    Buffer.of(101),
    Buffer.alloc(4),
    Buffer.alloc(4, 0xff),
  ],
  seeds(random: FuzzRandom): Buffer[] {
    const { create, add, message } = seedEntries();
    const decodedAdd = decodeEntry(add);
    const decodedMessage = decodeEntry(message);
    assert.ok(decodedAdd.ok && decodedMessage.ok);
    const plaintext = Buffer.alloc(64);
    plaintext[0] = 1;
    plaintext.writeUInt16BE(5, 1);
    plaintext.write('hello', 3);
    return [
      Buffer.concat([Buffer.of(0), create]),
      Buffer.concat([Buffer.of(0), message]),
      Buffer.concat([Buffer.of(1), decodedAdd.entry.body]),
      Buffer.concat([Buffer.of(1), Buffer.of(4)]),
      Buffer.concat([Buffer.of(1), Buffer.of(5), random.bytes(32)]),
      Buffer.concat([Buffer.of(2), decodedMessage.entry.body]),
      Buffer.concat([Buffer.of(2), plaintext]),
      Buffer.concat([
        Buffer.of(2),
        encodeFileOfferPlaintext({
          transferId: Buffer.alloc(16, 3),
          sizeBytes: 1_000_000,
          pieceBytes: 256 * 1024,
          root: Buffer.alloc(32, 4),
          name: 'song.ogg',
        }),
      ]),
      Buffer.concat([Buffer.of(3), decodedAdd.entry.body.subarray(1 + 32 + 1 + 36)]),
    ];
  },
  run(input: Buffer): string {
    const rest = input.subarray(1);
    switch ((input[0] ?? 0) % 4) {
      case 0: {
        const r = decodeEntry(rest);
        if (!r.ok) {
          assert.ok(CODES.has(r.code), r.code);
          return `entry:${r.code}`;
        }
        const { entry } = r;
        assert.ok(entry.parents.length <= MAX_PARENTS && rest.length <= MAX_ENTRY_BYTES);
        const again = Buffer.concat([encodeHeader(entry), entry.body, rest.subarray(rest.length - 64)]);
        assert.ok(again.equals(rest), 'an entry re-encodes to its bytes');
        return `entry:ok:${entry.kind}:${verifyEntrySignature(entry) ? 'signed' : 'unsigned'}`;
      }
      case 1: {
        const op = decodeOp(rest);
        if (op === undefined) return 'op:reject';
        assert.ok(encodeOp(op).equals(rest), 'an op re-encodes to its bytes');
        return `op:ok:${op.type}`;
      }
      case 2: {
        const body = decodeMessageBody(rest);
        if (body !== undefined) {
          const step = Buffer.alloc(2);
          step.writeUInt16BE(body.step);
          assert.ok(Buffer.concat([body.epoch, step, body.nonce, body.ciphertext]).equals(rest));
        }
        const text = decodePlaintext(rest);
        if (text !== undefined) {
          const bytes = Buffer.from(text, 'utf8');
          const again = Buffer.alloc(rest.length);
          again[0] = 1;
          again.writeUInt16BE(bytes.length, 1);
          bytes.copy(again, 3);
          assert.ok(again.equals(rest), 'a plaintext re-encodes to its bytes');
        }
        const offer = decodeFileOfferPlaintext(rest);
        if (offer !== undefined) {
          assert.ok(encodeFileOfferPlaintext(offer).equals(rest), 'a file offer re-encodes to its bytes');
          return `body:${body === undefined ? 'reject' : 'ok'}:offer`;
        }
        return `body:${body === undefined ? 'reject' : 'ok'}:${text === undefined ? 'reject' : 'text'}`;
      }
      default: {
        const block = decodeKeyBlock(rest);
        if (block === undefined) return 'keys:reject';
        assert.ok(block.block.slots.length >= 1 && block.block.slots.length <= MAX_GROUP_MEMBERS);
        assert.ok(encodeKeyBlock(block.block).equals(rest.subarray(0, block.length)));
        return `keys:ok:${Math.min(block.block.slots.length, 3)}`;
      }
    }
  },
};
