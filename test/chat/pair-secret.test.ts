import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { derivePairSecret, generateIdentity, type Identity, punchNoteKey } from '../../src/chat/index.ts';
import { SeededRandom } from '../../src/runtime/index.ts';

const random = new SeededRandom('pair-secret-tests');

function secret(me: Identity, friendPk: Buffer): Buffer {
  const result = derivePairSecret(me, friendPk);
  assert.ok(result.ok, `derivePairSecret failed: ${result.ok ? '' : result.code}`);
  return result.secret;
}

describe('pair secret', () => {
  test('symmetric: A’s K equals B’s K, for 50 pairs', () => {
    for (let i = 0; i < 50; i++) {
      const a = generateIdentity(random);
      const b = generateIdentity(random);
      const k = secret(a, b.publicKey);
      assert.equal(k.length, 32);
      assert.deepEqual(secret(b, a.publicKey), k);
    }
  });

  test('distinct per pair, and never the raw DH output', () => {
    const people = Array.from({ length: 6 }, () => generateIdentity(random));
    const seen = new Set<string>();
    for (const [i, a] of people.entries()) {
      for (const b of people.slice(i + 1)) {
        const k = secret(a, b.publicKey).toString('hex');
        assert.ok(!seen.has(k));
        seen.add(k);
      }
    }
    assert.equal(seen.size, 15);
  });

  test('a key with the sign bit flipped (same X25519 key) gives a different K', () => {
    const a = generateIdentity(random);
    const b = generateIdentity(random);
    const twin = Buffer.from(b.publicKey);
    twin[31] = (twin[31] ?? 0) ^ 0x80;
    const withTwin = derivePairSecret(a, twin);
    if (withTwin.ok) assert.notDeepEqual(withTwin.secret, secret(a, b.publicKey));
  });

  test('bad friend keys are values, not throws', () => {
    const a = generateIdentity(random);
    assert.deepEqual(derivePairSecret(a, Buffer.alloc(31)), { ok: false, code: 'CHAT_PAIR_BAD_KEY' });
    assert.deepEqual(derivePairSecret(a, a.publicKey), { ok: false, code: 'CHAT_PAIR_SELF' });
    // y = 0 maps to u = 1, a low-order point: the DH result is zero and refused.
    assert.deepEqual(derivePairSecret(a, Buffer.alloc(32)), { ok: false, code: 'CHAT_PAIR_BAD_KEY' });
    // y = 1 is the identity: no Montgomery u.
    const identityPoint = Buffer.alloc(32);
    identityPoint[0] = 1;
    assert.deepEqual(derivePairSecret(a, identityPoint), { ok: false, code: 'CHAT_PAIR_BAD_KEY' });
    for (let i = 0; i < 200; i++) assert.equal(typeof derivePairSecret(a, random.bytes(32)).ok, 'boolean');
  });

  test('punch-note keys differ per direction and per pair', () => {
    const a = generateIdentity(random);
    const b = generateIdentity(random);
    const k = secret(a, b.publicKey);
    assert.notDeepEqual(punchNoteKey(k, a.publicKey), punchNoteKey(k, b.publicKey));
    assert.deepEqual(punchNoteKey(k, a.publicKey), punchNoteKey(secret(b, a.publicKey), a.publicKey));
    assert.notDeepEqual(punchNoteKey(k, a.publicKey), k);
  });
});
