import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type BDict, type BValue, decodeBencode, encodeBencode } from '../../src/wire/index.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function rejects(
  input: string | Buffer,
  code: string,
  offset?: number,
  limits?: Parameters<typeof decodeBencode>[1],
) {
  const r = decodeBencode(typeof input === 'string' ? b(input) : input, limits);
  const shown = JSON.stringify(String(input).slice(0, 40));
  assert.equal(r.ok, false, `expected ${code} for ${shown}`);
  if (r.ok) return;
  assert.equal(r.code, code, `for ${shown}`);
  if (offset !== undefined) assert.equal(r.offset, offset, `offset for ${shown}`);
}

function decodes(input: string): BValue {
  const r = decodeBencode(b(input));
  assert.ok(r.ok, `expected ${JSON.stringify(input)} to decode, got ${JSON.stringify(r)}`);
  return r.value;
}

describe('decodeBencode accepts canonical bencode', () => {
  test('integers', () => {
    assert.equal(decodes('i0e'), 0);
    assert.equal(decodes('i42e'), 42);
    assert.equal(decodes('i-42e'), -42);
    assert.equal(decodes('i9007199254740991e'), Number.MAX_SAFE_INTEGER);
    assert.equal(decodes('i-9007199254740991e'), -Number.MAX_SAFE_INTEGER);
  });

  test('byte strings decode to Buffers, including empty and binary ones', () => {
    assert.deepEqual(decodes('0:'), Buffer.alloc(0));
    assert.deepEqual(decodes('4:spam'), b('spam'));
    const binary = Buffer.from([0, 255, 0x65, 0x3a]);
    const r = decodeBencode(Buffer.concat([b('4:'), binary]));
    assert.ok(r.ok && Buffer.isBuffer(r.value));
    assert.deepEqual(r.value, binary);
  });

  test('lists and dicts, nested', () => {
    assert.deepEqual(decodes('le'), []);
    assert.deepEqual(decodes('l4:spami7ee'), [b('spam'), 7]);
    const d = decodes('d3:bar4:spam3:fooi42e1:xlleee') as BDict;
    assert.equal(Object.getPrototypeOf(d), null);
    assert.deepEqual(Object.keys(d), ['bar', 'foo', 'x']);
    assert.deepEqual(d['bar'], b('spam'));
    assert.equal(d['foo'], 42);
    assert.deepEqual(d['x'], [[]]);
  });

  test('keys sort by raw bytes: shorter prefix first, high bytes last', () => {
    const d = decodes('d1:a0:2:aa0:1:b0:1:\xff0:e') as BDict;
    assert.deepEqual(Object.keys(d), ['a', 'aa', 'b', '\xff']);
  });

  test('keys are latin1 strings, so any key bytes round-trip', () => {
    const input = Buffer.concat([b('d2:'), Buffer.from([0xc3, 0xa9]), b('i1ee')]);
    const r = decodeBencode(input);
    assert.ok(r.ok);
    assert.deepEqual(Object.keys(r.value as BDict), ['\xc3\xa9']);
    assert.deepEqual(encodeBencode(r.value), input);
  });

  test('byte strings are views of a private copy: mutating the input later does not change them', () => {
    const input = b('d1:k4:spame');
    const r = decodeBencode(input);
    input.fill(0x78);
    assert.ok(r.ok);
    assert.deepEqual((r.value as BDict)['k'], b('spam'));
  });

  test('accepts a plain Uint8Array', () => {
    const r = decodeBencode(new Uint8Array(b('l1:ae')));
    assert.ok(r.ok);
    assert.deepEqual(r.value, [b('a')]);
  });
});

