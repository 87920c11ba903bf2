import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  derivePairSecret,
  generateIdentity,
  OFFLINE_MAX_PLAINTEXT_BYTES,
  OFFLINE_PART_V_BYTES,
  type OfflineMessage,
  type OfflineParties,
  openOffline,
  parseHead,
  sealOffline,
} from '../../src/chat/index.ts';
import { x25519Generate } from '../../src/crypto/index.ts';
import { immutableTarget } from '../../src/dht/index.ts';
import { DhtchatError, SeededRandom } from '../../src/runtime/index.ts';
import { type BValue, encodeBencode } from '../../src/wire/index.ts';

const random = new SeededRandom('offline-seal-tests');
const alice = generateIdentity(random);
const bob = generateIdentity(random);
const carol = generateIdentity(random);
const k = (() => {
  const r = derivePairSecret(alice, bob.publicKey);
  assert.ok(r.ok);
  return r.secret;
})();
const toBob: OfflineParties = { pairSecret: k, senderPk: alice.publicKey, recipientPk: bob.publicKey };
const prekey = x25519Generate(random);
const oldPrekey = x25519Generate(random);

function message(bodyBytes: number): OfflineMessage {
  return { id: random.bytes(16), body: random.bytes(bodyBytes) };
}

function open(sealed: ReturnType<typeof sealOffline>, parties = toBob, prekeys = [prekey], tails?: BValue[]) {
  const [head, ...rest] = sealed.parts;
  assert.ok(head);
  return openOffline(parties, prekeys, sealed.headTarget, head.v, tails ?? rest.map((p) => p.v));
}

