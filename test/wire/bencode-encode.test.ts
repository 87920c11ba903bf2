import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DhtchatError } from '../../src/runtime/index.ts';
import { type BValue, decodeBencode, encodeBencode } from '../../src/wire/index.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function throwsUnencodable(value: unknown): void {
  assert.throws(
    () => encodeBencode(value as BValue),
    (e: unknown) => e instanceof DhtchatError && e.code === 'WIRE_BENCODE_UNENCODABLE',
  );
}

describe('encodeBencode', () => {
  test('scalars, lists and dicts', () => {
    assert.equal(encodeBencode(0).toString(), 'i0e');
    assert.equal(encodeBencode(-7).toString(), 'i-7e');
    assert.equal(encodeBencode(Number.MAX_SAFE_INTEGER).toString(), 'i9007199254740991e');
    assert.equal(encodeBencode(b('spam')).toString(), '4:spam');
    assert.equal(encodeBencode(Buffer.alloc(0)).toString(), '0:');
    assert.equal(encodeBencode([b('a'), 1, [], {}]).toString(), 'l1:ai1eledee');
    assert.equal(encodeBencode({ y: b('q'), a: { id: b('x') } }).toString(), 'd1:ad2:id1:xe1:y1:qe');
  });

  test('sorts keys by raw bytes, including integer-like keys JS would order first', () => {
    assert.equal(encodeBencode({ b: 1, a: 2, '10': 3, '9': 4 }).toString(), 'd2:10i3e1:9i4e1:ai2e1:bi1ee');
    assert.equal(
      encodeBencode({ aa: 1, a: 2, '\xff': 3, B: 4 }).toString('latin1'),
      'd1:Bi4e1:ai2e2:aai1e1:\xffi3ee',
    );
  });

  test('writes latin1 keys as single bytes', () => {
    const out = encodeBencode({ '\xe9': 1 });
    assert.deepEqual(out, Buffer.concat([b('d1:'), Buffer.from([0xe9]), b('i1ee')]));
  });

  test('accepts plain Uint8Arrays and null-prototype dicts', () => {
    const d = Object.create(null) as Record<string, BValue>;
    d['k'] = new Uint8Array([1, 2]) as Buffer;
    assert.deepEqual(encodeBencode(d), Buffer.concat([b('d1:k2:'), Buffer.from([1, 2]), b('e')]));
  });

  test('large values grow the buffer and stay exact', () => {
    const big = Buffer.alloc(200_000, 7);
    const out = encodeBencode([big, big]);
    assert.equal(out.length, 2 * (7 + 200_000) + 2);
    const r = decodeBencode(out, { maxBytes: 1e6 });
    assert.ok(r.ok);
    assert.deepEqual(r.value, [big, big]);
    // A later small encode still works (scratch reset).
    assert.equal(encodeBencode(1).toString(), 'i1e');
  });

  test('the returned buffer is not shared with later calls', () => {
    const first = encodeBencode(b('first'));
    encodeBencode(b('second'));
    assert.equal(first.toString(), '5:first');
  });

  test('throws WIRE_BENCODE_UNENCODABLE on anything that is not a BValue', () => {
    throwsUnencodable(undefined);
    throwsUnencodable(null);
    throwsUnencodable('string');
    throwsUnencodable(true);
    throwsUnencodable(1n);
    throwsUnencodable(1.5);
    throwsUnencodable(Number.NaN);
    throwsUnencodable(Number.POSITIVE_INFINITY);
    throwsUnencodable(2 ** 53);
    throwsUnencodable(-(2 ** 53));
    throwsUnencodable({ a: undefined });
    throwsUnencodable([undefined]);
    throwsUnencodable(new Map());
    throwsUnencodable(new Date(0));
    throwsUnencodable({ '\u20ac': 1 });
    throwsUnencodable(() => 1);
    throwsUnencodable(Symbol('x'));
  });

  test('a cyclic value throws instead of overflowing the stack', () => {
    const cyclic: BValue[] = [];
    cyclic.push(cyclic);
    throwsUnencodable(cyclic);
    // And the encoder still works afterwards.
    assert.equal(encodeBencode([]).toString(), 'le');
  });

  test('a getter that re-enters the encoder does not corrupt the output', () => {
    const tricky = {
      get a(): BValue {
        return encodeBencode(b('inner'));
      },
    } as unknown as BValue;
    assert.equal(encodeBencode(tricky).toString(), 'd1:a7:5:innere');
  });
});
