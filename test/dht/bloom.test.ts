import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateBloomSize, ScrapeBloom } from '../../src/dht/bloom.ts';
import { readBepVectors } from '../helpers/vectors.ts';

const vectors = readBepVectors().bep33;

function vectorBloom(): ScrapeBloom {
  const bloom = new ScrapeBloom();
  for (let i = 0; i <= 255; i++) assert.ok(bloom.insertHost(`192.0.2.${i}`));
  for (let i = 0; i <= 0x3e7; i++) assert.ok(bloom.insertHost(`2001:db8::${i.toString(16)}`));
  return bloom;
}

test('BEP 33 vector: 192.0.2.0-255 and 2001:DB8::-2001:DB8::3E7 give the published bytes', () => {
  assert.equal(vectorBloom().toBuffer().toString('hex').toUpperCase(), vectors.bloom);
});

test('BEP 33 vector: the estimate for the 1256 inserted values is 1224.9308', () => {
  assert.ok(Math.abs(vectorBloom().estimate() - vectors.estimate) < vectors.estimate_tolerance);
  assert.ok(Math.abs(estimateBloomSize(Buffer.from(vectors.bloom, 'hex')) - vectors.estimate) < 0.001);
});

test('empty filter estimates ~0; duplicates and ports do not count; union ORs', () => {
  const a = new ScrapeBloom();
  assert.ok(a.estimate() < 1);
  a.insertHost('1.2.3.4');
  a.insertHost('1.2.3.4');
  a.insertHost('::ffff:1.2.3.4');
  assert.ok(Math.abs(a.estimate() - 1) < 0.1);
  const b = new ScrapeBloom();
  b.insertHost('5.6.7.8');
  a.union(b);
  assert.ok(Math.abs(a.estimate() - 2) < 0.1);
  assert.equal(a.insertHost('not-an-ip'), false);
  assert.equal(new ScrapeBloom(a.toBuffer()).toBuffer().equals(a.toBuffer()), true);
  assert.equal(a.toBuffer().length, 256);
});
