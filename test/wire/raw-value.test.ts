import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { decodeBencode, encodeBencode, rawValueAt } from '../../src/wire/index.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('rawValueAt', () => {
  const put = b(
    'd1:ad2:id20:abcdefghij01234567891:k3:key5:token2:tt1:vd1:xli1ei2ee1:y3:abcee1:q3:put1:t2:aa1:y1:qe',
  );

  test('returns the exact byte span of a nested value', () => {
    assert.equal(rawValueAt(put, ['a', 'v'])?.toString(), 'd1:xli1ei2ee1:y3:abce');
    assert.equal(rawValueAt(put, ['a', 'token'])?.toString(), '2:tt');
    assert.equal(rawValueAt(put, ['a', 'v', 'x'])?.toString(), 'li1ei2ee');
    assert.equal(rawValueAt(put, ['y'])?.toString(), '1:q');
    assert.deepEqual(rawValueAt(put, []), put);
  });

  test('the span equals the canonical re-encoding of the decoded value', () => {
    const r = decodeBencode(put);
    assert.ok(r.ok);
    const v = rawValueAt(put, ['a', 'v']);
    assert.ok(v);
    const decoded = ((r.value as Record<string, unknown>)['a'] as Record<string, unknown>)['v'];
    assert.deepEqual(encodeBencode(decoded as Buffer), v);
  });

  test('BEP 44 immutable example: sha1 of the raw v "12:Hello World!"', () => {
    const msg = b('d1:ad2:id20:abcdefghij01234567895:token2:tt1:v12:Hello World!e1:q3:put1:t2:aa1:y1:qe');
    const v = rawValueAt(msg, ['a', 'v']);
    assert.equal(v?.toString(), '12:Hello World!');
    assert.equal(createHash('sha1').update(v!).digest('hex'), 'e5f96f6f38320f0f33959cb4d3d656452117aadb');
  });

  test('a key whose name appears inside a value is not matched there', () => {
    const tricky = b('d1:a1:v1:vi5ee');
    assert.equal(rawValueAt(tricky, ['v'])?.toString(), 'i5e');
  });

  test('returns a copy', () => {
    const input = b('d1:v3:abce');
    const v = rawValueAt(input, ['v']);
    input.fill(0);
    assert.equal(v?.toString(), '3:abc');
  });

  test('undefined for missing keys, non-dict steps and invalid input', () => {
    assert.equal(rawValueAt(put, ['a', 'missing']), undefined);
    assert.equal(rawValueAt(put, ['y', 'x']), undefined);
    assert.equal(rawValueAt(put, ['a', 'v', 'x', 'deeper']), undefined);
    assert.equal(rawValueAt(b('d1:v3:abc'), ['v']), undefined);
    assert.equal(rawValueAt(b('d1:vi1e1:ai1ee'), ['v']), undefined);
    assert.equal(rawValueAt(b('d1:vi1eeXX'), ['v']), undefined);
    assert.equal(rawValueAt(b('l1:ve'), ['v']), undefined);
    assert.equal(rawValueAt(Buffer.alloc(0), []), undefined);
  });

  test('with isKeyOrderStrict: false it finds keys in unsorted dicts (the span itself is what was sent)', () => {
    const unsorted = b('d1:y1:q1:ad1:vd1:b0:1:a0:eee');
    assert.equal(rawValueAt(unsorted, ['a', 'v']), undefined);
    assert.equal(rawValueAt(unsorted, ['a', 'v'], { isKeyOrderStrict: false })?.toString(), 'd1:b0:1:a0:e');
  });

  test('honours decode limits', () => {
    assert.equal(rawValueAt(b('d1:vllleeee'), ['v'], { maxDepth: 2 }), undefined);
    assert.equal(rawValueAt(b('d1:vllleeee'), ['v'], { maxDepth: 4 })?.toString(), 'llleee');
  });
});
