import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { keyString, type Latin1Sliceable } from '../../src/wire/bencode-keys.ts';

const asKey = (bytes: Uint8Array): string => {
  const padded = Buffer.concat([Buffer.from('xx'), bytes, Buffer.from('yy')]) as Latin1Sliceable;
  return keyString(padded, 2, 2 + bytes.length);
};

test('known keys and their near misses give exactly the latin1 string of the bytes', () => {
  for (const k of [
    'id',
    'ie',
    'i',
    'nodes',
    'nodes6',
    'nodes7',
    'node',
    'nodesx',
    'implied_port',
    'implied_porT',
    '',
  ]) {
    assert.equal(asKey(Buffer.from(k, 'latin1')), k);
  }
  assert.equal(asKey(Buffer.from([0xff, 0x00])), '\xff\x00');
});

test('property: keyString equals a latin1 slice for any bytes', () => {
  const known = fc.constantFrom('id', 'token', 'values', 'nodes6', 'info_hash', 'implied_port', 'BFsd');
  const edited = fc.tuple(known, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([k, at, byte]) => {
    const b = Buffer.from(k, 'latin1');
    b[at % b.length] = byte;
    return b;
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 20 }), edited), (bytes) => {
      assert.equal(asKey(bytes), Buffer.from(bytes).toString('latin1'));
    }),
    { numRuns: 5000 },
  );
});
