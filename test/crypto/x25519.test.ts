import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ed25519FromSeed,
  ed25519PublicToX25519,
  ed25519SeedToX25519,
  x25519Dh,
  x25519FromPrivate,
  x25519Generate,
} from '../../src/crypto/index.ts';
import { SeededRandom } from '../../src/runtime/index.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

describe('x25519', () => {
  test('RFC 7748 §6.1: public keys and shared secret', () => {
    const alice = x25519FromPrivate(hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
    const bob = x25519FromPrivate(hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'));
    assert.equal(
      alice.publicKey.toString('hex'),
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    );
    assert.equal(
      bob.publicKey.toString('hex'),
      'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
    );
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    assert.equal(x25519Dh(alice, bob.publicKey)?.toString('hex'), shared);
    assert.equal(x25519Dh(bob, alice.publicKey)?.toString('hex'), shared);
  });

  test('DH with a low-order point or a wrong length is undefined, not a throw', () => {
    const kp = x25519Generate(new SeededRandom('low-order'));
    assert.equal(x25519Dh(kp, Buffer.alloc(32)), undefined); // u = 0: all-zero shared secret
    const one = Buffer.alloc(32);
    one[0] = 1; // u = 1: order 1... also all-zero output
    assert.equal(x25519Dh(kp, one), undefined);
    assert.equal(x25519Dh(kp, Buffer.alloc(31, 9)), undefined);
    assert.equal(x25519Dh(kp, Buffer.alloc(33, 9)), undefined);
  });

  test('wrong private key length throws CRYPTO_BAD_KEY_LENGTH', () => {
    assert.throws(() => x25519FromPrivate(Buffer.alloc(31)), { code: 'CRYPTO_BAD_KEY_LENGTH' });
    assert.throws(() => ed25519SeedToX25519(Buffer.alloc(33)), { code: 'CRYPTO_BAD_KEY_LENGTH' });
  });
});

describe('Ed25519 → X25519', () => {
  test('the converted seed and the converted public key form one key pair (100 random identities)', () => {
    const random = new SeededRandom('ed-to-x');
    for (let i = 0; i < 100; i++) {
      const ed = ed25519FromSeed(random.bytes(32));
      const x = x25519FromPrivate(ed25519SeedToX25519(ed.seed));
      assert.deepEqual(ed25519PublicToX25519(ed.publicKey), x.publicKey, `seed ${ed.seed.toString('hex')}`);
    }
  });

  test('two converted identities agree on a DH secret', () => {
    const a = ed25519FromSeed(Buffer.alloc(32, 1));
    const b = ed25519FromSeed(Buffer.alloc(32, 2));
    const ax = x25519FromPrivate(ed25519SeedToX25519(a.seed));
    const bx = x25519FromPrivate(ed25519SeedToX25519(b.seed));
    const bPublic = ed25519PublicToX25519(b.publicKey);
    const aPublic = ed25519PublicToX25519(a.publicKey);
    assert.ok(bPublic !== undefined && aPublic !== undefined);
    assert.deepEqual(x25519Dh(ax, bPublic), x25519Dh(bx, aPublic));
  });

  test('the scalar is clamped; the RFC 8032 test 1 identity maps consistently', () => {
    const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const scalar = ed25519SeedToX25519(seed);
    assert.equal((scalar[0] ?? 0) & 7, 0);
    assert.equal((scalar[31] ?? 0) & 0xc0, 0x40);
    const pk = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    assert.deepEqual(ed25519PublicToX25519(pk), x25519FromPrivate(scalar).publicKey);
  });

  test('the sign bit of x does not change u; y = 1 and wrong lengths give undefined', () => {
    const ed = ed25519FromSeed(Buffer.alloc(32, 3));
    const flipped = Buffer.from(ed.publicKey);
    flipped[31] = (flipped[31] ?? 0) ^ 0x80;
    assert.deepEqual(ed25519PublicToX25519(flipped), ed25519PublicToX25519(ed.publicKey));
    const identity = Buffer.alloc(32);
    identity[0] = 1;
    assert.equal(ed25519PublicToX25519(identity), undefined);
    assert.equal(ed25519PublicToX25519(Buffer.alloc(31)), undefined);
  });
});
