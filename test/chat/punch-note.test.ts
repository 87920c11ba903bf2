import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { derivePairSecret, generateIdentity, punchNoteKey } from '../../src/chat/index.ts';
import { openPunchNote, PUNCH_NOTE_MAX_BYTES, sealPunchNote } from '../../src/chat/punch-note.ts';
import { NOTE_MAX_BYTES } from '../../src/dht/index.ts';
import { SeededRandom } from '../../src/runtime/index.ts';

const random = new SeededRandom('punch-note-tests');
const alice = generateIdentity(random);
const bob = generateIdentity(random);
const carol = generateIdentity(random);

function parties(sender: typeof alice, receiver: typeof alice) {
  const k = derivePairSecret(sender, receiver.publicKey);
  assert.ok(k.ok);
  return {
    key: punchNoteKey(k.secret, sender.publicKey),
    senderPk: sender.publicKey,
    receiverPk: receiver.publicKey,
  };
}

describe('punch note', () => {
  test('round-trips timestamp and endpoint (IPv4, IPv6, none) and fits an introducer forward', () => {
    for (const endpoint of [
      { host: '10.200.0.2', port: 40001 },
      { host: '2001:db8::1', port: 7 },
      undefined,
    ]) {
      const note = sealPunchNote(
        parties(alice, bob),
        { timestampMs: 1_764_000_000_123, ...(endpoint === undefined ? {} : { endpoint }) },
        random,
      );
      assert.ok(note.length <= PUNCH_NOTE_MAX_BYTES && note.length <= NOTE_MAX_BYTES);
      // Bob derives the same key from his side of the pair secret.
      const opened = openPunchNote(parties(alice, bob), note);
      assert.equal(opened?.timestampMs, 1_764_000_000_123);
      assert.deepEqual(opened?.endpoint, endpoint);
      assert.equal(opened?.nonce.length, 12);
    }
  });

  test('only the pair and direction it was sealed for opens it', () => {
    const note = sealPunchNote(parties(alice, bob), { timestampMs: 5 }, random);
    assert.equal(openPunchNote(parties(bob, alice), note), undefined, 'other direction');
    assert.equal(openPunchNote(parties(carol, bob), note), undefined, 'other friend');
    assert.equal(openPunchNote(parties(alice, carol), note), undefined, 'other receiver');
  });

  test('tampered, truncated, oversized or wrong-version notes are values, not throws (1000 mutations)', () => {
    const p = parties(alice, bob);
    const note = sealPunchNote(p, { timestampMs: 5, endpoint: { host: '10.0.0.1', port: 1 } }, random);
    assert.equal(openPunchNote(p, Buffer.alloc(0)), undefined);
    assert.equal(openPunchNote(p, note.subarray(0, 20)), undefined);
    assert.equal(openPunchNote(p, Buffer.concat([note, Buffer.alloc(40)])), undefined);
    assert.equal(openPunchNote(p, Buffer.concat([Buffer.from([2]), note.subarray(1)])), undefined);
    for (let i = 0; i < 1000; i++) {
      const bad = Buffer.from(note);
      const at = random.int(bad.length);
      bad[at] = (bad[at]! ^ (1 + random.int(255))) & 0xff;
      assert.equal(openPunchNote(p, bad), undefined);
    }
  });
});
