import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeEntry } from '../../../src/chat/groups/group-entry.ts';
import {
  decodeKeyBlock,
  encodeKeyBlock,
  MAX_GROUP_MEMBERS,
  openKeyBlock,
  sealKeyBlock,
} from '../../../src/chat/groups/group-key-seal.ts';
import {
  decodeMessageBody,
  decodePlaintext,
  openMessageBody,
  ratchetTo,
} from '../../../src/chat/groups/group-message-seal.ts';
import { decodeOp, isKeyOp } from '../../../src/chat/groups/group-ops.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';
import { person, Scribe, T0 } from './group-fixtures.ts';
import type { Identity } from '../../../src/chat/identity.ts';
import type { GroupEntry } from '../../../src/chat/groups/group-entry.ts';

const alice = person(1);
const bob = person(2);
const carol = person(3);
const random = new SeededRandom('group-crypto');
const groupId = Buffer.alloc(32, 9);

/** What `who` can read of a message with the keys its op entries hand it (the epoch key at step 0). */
function readWith(
  who: Identity,
  ops: readonly GroupEntry[],
  message: GroupEntry,
  scribe: Scribe,
): string | undefined {
  const body = decodeMessageBody(message.body);
  if (body === undefined) return undefined;
  const keyOp = ops.find((o) => o.hash.equals(body.epoch));
  if (keyOp === undefined) return undefined;
  const op = decodeOp(keyOp.body);
  if (op === undefined || !isKeyOp(op)) return undefined;
  const epochKey = openKeyBlock(op.keys, scribe.groupId, keyOp.author, who.publicKey, who.x25519);
  if (epochKey === undefined) return undefined;
  const stepKey = ratchetTo(epochKey, 0, body.step, scribe.groupId, body.epoch);
  if (stepKey === undefined) return undefined;
  return openMessageBody({
    entryHeader: message.bytes.subarray(0, message.bodyOffset),
    groupId: scribe.groupId,
    author: message.author,
    body,
    stepKey,
  });
}

describe('epoch keys sealed to members', () => {
  test('each recipient opens its copy; anyone else does not', () => {
    const key = random.bytes(32);
    const block = sealKeyBlock(groupId, alice.publicKey, [bob.publicKey, alice.publicKey], key, random);
    assert.deepEqual(openKeyBlock(block, groupId, alice.publicKey, bob.publicKey, bob.x25519), key);
    assert.deepEqual(openKeyBlock(block, groupId, alice.publicKey, alice.publicKey, alice.x25519), key);
    assert.equal(openKeyBlock(block, groupId, alice.publicKey, carol.publicKey, carol.x25519), undefined);
    // Carol claiming Bob's slot with her own key: the DH differs, the tag fails.
    assert.equal(openKeyBlock(block, groupId, alice.publicKey, bob.publicKey, carol.x25519), undefined);
    // Bound to the group and the op's author.
    assert.equal(
      openKeyBlock(block, Buffer.alloc(32, 8), alice.publicKey, bob.publicKey, bob.x25519),
      undefined,
    );
    assert.equal(openKeyBlock(block, groupId, carol.publicKey, bob.publicKey, bob.x25519), undefined);
  });

  test('the block codec round-trips, sorts recipients, and refuses malformed blocks', () => {
    const block = sealKeyBlock(
      groupId,
      alice.publicKey,
      [carol.publicKey, bob.publicKey],
      random.bytes(32),
      random,
    );
    const bytes = encodeKeyBlock(block);
    const decoded = decodeKeyBlock(bytes);
    assert.equal(decoded?.length, bytes.length);
    assert.deepEqual(decoded?.block, block);
    assert.ok(Buffer.compare(block.slots[0]?.recipient as Buffer, block.slots[1]?.recipient as Buffer) < 0);
    assert.equal(decodeKeyBlock(bytes.subarray(0, bytes.length - 1)), undefined);
    const zero = Buffer.from(bytes);
    zero[32] = 0;
    assert.equal(decodeKeyBlock(zero), undefined);
    assert.throws(() => sealKeyBlock(groupId, alice.publicKey, [], random.bytes(32), random), RangeError);
    const many = Array.from({ length: MAX_GROUP_MEMBERS + 1 }, (_, i) => person(i + 10).publicKey);
    assert.throws(() => sealKeyBlock(groupId, alice.publicKey, many, random.bytes(32), random), RangeError);
  });
});

