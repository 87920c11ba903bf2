import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bep42Crc, isBep42Exempt, isNodeIdValidForHost, nodeIdForHost } from '../../src/dht/bep42.ts';
import { type Random, SeededRandom } from '../../src/runtime/index.ts';
import { readBepVectors } from '../helpers/vectors.ts';

const vectors = readBepVectors().bep42;

/** A Random whose bytes() hands out fixed bytes: nodeIdForHost starts from 20 random bytes. */
function fixedRandom(bytes: Buffer): Random {
  return { bytes: (n) => Buffer.from(bytes.subarray(0, n)), int: () => 0 };
}

describe('BEP 42 vectors (all six)', () => {
  assert.equal(vectors.cases.length, 6);
  for (const v of vectors.cases) {
    const id = Buffer.from(v.node_id, 'hex');
    test(`${v.ip} rand ${v.rand}`, () => {
      assert.equal(id[19], v.rand, 'vector id carries rand in its last byte');
      if (v.crc !== undefined) {
        const crc = bep42Crc(v.ip, v.rand & 7)!;
        // Only the first 21 bits are defined by the BEP; the vector's crc column holds the whole value.
        assert.equal(crc >>> 11, Number.parseInt(v.crc, 16) >>> 11);
      }
      assert.equal(isNodeIdValidForHost(id, v.ip), true);
      // Generation from the vector's own "random" bytes reproduces it: id[0], id[1], id[2]&0xf8 from the crc,
      // id[19] = rand, the rest is the random input.
      const generated = nodeIdForHost(v.ip, fixedRandom(id));
      assert.equal(generated[0], id[0]);
      assert.equal(generated[1], id[1]);
      assert.equal(generated[2]! & 0xf8, id[2]! & 0xf8);
      assert.equal(generated[19], id[19]);
      assert.deepEqual(generated, id);
    });
  }
});

test('a generated id is valid for its host and not for others', () => {
  const random = new SeededRandom('bep42');
  for (const host of ['1.2.3.4', '203.0.113.9', '2001:db8::7', '8.8.4.4']) {
    for (let i = 0; i < 20; i++) {
      const id = nodeIdForHost(host, random);
      assert.equal(isNodeIdValidForHost(id, host), true);
    }
  }
  const id = nodeIdForHost('1.2.3.4', random);
  // 5.6.7.8 masks to a different value; with 21 bits the chance of a coincidental match is 2^-21.
  assert.equal(isNodeIdValidForHost(id, '5.6.7.8'), false);
});

test('flipping any of the 21 checked bits or r breaks validity', () => {
  const v = vectors.cases[0]!;
  const id = Buffer.from(v.node_id, 'hex');
  for (let bit = 0; bit < 21; bit++) {
    const bad = Buffer.from(id);
    bad[bit >> 3] = bad[bit >> 3]! ^ (0x80 >> (bit & 7));
    assert.equal(isNodeIdValidForHost(bad, v.ip), false, `bit ${bit}`);
  }
  const badR = Buffer.from(id);
  badR[19] = badR[19]! ^ 0x01;
  assert.equal(isNodeIdValidForHost(badR, v.ip), false);
  // The low 3 bits of byte 2 and the high 5 bits of byte 19 are free.
  const free = Buffer.from(id);
  free[2] = free[2]! ^ 0x07;
  free[19] = free[19]! ^ 0xf8;
  assert.equal(isNodeIdValidForHost(free, v.ip), true);
});

test('bad inputs are invalid, never thrown', () => {
  assert.equal(isNodeIdValidForHost(Buffer.alloc(19), '1.2.3.4'), false);
  assert.equal(isNodeIdValidForHost(Buffer.alloc(20), 'nonsense'), false);
  assert.throws(() => nodeIdForHost('nonsense', new SeededRandom(1)), { code: 'DHT_INVALID_HOST' });
});

test('exempt ranges: the BEP 42 list, plus the IPv6 local classes', () => {
  for (const cidr of vectors.exempt_v4) {
    const base = cidr.split('/')[0]!;
    const parts = base.split('.').map(Number);
    parts[3] = 1;
    assert.equal(isBep42Exempt(parts.join('.')), true, cidr);
  }
  for (const host of ['::1', 'fe80::1', 'fd00::1']) assert.equal(isBep42Exempt(host), true, host);
  for (const host of ['8.8.8.8', '100.64.0.1', '2001:db8::1', '172.32.0.1', '224.0.0.1']) {
    assert.equal(isBep42Exempt(host), false, host);
  }
});