describe('decodeBencode rejects malformed input with a code and offset', () => {
  test('truncation anywhere', () => {
    rejects('', 'WIRE_BENCODE_TRUNCATED', 0);
    rejects('i12', 'WIRE_BENCODE_TRUNCATED', 3);
    rejects('i', 'WIRE_BENCODE_TRUNCATED');
    rejects('4:spa', 'WIRE_BENCODE_TRUNCATED', 0);
    rejects('4', 'WIRE_BENCODE_TRUNCATED');
    rejects('l4:spam', 'WIRE_BENCODE_TRUNCATED', 7);
    rejects('d1:a', 'WIRE_BENCODE_TRUNCATED', 4);
    rejects('d1:ai1e', 'WIRE_BENCODE_TRUNCATED');
    const full = b('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe');
    for (let n = 0; n < full.length; n++) rejects(full.subarray(0, n), 'WIRE_BENCODE_TRUNCATED');
  });

  test('string lengths beyond the buffer, however large', () => {
    rejects('5:abcd', 'WIRE_BENCODE_TRUNCATED', 0);
    rejects('99999999999999999999:x', 'WIRE_BENCODE_TRUNCATED', 0);
    rejects('4294967296:x', 'WIRE_BENCODE_TRUNCATED', 0);
  });

  test('leading zeros in integers and string lengths', () => {
    rejects('i03e', 'WIRE_BENCODE_LEADING_ZERO', 0);
    rejects('i00e', 'WIRE_BENCODE_LEADING_ZERO', 0);
    rejects('i-03e', 'WIRE_BENCODE_LEADING_ZERO', 0);
    rejects('03:abc', 'WIRE_BENCODE_LEADING_ZERO', 0);
    rejects('00:', 'WIRE_BENCODE_LEADING_ZERO', 0);
    rejects('l01:ae', 'WIRE_BENCODE_LEADING_ZERO', 1);
  });

  test('negative zero, empty and malformed integers', () => {
    rejects('i-0e', 'WIRE_BENCODE_NEGATIVE_ZERO', 0);
    rejects('ie', 'WIRE_BENCODE_BAD_INTEGER', 0);
    rejects('i-e', 'WIRE_BENCODE_BAD_INTEGER', 0);
    rejects('i--1e', 'WIRE_BENCODE_BAD_INTEGER', 2);
    rejects('i+1e', 'WIRE_BENCODE_BAD_INTEGER', 1);
    rejects('i1.5e', 'WIRE_BENCODE_BAD_INTEGER', 2);
    rejects('i 1e', 'WIRE_BENCODE_BAD_INTEGER', 1);
    rejects('i1-e', 'WIRE_BENCODE_BAD_INTEGER', 2);
  });

  test('integers outside the JS safe range', () => {
    rejects('i9007199254740992e', 'WIRE_BENCODE_INTEGER_RANGE', 0);
    rejects('i-9007199254740992e', 'WIRE_BENCODE_INTEGER_RANGE', 0);
    rejects('i99999999999999999999999999999e', 'WIRE_BENCODE_INTEGER_RANGE', 0);
  });

  test('bad string lengths', () => {
    rejects('3x:abc', 'WIRE_BENCODE_BAD_LENGTH', 1);
    rejects('-1:a', 'WIRE_BENCODE_INVALID_TOKEN', 0);
  });

  test('invalid tokens', () => {
    rejects('x', 'WIRE_BENCODE_INVALID_TOKEN', 0);
    rejects('e', 'WIRE_BENCODE_INVALID_TOKEN', 0);
    rejects('d1:ae', 'WIRE_BENCODE_INVALID_TOKEN', 4);
    rejects('lxe', 'WIRE_BENCODE_INVALID_TOKEN', 1);
  });

  test('trailing bytes', () => {
    rejects('i1ei2e', 'WIRE_BENCODE_TRAILING_BYTES', 3);
    rejects('dee', 'WIRE_BENCODE_TRAILING_BYTES', 2);
    rejects('4:spam\n', 'WIRE_BENCODE_TRAILING_BYTES', 6);
    rejects('le\0', 'WIRE_BENCODE_TRAILING_BYTES', 2);
  });

  test('unsorted and duplicate keys, at any depth', () => {
    rejects('d1:b0:1:a0:e', 'WIRE_BENCODE_UNSORTED_KEYS', 6);
    rejects('d2:aa0:1:a0:e', 'WIRE_BENCODE_UNSORTED_KEYS', 7);
    rejects('d1:a0:1:a0:e', 'WIRE_BENCODE_DUPLICATE_KEY', 6);
    rejects('d1:xd1:b0:1:a0:ee', 'WIRE_BENCODE_UNSORTED_KEYS', 10);
    rejects('ld1:a0:1:a0:ee', 'WIRE_BENCODE_DUPLICATE_KEY', 7);
  });

  test('non-string keys', () => {
    rejects('di1e0:e', 'WIRE_BENCODE_NON_STRING_KEY', 1);
    rejects('dle0:e', 'WIRE_BENCODE_NON_STRING_KEY', 1);
    rejects('dde0:e', 'WIRE_BENCODE_NON_STRING_KEY', 1);
  });

  test('depth limit: default 32, configurable', () => {
    assert.ok(decodeBencode(b(`${'l'.repeat(32)}${'e'.repeat(32)}`)).ok);
    rejects(`${'l'.repeat(33)}${'e'.repeat(33)}`, 'WIRE_BENCODE_TOO_DEEP', 32);
    rejects('d1:ad1:ad1:aleeee', 'WIRE_BENCODE_TOO_DEEP', 12, { maxDepth: 3 });
    assert.ok(decodeBencode(b('d1:ad1:ad1:aleeee'), { maxDepth: 4 }).ok);
    // Deep nesting never overflows the stack, whatever limit the caller asks for.
    rejects('l'.repeat(100_000), 'WIRE_BENCODE_TOO_DEEP', 1024, {
      maxDepth: 1e9,
      maxBytes: 1e6,
      maxItems: 1e6,
    });
  });

  test('item limit counts every value, the top level included', () => {
    assert.ok(decodeBencode(b('li1ei2ee'), { maxItems: 3 }).ok);
    rejects('li1ei2ee', 'WIRE_BENCODE_TOO_MANY_ITEMS', 4, { maxItems: 2 });
    rejects(`l${'le'.repeat(5000)}e`, 'WIRE_BENCODE_TOO_MANY_ITEMS');
  });

  test('byte limit: checked before any parsing', () => {
    rejects(b(`${1000}:${'x'.repeat(1000)}`), 'WIRE_BENCODE_TOO_LARGE', 100, { maxBytes: 100 });
    assert.ok(decodeBencode(b('3:abc'), { maxBytes: 5 }).ok);
    rejects(Buffer.alloc(70_000, 0x30), 'WIRE_BENCODE_TOO_LARGE', 65_536);
  });

  test('a get_peers reply with 8 nodes and 100 peers fits the default limits', () => {
    const reply: BDict = Object.assign(Object.create(null), {
      ip: Buffer.alloc(6, 1),
      r: {
        id: Buffer.alloc(20, 2),
        nodes: Buffer.alloc(26 * 8, 3),
        token: Buffer.alloc(8, 4),
        values: Array.from({ length: 100 }, (_, i) => Buffer.alloc(6, i)),
      },
      t: b('aa'),
      y: b('r'),
    });
    const bytes = encodeBencode(reply);
    const r = decodeBencode(bytes);
    assert.ok(r.ok);
    assert.deepEqual(encodeBencode(r.value), bytes);
  });

  test('negative or NaN limits fall back to the defaults; Infinity lifts a limit', () => {
    assert.ok(decodeBencode(b('i1e'), { maxDepth: Number.NaN, maxItems: -1, maxBytes: -5 }).ok);
    rejects(`${'l'.repeat(33)}${'e'.repeat(33)}`, 'WIRE_BENCODE_TOO_DEEP', 32, { maxDepth: -1 });
    const big = Buffer.concat([b('100000:'), Buffer.alloc(100_000)]);
    rejects(big, 'WIRE_BENCODE_TOO_LARGE');
    assert.ok(decodeBencode(big, { maxBytes: Number.POSITIVE_INFINITY }).ok);
    assert.ok(decodeBencode(b(`l${'i1e'.repeat(5000)}e`), { maxItems: Number.POSITIVE_INFINITY }).ok);
  });

  test('non-Uint8Array input is rejected, not thrown', () => {
    const r = decodeBencode('i1e' as unknown as Uint8Array);
    assert.equal(r.ok, false);
  });
});