describe('group messages', () => {
  test('members read a message; altering any byte of its body or header breaks it', () => {
    const scribe = new Scribe(alice);
    scribe.op(
      alice,
      { type: 'add', target: bob.publicKey, messageHeads: [] },
      { recipients: scribe.members(undefined, bob) },
    );
    const message = scribe.message(alice, 'hello group ✓');
    assert.equal(readWith(bob, scribe.ops, message, scribe), 'hello group ✓');
    assert.equal(readWith(alice, scribe.ops, message, scribe), 'hello group ✓');
    assert.equal(readWith(carol, scribe.ops, message, scribe), undefined, 'not a member');
    for (const at of [message.bodyOffset + 40, message.bodyOffset + 60, message.bytes.length - 70, 70]) {
      const bytes = Buffer.from(message.bytes);
      bytes[at] = (bytes[at] as number) ^ 1;
      const decoded = decodeEntry(bytes);
      if (!decoded.ok) continue;
      assert.equal(readWith(bob, scribe.ops, decoded.entry, scribe), undefined, `byte ${at}`);
    }
  });

  test('a removed member cannot read the next message: its keys open nothing of the new epoch', () => {
    const scribe = new Scribe(alice);
    scribe.op(
      alice,
      { type: 'add', target: bob.publicKey, messageHeads: [] },
      { recipients: scribe.members(undefined, bob) },
    );
    scribe.op(
      alice,
      { type: 'add', target: carol.publicKey, messageHeads: [] },
      { recipients: scribe.members(undefined, carol) },
    );
    const before = scribe.message(alice, 'before');
    assert.equal(readWith(carol, scribe.ops, before, scribe), 'before');
    scribe.op(
      alice,
      { type: 'remove', target: carol.publicKey, targetLastSeq: 0 },
      { recipients: scribe.members(carol) },
    );
    const after = scribe.message(alice, 'after the removal');
    assert.equal(readWith(bob, scribe.ops, after, scribe), 'after the removal');
    assert.equal(
      readWith(carol, scribe.ops, after, scribe),
      undefined,
      'Carol holds no key of the new epoch',
    );
    // Every epoch key Carol ever held, at every step nearby, fails on it too.
    const body = decodeMessageBody(after.body);
    assert.ok(body !== undefined);
    for (const keyOp of scribe.ops) {
      const op = decodeOp(keyOp.body);
      if (op === undefined || !isKeyOp(op)) continue;
      const key = openKeyBlock(op.keys, scribe.groupId, keyOp.author, carol.publicKey, carol.x25519);
      if (key === undefined) continue;
      for (let step = 0; step < 4; step++) {
        const stepKey = ratchetTo(key, 0, step, scribe.groupId, body.epoch) as Buffer;
        const text = openMessageBody({
          entryHeader: after.bytes.subarray(0, after.bodyOffset),
          groupId: scribe.groupId,
          author: after.author,
          body,
          stepKey,
        });
        assert.equal(text, undefined);
      }
    }
  });

  test('the daily ratchet: a message two days into an epoch opens only with the key at its step', () => {
    const scribe = new Scribe(alice);
    scribe.nowMs = T0 + 2 * 86_400_000;
    const message = scribe.message(alice, 'two days later');
    const body = decodeMessageBody(message.body);
    assert.equal(body?.step, 2);
    const key = scribe.keys.get(body?.epoch.toString('hex') as string) as Buffer;
    const open = (stepKey: Buffer) =>
      openMessageBody({
        entryHeader: message.bytes.subarray(0, message.bodyOffset),
        groupId: scribe.groupId,
        author: alice.publicKey,
        body: body as NonNullable<typeof body>,
        stepKey,
      });
    assert.equal(open(key), undefined, 'step 0 key');
    const step1 = ratchetTo(key, 0, 1, scribe.groupId, body?.epoch as Buffer) as Buffer;
    assert.equal(
      open(ratchetTo(step1, 1, 2, scribe.groupId, body?.epoch as Buffer) as Buffer),
      'two days later',
    );
    assert.equal(ratchetTo(step1, 1, 0, scribe.groupId, body?.epoch as Buffer), undefined, 'no way back');
  });

  test('plaintext decoding is strict', () => {
    const ok = Buffer.alloc(64);
    ok[0] = 1;
    ok.writeUInt16BE(2, 1);
    ok.write('hi', 3);
    assert.equal(decodePlaintext(ok), 'hi');
    const trailing = Buffer.from(ok);
    trailing[10] = 1;
    assert.equal(decodePlaintext(trailing), undefined);
    assert.equal(decodePlaintext(ok.subarray(0, 63)), undefined);
    const empty = Buffer.from(ok);
    empty.writeUInt16BE(0, 1);
    assert.equal(decodePlaintext(empty), undefined);
    const bad = Buffer.from(ok);
    bad[3] = 0xff;
    assert.equal(decodePlaintext(bad), undefined);
  });
});
