import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  commonPrefixBits,
  compareDistance,
  idToHex,
  isNodeId,
  NODE_ID_BYTES,
  randomIdWithPrefix,
  shortId,
  xorDistance,
} from '../../src/dht/node-id.ts';
import { SeededRandom } from '../../src/runtime/index.ts';

const hex = (s: string) => Buffer.from(s.padEnd(40, '0'), 'hex');

describe('node-id', () => {
  test('xorDistance is byte-wise xor and symmetric', () => {
    const a = hex('ff00');
    const b = hex('0f0f');
    assert.equal(xorDistance(a, b).toString('hex'), 'f00f'.padEnd(40, '0'));
    assert.deepEqual(xorDistance(a, b), xorDistance(b, a));
    assert.equal(xorDistance(a, a).equals(Buffer.alloc(NODE_ID_BYTES)), true);
  });

  test('compareDistance orders by xor distance to target', () => {
    const target = hex('80');
    const near = hex('81');
    const far = hex('01');
    assert.ok(compareDistance(target, near, far) < 0);
    assert.ok(compareDistance(target, far, near) > 0);
    assert.equal(compareDistance(target, near, Buffer.from(near)), 0);
  });

  test('compareDistance agrees with comparing xorDistance buffers (random ids)', () => {
    const r = new SeededRandom('cmp');
    for (let i = 0; i < 500; i++) {
      const t = r.bytes(20);
      const a = r.bytes(20);
      const b = r.bytes(20);
      const expected = Buffer.compare(xorDistance(t, a), xorDistance(t, b));
      assert.equal(Math.sign(compareDistance(t, a, b)), expected, `seed cmp iteration ${i}`);
    }
  });

  test('commonPrefixBits', () => {
    assert.equal(commonPrefixBits(hex('00'), hex('80')), 0);
    assert.equal(commonPrefixBits(hex('00'), hex('01')), 7);
    assert.equal(commonPrefixBits(hex('ff00'), hex('ff80')), 8);
    assert.equal(commonPrefixBits(hex('ab'), hex('ab')), 160);
  });

  test('randomIdWithPrefix keeps the prefix bits and randomises the rest', () => {
    const r = new SeededRandom('prefix');
    const prefix = Buffer.alloc(20, 0xff);
    for (const bits of [0, 1, 7, 8, 13, 159, 160]) {
      const id = randomIdWithPrefix(prefix, bits, r);
      assert.equal(id.length, 20);
      assert.ok(commonPrefixBits(id, prefix) >= bits, `bits ${bits}`);
    }
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(idToHex(randomIdWithPrefix(prefix, 12, r)));
    assert.ok(seen.size > 15);
  });

  test('hex forms and isNodeId', () => {
    const id = hex('0123456789');
    assert.equal(idToHex(id).length, 40);
    assert.equal(shortId(id), '01234567');
    assert.equal(isNodeId(id), true);
    assert.equal(isNodeId(Buffer.alloc(19)), false);
    assert.equal(isNodeId('x'.repeat(20)), false);
  });
});
