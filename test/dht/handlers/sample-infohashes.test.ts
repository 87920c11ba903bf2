import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BEP51_SAMPLE_INTERVAL_SEC } from '../../../src/dht/constants.ts';
import { handleSampleInfohashes } from '../../../src/dht/handlers/sample-infohashes.ts';
import type { SampleInfohashesQuery } from '../../../src/dht/krpc-message.ts';
import { encodedSize, errorOf, makeFixture, okBody, V4_FROM, V6_FROM } from './fixture.ts';

const query: SampleInfohashesQuery = {
  kind: 'query',
  tid: Buffer.from('aa'),
  id: Buffer.alloc(20, 1),
  readOnly: false,
  want: [],
  method: 'sample_infohashes',
  target: Buffer.alloc(20, 0x42),
};

test('an empty store still answers samples (empty), num 0, interval, nodes', () => {
  const body = okBody(handleSampleInfohashes(query, V4_FROM, makeFixture().ctx));
  assert.deepEqual(body.samples, []);
  assert.equal(body.num, 0);
  assert.equal(body.interval, BEP51_SAMPLE_INTERVAL_SEC);
  assert.equal(body.nodes?.length, 8);
});

test('samples of stored info-hashes, trimmed to fit 1024 bytes with both node lists', () => {
  const f = makeFixture();
  for (let i = 0; i < 100; i++)
    f.peers.announce(Buffer.alloc(20, i), { host: '1.1.1.1', port: 1 }, false, f.clock.monotonicMs());
  const one = okBody(handleSampleInfohashes(query, V4_FROM, f.ctx));
  assert.equal(one.samples?.length, 20);
  assert.equal(one.num, 100);
  const both = okBody(handleSampleInfohashes({ ...query, want: ['n4', 'n6'] }, V6_FROM, f.ctx));
  assert.ok(encodedSize(both) <= 1024, `${encodedSize(both)}`);
  assert.ok((both.samples?.length ?? 0) > 0 && (both.samples?.length ?? 0) < 20);
});

test('target not 20 bytes is 203', () => {
  assert.equal(
    errorOf(handleSampleInfohashes({ ...query, target: Buffer.alloc(0) }, V4_FROM, makeFixture().ctx)).code,
    203,
  );
});

test('property: no input throws', () => {
  const f = makeFixture();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 30 }), fc.subarray(['n4', 'n6'] as const), (target, want) => {
      handleSampleInfohashes({ ...query, target: Buffer.from(target), want }, V4_FROM, f.ctx);
    }),
    { numRuns: 300 },
  );
});