describe('decodeBencode: no prototype pollution', () => {
  test('__proto__, constructor and prototype are plain keys of a null-prototype object', () => {
    const input = b('d9:__proto__d8:pollutedi1ee11:constructori2e9:prototypei3ee');
    const r = decodeBencode(input);
    assert.ok(r.ok);
    const d = r.value as BDict;
    assert.equal(Object.getPrototypeOf(d), null);
    assert.deepEqual(Object.keys(d), ['__proto__', 'constructor', 'prototype'].sort());
    assert.equal(d['constructor'], 2);
    // An own data property, not the accessor: read it through its descriptor.
    const proto = Object.getOwnPropertyDescriptor(d, '__proto__')?.value as BDict;
    assert.equal(proto['polluted'], 1);
    assert.equal(Object.getPrototypeOf(proto), null);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
    assert.deepEqual(encodeBencode(d), input);
  });
});

describe('decodeBencode with isKeyOrderStrict: false', () => {
  const lenient = { isKeyOrderStrict: false } as const;

  test('accepts unsorted keys (the value then re-encodes sorted)', () => {
    const r = decodeBencode(b('d1:y1:q1:ai1ee'), lenient);
    assert.ok(r.ok);
    assert.deepEqual(Object.keys(r.value as BDict).sort(), ['a', 'y']);
    assert.equal(encodeBencode(r.value).toString(), 'd1:ai1e1:y1:qe');
  });

  test('still rejects duplicate keys, adjacent or not', () => {
    rejects('d1:a0:1:a0:e', 'WIRE_BENCODE_DUPLICATE_KEY', 6, lenient);
    rejects('d1:c0:1:b0:1:c0:e', 'WIRE_BENCODE_DUPLICATE_KEY', 11, lenient);
    rejects('d1:a0:1:c0:1:b0:1:a0:e', 'WIRE_BENCODE_DUPLICATE_KEY', 16, lenient);
    rejects('d1:b0:1:a0:1:b0:e', 'WIRE_BENCODE_DUPLICATE_KEY', 11, lenient);
  });

  test('every other rule still applies', () => {
    rejects('d1:bi03e1:a0:e', 'WIRE_BENCODE_LEADING_ZERO', 4, lenient);
    rejects('d1:b0:1:a0:ex', 'WIRE_BENCODE_TRAILING_BYTES', 12, lenient);
    rejects('di1e0:e', 'WIRE_BENCODE_NON_STRING_KEY', 1, lenient);
  });

  test('default and explicit true stay strict', () => {
    rejects('d1:b0:1:a0:e', 'WIRE_BENCODE_UNSORTED_KEYS', 6, { isKeyOrderStrict: true });
    rejects('d1:b0:1:a0:e', 'WIRE_BENCODE_UNSORTED_KEYS', 6, {});
  });
});
