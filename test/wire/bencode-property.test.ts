import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type BDict, type BValue, decodeBencode, encodeBencode } from '../../src/wire/index.ts';

const latin1Key = fc.uint8Array({ maxLength: 6 }).map((a) => Buffer.from(a).toString('latin1'));
const byteString = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
const safeInt = fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -1000, max: 1000 }));

const { value: bvalue } = fc.letrec<{ value: BValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    byteString,
    safeInt,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.array(fc.tuple(latin1Key, tie('value')), { maxLength: 5 }).map((entries) => {
      const d: BDict = Object.create(null);
      for (const [k, v] of entries) d[k] = v;
      return d;
    }),
  ),
}));

function assertWellFormed(r: ReturnType<typeof decodeBencode>, length: number): void {
  if (r.ok) return;
  assert.match(r.code, /^WIRE_BENCODE_[A-Z_]+$/);
  assert.ok(Number.isInteger(r.offset) && r.offset >= 0 && r.offset <= length, `offset ${r.offset}`);
}

describe('bencode properties', () => {
  test('decode(encode(v)) deep-equals v, and encode(decode(bytes)) reproduces the bytes', () => {
    fc.assert(
      fc.property(bvalue, (v) => {
        const bytes = encodeBencode(v);
        const r = decodeBencode(bytes, { maxItems: 1e6 });
        assert.ok(r.ok, JSON.stringify(r));
        assert.deepEqual(r.value, v);
        assert.deepEqual(encodeBencode(r.value), bytes);
      }),
      { numRuns: 3000 },
    );
  });

  test('decoding random bytes never throws; anything accepted is canonical', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (a) => {
        const r = decodeBencode(a);
        assertWellFormed(r, a.length);
        if (r.ok) assert.deepEqual(encodeBencode(r.value), Buffer.from(a));
      }),
      { numRuns: 5000 },
    );
  });

  test('decoding bencode-alphabet noise never throws; anything accepted is canonical', () => {
    const alphabet = fc.constantFrom(...'ilde:-0123456789xa'.split('').map((c) => c.charCodeAt(0)));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), (codes) => {
        const a = Buffer.from(codes);
        const r = decodeBencode(a);
        assertWellFormed(r, a.length);
        if (r.ok) assert.deepEqual(encodeBencode(r.value), a);
      }),
      { numRuns: 5000 },
    );
  });

  test('one-byte edits of valid encodings never throw; anything accepted is canonical', () => {
    fc.assert(
      fc.property(bvalue, fc.nat(), fc.integer({ min: 0, max: 255 }), (v, at, byte) => {
        const bytes = Buffer.from(encodeBencode(v));
        bytes[at % bytes.length] = byte;
        const r = decodeBencode(bytes);
        assertWellFormed(r, bytes.length);
        if (r.ok) assert.deepEqual(encodeBencode(r.value), bytes);
      }),
      { numRuns: 3000 },
    );
  });

  test('every proper prefix of a valid encoding is rejected as truncated', () => {
    fc.assert(
      fc.property(bvalue, fc.nat(), (v, cut) => {
        const bytes = encodeBencode(v);
        const prefix = bytes.subarray(0, cut % bytes.length);
        const r = decodeBencode(prefix);
        assert.equal(r.ok, false);
        if (!r.ok) assert.equal(r.code, 'WIRE_BENCODE_TRUNCATED');
      }),
      { numRuns: 2000 },
    );
  });

  test('lenient key order never throws, agrees with strict where strict accepts, and re-encodes to strict form', () => {
    const alphabet = fc.constantFrom(...'ilde:0123456789ab'.split('').map((c) => c.charCodeAt(0)));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), (codes) => {
        const a = Buffer.from(codes);
        const strict = decodeBencode(a);
        const lenient = decodeBencode(a, { isKeyOrderStrict: false });
        assertWellFormed(lenient, a.length);
        if (strict.ok) assert.deepEqual(lenient, strict);
        if (lenient.ok) {
          const again = decodeBencode(encodeBencode(lenient.value));
          assert.ok(again.ok);
          assert.deepEqual(again.value, lenient.value);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
