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

  test('decryptWithAdParts: the plaintext of a ciphertext cut anywhere (the tag too), and nothing if forged', () => {
    const key = Buffer.alloc(32, 3);
    const plaintext = Buffer.from('a frame spread over several datagrams');
    const sender = new CipherState(key);
    const receiver = new CipherState(key);
    for (let message = 0; message < 4; message++) {
      const ciphertext = sender.encryptWithAd(AD, plaintext);
      // Cuts inside the body, at the tag's start, inside the tag, and an empty part.
      const cuts =
        [[5], [plaintext.length], [plaintext.length + 7], [3, 3, ciphertext.length - 2]][message] ?? [];
      const parts: Buffer[] = [];
      let from = 0;
      for (const cut of [...cuts, ciphertext.length]) {
        parts.push(ciphertext.subarray(from, cut));
        from = cut;
      }
      const forged = parts.map((part) => Buffer.from(part));
      const lastPart = forged[forged.length - 1] as Buffer;
      lastPart[lastPart.length - 1] = (lastPart[lastPart.length - 1] ?? 0) ^ 1;
      assert.equal(receiver.decryptWithAdParts(AD, forged), undefined, `forged tag, cuts ${cuts}`);
      assert.equal(receiver.nonce, message, 'a failure does not advance');
      const out = receiver.decryptWithAdParts(AD, parts);
      assert.ok(out !== undefined, `cuts ${cuts}`);
      assert.ok(
        out.every((part) => part.length > 0),
        'no empty parts',
      );
      assert.deepEqual(Buffer.concat(out), plaintext);
    }
    assert.equal(receiver.decryptWithAdParts(AD, [Buffer.alloc(8), Buffer.alloc(7)]), undefined, 'short');
  });

  test('wipe() leaves no key', () => {
    const a = new CipherState(Buffer.alloc(32, 1));
    a.wipe();
    assert.equal(a.hasKey(), false);
  });
});
