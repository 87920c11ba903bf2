import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ed25519FromSeed, ed25519Sign, ed25519Verify } from '../../src/crypto/index.ts';
import { readBepVectors } from '../helpers/vectors.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

const bep = readBepVectors();

// RFC 8032 §7.1, tests 1 and 2.
const RFC8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

describe('ed25519', () => {
  for (const [i, v] of RFC8032.entries()) {
    test(`RFC 8032 test ${i + 1}: public key and signature byte for byte`, () => {
      const kp = ed25519FromSeed(hex(v.seed));
      assert.equal(kp.publicKey.toString('hex'), v.pk);
      assert.equal(kp.seed.toString('hex'), v.seed);
      const sig = ed25519Sign(kp, hex(v.msg));
      assert.equal(sig.toString('hex'), v.sig);
      assert.equal(ed25519Verify(hex(v.pk), hex(v.msg), sig), true);
    });
  }

  for (const [i, v] of bep.bep44.mutable.entries()) {
    test(`BEP 44 mutable vector ${i}: signature verifies; any flipped bit fails`, () => {
      const pk = hex(bep.bep44.public_key);
      const msg = Buffer.from(v.signed_buffer_ascii, 'latin1');
      const sig = hex(v.sig);
      assert.equal(ed25519Verify(pk, msg, sig), true);
      for (const [what, buf] of [
        ['msg', msg],
        ['sig', sig],
        ['pk', pk],
      ] as const) {
        const bad = Buffer.from(buf);
        bad[bad.length >> 1] = (bad[bad.length >> 1] ?? 0) ^ 1;
        const args = { msg, sig, pk, [what]: bad };
        assert.equal(ed25519Verify(args.pk, args.msg, args.sig), false, what);
      }
    });
  }

  test('verify returns false, never throws, on wrong lengths and non-points', () => {
    const kp = ed25519FromSeed(Buffer.alloc(32, 7));
    const sig = ed25519Sign(kp, Buffer.from('hi'));
    assert.equal(ed25519Verify(kp.publicKey.subarray(0, 31), Buffer.from('hi'), sig), false);
    assert.equal(ed25519Verify(kp.publicKey, Buffer.from('hi'), sig.subarray(0, 63)), false);
    assert.equal(ed25519Verify(Buffer.alloc(0), Buffer.from('hi'), Buffer.alloc(0)), false);
    assert.equal(
      ed25519Verify(Buffer.concat([kp.publicKey, Buffer.alloc(1)]), Buffer.from('hi'), sig),
      false,
    );
    // y = 2 is not on the curve: the import or the verification rejects it, either way false.
    const notAPoint = Buffer.alloc(32);
    notAPoint[0] = 2;
    assert.equal(ed25519Verify(notAPoint, Buffer.from('hi'), sig), false);
    for (let i = 0; i < 300; i++) {
      // more distinct keys than the cache holds: eviction path
      const pk = Buffer.alloc(32, i & 0xff);
      pk[1] = i >> 8;
      assert.equal(ed25519Verify(pk, Buffer.from('hi'), sig), false);
    }
    assert.equal(ed25519Verify(kp.publicKey, Buffer.from('hi'), sig), true);
  });

  test('fromSeed rejects a seed that is not 32 bytes with a stable code', () => {
    assert.throws(() => ed25519FromSeed(Buffer.alloc(31)), { code: 'CRYPTO_BAD_KEY_LENGTH' });
    assert.throws(() => ed25519FromSeed(Buffer.alloc(64)), { code: 'CRYPTO_BAD_KEY_LENGTH' });
  });
});
