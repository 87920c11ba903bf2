import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  immutableTarget,
  mutableTarget,
  signableBuffer,
  verifyMutableSignature,
} from '../../src/dht/bep44.ts';
import { readBepVectors } from '../helpers/vectors.ts';

const vectors = readBepVectors().bep44;
const k = Buffer.from(vectors.public_key, 'hex');
const ascii = (s: string) => Buffer.from(s, 'latin1');

describe('BEP 44 mutable vectors', () => {
  for (const v of vectors.mutable) {
    const salt = v.salt_ascii === '' ? undefined : ascii(v.salt_ascii);
    const vBytes = ascii(v.v_bencoded_ascii);
    const sig = Buffer.from(v.sig, 'hex');
    test(`salt ${JSON.stringify(v.salt_ascii)}: target, signable buffer, signature`, () => {
      assert.equal(mutableTarget(k, salt).toString('hex'), v.target);
      assert.equal(signableBuffer({ salt, seq: v.seq, vBytes }).toString('latin1'), v.signed_buffer_ascii);
      assert.equal(verifyMutableSignature({ k, salt, seq: v.seq, vBytes, sig }), true);
    });
    test(`salt ${JSON.stringify(v.salt_ascii)}: any changed field fails verification`, () => {
      const flipped = Buffer.from(sig);
      flipped[0] = flipped[0]! ^ 1;
      assert.equal(verifyMutableSignature({ k, salt, seq: v.seq, vBytes, sig: flipped }), false);
      assert.equal(verifyMutableSignature({ k, salt, seq: v.seq + 1, vBytes, sig }), false);
      assert.equal(verifyMutableSignature({ k, salt: ascii('other'), seq: v.seq, vBytes, sig }), false);
      assert.equal(
        verifyMutableSignature({ k, salt, seq: v.seq, vBytes: ascii('12:Hello World?'), sig }),
        false,
      );
      assert.equal(verifyMutableSignature({ k: Buffer.alloc(32, 9), salt, seq: v.seq, vBytes, sig }), false);
      assert.equal(verifyMutableSignature({ k: k.subarray(1), salt, seq: v.seq, vBytes, sig }), false);
      assert.equal(verifyMutableSignature({ k, salt, seq: Number.NaN, vBytes, sig }), false);
    });
  }
});

test('BEP 44 immutable vector target', () => {
  for (const v of vectors.immutable) {
    assert.equal(immutableTarget(ascii(v.v_bencoded_ascii)).toString('hex'), v.target);
  }
});

test('an empty salt is the same as no salt (target and signable buffer)', () => {
  assert.deepEqual(mutableTarget(k, Buffer.alloc(0)), mutableTarget(k));
  const vBytes = ascii('1:x');
  assert.deepEqual(
    signableBuffer({ salt: Buffer.alloc(0), seq: 4, vBytes }),
    signableBuffer({ seq: 4, vBytes }),
  );
  assert.equal(
    signableBuffer({ seq: 4, vBytes: ascii('12:Hello world!') }).toString(),
    '3:seqi4e1:v12:Hello world!',
  );
  assert.equal(
    signableBuffer({ salt: ascii('foobar'), seq: 4, vBytes: ascii('12:Hello world!') }).toString(),
    '4:salt6:foobar3:seqi4e1:v12:Hello world!',
  );
});
