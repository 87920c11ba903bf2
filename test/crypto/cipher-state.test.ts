import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CipherState, chachaPolyEncrypt, chachaPolyNonce } from '../../src/crypto/index.ts';

const AD = Buffer.from('ad');

describe('CipherState', () => {
  test('without a key it passes plaintext through', () => {
    const cs = new CipherState();
    assert.equal(cs.hasKey(), false);
    assert.deepEqual(cs.encryptWithAd(AD, Buffer.from('x')), Buffer.from('x'));
    assert.deepEqual(cs.decryptWithAd(AD, Buffer.from('x')), Buffer.from('x'));
  });

  test('nonces count up in lockstep; a failed decryption does not advance', () => {
    const key = Buffer.alloc(32, 5);
    const a = new CipherState(key);
    const b = new CipherState(key);
    const c0 = a.encryptWithAd(AD, Buffer.from('zero'));
    const c1 = a.encryptWithAd(AD, Buffer.from('one'));
    assert.equal(a.nonce, 2);
    assert.equal(b.decryptWithAd(AD, c1), undefined, 'out of order');
    assert.equal(b.nonce, 0);
    assert.deepEqual(b.decryptWithAd(AD, c0), Buffer.from('zero'));
    assert.equal(b.decryptWithAd(AD, c0), undefined, 'replay');
    assert.equal(b.decryptWithAd(Buffer.from('other'), c1), undefined, 'wrong ad');
    assert.deepEqual(b.decryptWithAd(AD, c1), Buffer.from('one'));
    assert.equal(b.decryptWithAd(AD, Buffer.alloc(15)), undefined, 'shorter than a tag');
  });

  test('Rekey is ENCRYPT(k, 2^64 − 1, "", zeros)[0..32] and keeps the nonce', () => {
    const key = Buffer.alloc(32, 9);
    const expectedKey = chachaPolyEncrypt(
      key,
      chachaPolyNonce(2n ** 64n - 1n),
      Buffer.alloc(0),
      Buffer.alloc(32),
    );
    const a = new CipherState(key);
    a.encryptWithAd(AD, Buffer.from('before'));
    a.rekey();
    assert.equal(a.nonce, 1);
    const reference = new CipherState(expectedKey.subarray(0, 32));
    reference.setNonce(1);
    assert.deepEqual(
      a.encryptWithAd(AD, Buffer.from('after')),
      reference.encryptWithAd(AD, Buffer.from('after')),
    );
  });

  test('one side rekeyed, the other not: decryption fails', () => {
    const a = new CipherState(Buffer.alloc(32, 1));
    const b = new CipherState(Buffer.alloc(32, 1));
    a.rekey();
    assert.equal(b.decryptWithAd(AD, a.encryptWithAd(AD, Buffer.from('x'))), undefined);
    b.rekey();
    assert.deepEqual(
      b.decryptWithAd(AD, a.encryptWithAd(AD, Buffer.from('y'))),
      undefined,
      'b is one nonce behind',
    );
  });

  test('an exhausted nonce refuses to encrypt (throws) and to decrypt (undefined)', () => {
    const a = new CipherState(Buffer.alloc(32, 1));
    a.setNonce(Number.MAX_SAFE_INTEGER + 1);
    assert.throws(() => a.encryptWithAd(AD, Buffer.from('x')), { code: 'NOISE_NONCE_EXHAUSTED' });
    assert.equal(a.decryptWithAd(AD, Buffer.alloc(32)), undefined);
  });

  test('wipe() leaves no key', () => {
    const a = new CipherState(Buffer.alloc(32, 1));
    a.wipe();
    assert.equal(a.hasKey(), false);
  });
});
