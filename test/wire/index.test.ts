import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as wire from '../../src/wire/index.ts';

test('the wire layer exports the contract API (DHT-CONTRACT.md)', () => {
  const functions = {
    decodeBencode: 2,
    encodeBencode: 1,
    rawValueAt: 3,
    encodeCompactAddress: 1,
    decodeCompactAddress: 1,
    encodeCompactNodes: 2,
    decodeCompactNodes: 2,
    crc32c: 1,
  } as const;
  for (const [name, arity] of Object.entries(functions)) {
    const fn = (wire as Record<string, unknown>)[name];
    assert.equal(typeof fn, 'function', name);
    assert.equal((fn as (...args: unknown[]) => unknown).length, arity, `${name} arity`);
  }
  assert.deepEqual(wire.DEFAULT_DECODE_LIMITS, { maxDepth: 32, maxItems: 4096, maxBytes: 65_536 });
});

test('decode limits are plain optional fields, as in the contract', () => {
  const r = wire.decodeBencode(Buffer.from('i1e'), { maxDepth: 1 });
  assert.deepEqual(r, { ok: true, value: 1 });
  const bad = wire.decodeBencode(Buffer.from('i1'));
  assert.deepEqual(bad, { ok: false, code: 'WIRE_BENCODE_TRUNCATED', offset: 2 });
});