describe('offline sealing', () => {
  test('one short message: one part, round trip', () => {
    const msgs = [message(40)];
    const sealed = sealOffline(toBob, prekey.publicKey, msgs, random);
    assert.equal(sealed.parts.length, 1);
    const opened = open(sealed);
    assert.ok(opened.ok);
    assert.deepEqual(opened.messages, msgs);
    assert.deepEqual(opened.prekey, prekey.publicKey);
  });

  test('a 16 KiB message and a batch: many parts, all the same size ≤ 1000 bytes, targets = SHA-1(v)', () => {
    const batch = [message(16 * 1024), message(10), message(0)];
    const sealed = sealOffline(toBob, prekey.publicKey, batch, random);
    assert.ok(sealed.parts.length > 15, `${sealed.parts.length} parts`);
    for (const part of sealed.parts) {
      const vBytes = encodeBencode(part.v);
      assert.equal(vBytes.length, OFFLINE_PART_V_BYTES);
      assert.ok(vBytes.length <= 1000);
      assert.deepEqual(immutableTarget(vBytes), part.target);
    }
    const head = parseHead(sealed.headTarget, (sealed.parts[0] as { v: Buffer }).v);
    assert.ok(head.ok);
    assert.deepEqual(
      head.tailTargets,
      sealed.parts.slice(1).map((p) => p.target),
    );
    const opened = open(sealed);
    assert.ok(opened.ok);
    assert.deepEqual(opened.messages, batch);
  });

  test('tails in any order, with duplicates and strangers mixed in', () => {
    const sealed = sealOffline(toBob, prekey.publicKey, [message(3000)], random);
    const other = sealOffline(toBob, prekey.publicKey, [message(3000)], random);
    const tails = [...sealed.parts.slice(1), ...other.parts, sealed.parts[1]]
      .map((p) => p?.v as Buffer)
      .reverse();
    assert.ok(open(sealed, toBob, [prekey], tails).ok);
  });

  test('missing parts are named, so the caller knows what to fetch', () => {
    const sealed = sealOffline(toBob, prekey.publicKey, [message(3000)], random);
    const result = open(sealed, toBob, [prekey], [sealed.parts[2]?.v as Buffer]);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.code === 'CHAT_OFFLINE_MISSING_PART');
    assert.deepEqual(result.missing, [
      sealed.parts[1]?.target,
      ...sealed.parts.slice(3).map((p) => p.target),
    ]);
  });

  test('tampering: a changed head fails its hash, a changed tail is not the part listed', () => {
    const sealed = sealOffline(toBob, prekey.publicKey, [message(2000)], random);
    const head = (sealed.parts[0] as { v: Buffer }).v;
    const tails = sealed.parts.slice(1).map((p) => p.v);
    for (let i = 0; i < head.length; i += 7) {
      const bad = Buffer.from(head);
      bad[i] = (bad[i] ?? 0) ^ 0x10;
      const r = openOffline(toBob, [prekey], sealed.headTarget, bad, tails);
      assert.equal(r.ok, false);
      assert.ok(['CHAT_OFFLINE_HASH_MISMATCH', 'CHAT_OFFLINE_MALFORMED_PART'].includes(r.ok ? '' : r.code));
    }
    const badTail = Buffer.from(tails[0] as Buffer);
    badTail[100] = (badTail[100] ?? 0) ^ 1;
    const r = openOffline(toBob, [prekey], sealed.headTarget, head, [badTail, ...tails.slice(1)]);
    assert.ok(!r.ok && r.code === 'CHAT_OFFLINE_MISSING_PART');
  });

  test('a forger who rewrites parts with consistent hashes still fails the AEAD', () => {
    // Re-seal under another pair secret: structurally perfect parts, hashes that match their own head.
    const kCB = derivePairSecret(carol, bob.publicKey);
    assert.ok(kCB.ok);
    const forged = sealOffline({ ...toBob, pairSecret: kCB.secret }, prekey.publicKey, [message(20)], random);
    assert.deepEqual(open(forged), { ok: false, code: 'CHAT_OFFLINE_DECRYPT_FAILED' });
    // Or claims Carol as the sender with the right prekey: the AAD names the parties.
    const sealed = sealOffline(toBob, prekey.publicKey, [message(20)], random);
    assert.deepEqual(open(sealed, { ...toBob, senderPk: carol.publicKey }), {
      ok: false,
      code: 'CHAT_OFFLINE_DECRYPT_FAILED',
    });
  });

  test('prekeys: wrong one fails, an older one in the list opens and is named, the static key works too', () => {
    const sealedOld = sealOffline(toBob, oldPrekey.publicKey, [message(20)], random);
    assert.deepEqual(open(sealedOld), { ok: false, code: 'CHAT_OFFLINE_DECRYPT_FAILED' });
    const opened = open(sealedOld, toBob, [prekey, oldPrekey]);
    assert.ok(opened.ok);
    assert.deepEqual(opened.prekey, oldPrekey.publicKey);
    const toStatic = sealOffline(toBob, bob.x25519.publicKey, [message(20)], random);
    const viaStatic = open(toStatic, toBob, [prekey, bob.x25519]);
    assert.ok(viaStatic.ok);
    assert.deepEqual(viaStatic.prekey, bob.x25519.publicKey);
  });

  test('local limits throw with codes', () => {
    const isCode = (code: string) => (err: unknown) => err instanceof DhtchatError && err.code === code;
    assert.throws(() => sealOffline(toBob, prekey.publicKey, [], random), isCode('CHAT_OFFLINE_TOO_LARGE'));
    assert.throws(
      () => sealOffline(toBob, prekey.publicKey, [message(OFFLINE_MAX_PLAINTEXT_BYTES)], random),
      isCode('CHAT_OFFLINE_TOO_LARGE'),
    );
    assert.ok(sealOffline(toBob, prekey.publicKey, [message(OFFLINE_MAX_PLAINTEXT_BYTES - 40)], random));
    assert.throws(
      () => sealOffline(toBob, prekey.publicKey, [{ id: random.bytes(15), body: Buffer.alloc(1) }], random),
      isCode('CHAT_OFFLINE_TOO_LARGE'),
    );
    // u = 0 and u = 1 are low-order points: no usable DH.
    assert.throws(
      () => sealOffline(toBob, Buffer.alloc(32), [message(1)], random),
      isCode('CHAT_OFFLINE_BAD_PREKEY'),
    );
  });

  test('opening never throws on arbitrary heads and tails (property)', () => {
    const sealed = sealOffline(toBob, prekey.publicKey, [message(1500)], random);
    const head = (sealed.parts[0] as { v: Buffer }).v;
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 900 }), fc.constant(head)),
        fc.array(fc.uint8Array({ maxLength: 900 }), { maxLength: 3 }),
        fc.nat(head.length - 1),
        (h, tails, at) => {
          const mutated = Buffer.from(h);
          if (mutated.length > at) mutated[at] = (mutated[at] ?? 0) ^ 0xff;
          const r = openOffline(
            toBob,
            [prekey],
            sealed.headTarget,
            mutated,
            tails.map((t) => Buffer.from(t)),
          );
          assert.equal(r.ok, false);
          const r2 = openOffline(toBob, [prekey], immutableTarget(encodeBencode(mutated)), mutated, []);
          assert.equal(r2.ok, false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
