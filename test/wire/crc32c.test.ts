import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c } from '../../src/wire/index.ts';
import { readBepVectors } from '../helpers/vectors.ts';

const vectors = readBepVectors();

test('crc32c matches the check value of test/vectors ("123456789")', () => {
  const { input_ascii: input, crc } = vectors.crc32c;
  assert.equal(crc32c(Buffer.from(input, 'ascii')), Number.parseInt(crc, 16));
});

test('crc32c known values (RFC 3720 B.4 iSCSI vectors) and unsigned results', () => {
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  const ascending = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  assert.equal(crc32c(ascending), 0x46dd794e);
  assert.ok(crc32c(Buffer.from('123456789')) > 0);
});

test('crc32c is not zlib crc32', () => {
  assert.notEqual(crc32c(Buffer.from('123456789')), 0xcbf43926);
});
