import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeEntry,
  encodeHeader,
  MAX_ENTRY_BYTES,
  MAX_PARENTS,
  signEntry,
  verifyEntrySignature,
} from '../../../src/chat/groups/group-entry.ts';
import { person, Scribe } from './group-fixtures.ts';

const alice = person(1);
const bob = person(2);
const eve = person(5);

function fields(overrides: Partial<Parameters<typeof signEntry>[0]> = {}) {
  return {
    kind: 'message' as const,
    groupId: Buffer.alloc(32, 7),
    author: alice.publicKey,
    seq: 3,
    lamport: 4,
    createdMs: 1_700_000_000_000,
    parents: [Buffer.alloc(32, 2), Buffer.alloc(32, 1)],
    body: Buffer.from('opaque body'),
    ...overrides,
  };
}

describe('group entries', () => {
  test('sign, decode, verify: fields survive, parents come out sorted, the hash is the id', () => {
    const entry = signEntry(fields(), alice.signing);
    const decoded = decodeEntry(entry.bytes);
    assert.ok(decoded.ok);
    assert.equal(decoded.entry.kind, 'message');
    assert.deepEqual(decoded.entry.groupId, Buffer.alloc(32, 7));
    assert.equal(decoded.entry.seq, 3);
    assert.equal(decoded.entry.lamport, 4);
    assert.equal(decoded.entry.createdMs, 1_700_000_000_000);
    assert.deepEqual(decoded.entry.parents, [Buffer.alloc(32, 1), Buffer.alloc(32, 2)]);
    assert.deepEqual(decoded.entry.body, Buffer.from('opaque body'));
    assert.deepEqual(decoded.entry.hash, entry.hash);
    assert.equal(decoded.entry.bodyOffset, encodeHeader(fields()).length);
    assert.ok(verifyEntrySignature(decoded.entry));
  });

  test('every single-byte change is refused: by the decoder or by the signature', () => {
    const entry = signEntry(fields(), alice.signing);
    for (let i = 0; i < entry.bytes.length; i++) {
      const tampered = Buffer.from(entry.bytes);
      tampered[i] = (tampered[i] as number) ^ 0x01;
      const decoded = decodeEntry(tampered);
      assert.ok(!decoded.ok || !verifyEntrySignature(decoded.entry), `byte ${i}`);
    }
  });

  test('a member cannot write under another name: an entry naming Alice but signed by Eve fails', () => {
    const forged = signEntry(fields({ author: alice.publicKey }), eve.signing);
    const decoded = decodeEntry(forged.bytes);
    assert.ok(decoded.ok, 'well-formed');
    assert.equal(verifyEntrySignature(decoded.entry), false);
    // Re-signing Alice's genuine entry with another key, or moving her signature onto altered bytes, fails too.
    const genuine = signEntry(fields(), alice.signing);
    const moved = Buffer.concat([
      signEntry(fields({ seq: 4 }), bob.signing).bytes.subarray(0, -64),
      genuine.bytes.subarray(-64),
    ]);
    const movedDecoded = decodeEntry(moved);
    assert.ok(movedDecoded.ok && !verifyEntrySignature(movedDecoded.entry));
  });

  test('the decoder refuses what is not canonical or out of bounds, and never throws', () => {
    const entry = signEntry(fields(), alice.signing);
    assert.equal(decodeEntry(entry.bytes.subarray(0, 100)).ok, false, 'short');
    assert.equal(decodeEntry(Buffer.alloc(MAX_ENTRY_BYTES + 1)).ok, false, 'long');
    const version = Buffer.from(entry.bytes);
    version[0] = 2;
    assert.deepEqual(decodeEntry(version), { ok: false, code: 'CHAT_GROUP_ENTRY_MALFORMED' });
    const kind = Buffer.from(entry.bytes);
    kind[1] = 3;
    assert.equal(decodeEntry(kind).ok, false);
    // Parents out of order: swap the two parent hashes in place.
    const swapped = Buffer.from(entry.bytes);
    const at = 2 + 32 + 32 + 16 + 1;
    entry.bytes.copy(swapped, at, at + 32, at + 64);
    entry.bytes.copy(swapped, at + 32, at, at + 32);
    assert.equal(decodeEntry(swapped).ok, false, 'unsorted parents');
    // Too many parents claimed.
    const many = Buffer.from(entry.bytes);
    many[at - 1] = MAX_PARENTS + 1;
    assert.equal(decodeEntry(many).ok, false);
    // Zero seq, and a parentless entry claiming lamport 2.
    assert.equal(decodeEntry(signEntry(fields({ parents: [], lamport: 1 }), alice.signing).bytes).ok, true);
    const lamport = signEntry(fields({ parents: [], lamport: 1 }), alice.signing).bytes;
    lamport.writeUInt32BE(2, 2 + 32 + 32 + 4);
    assert.equal(decodeEntry(lamport).ok, false);
    assert.throws(() => signEntry(fields({ seq: 0 }), alice.signing), RangeError);
    for (let n = 0; n < 500; n++) {
      const junk = Buffer.alloc(n * 7, n);
      assert.doesNotThrow(() => decodeEntry(junk));
    }
  });

  test('a real group: every op and message of a scribe decodes and verifies', () => {
    const scribe = new Scribe(alice);
    scribe.op(
      alice,
      { type: 'add', target: bob.publicKey, messageHeads: [] },
      { recipients: scribe.members(undefined, bob) },
    );
    scribe.message(alice, 'hello');
    scribe.message(bob, 'hi');
    for (const entry of [...scribe.ops, ...scribe.messages]) {
      const decoded = decodeEntry(entry.bytes);
      assert.ok(decoded.ok && verifyEntrySignature(decoded.entry));
    }
  });
});
