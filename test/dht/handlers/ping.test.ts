import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { handlePing } from '../../../src/dht/handlers/ping.ts';
import { exampleQuery, makeFixture, okBody, V4_FROM } from './fixture.ts';

test('BEP 5 example ping gets an empty body (the node adds id)', () => {
  const f = makeFixture();
  assert.deepEqual(okBody(handlePing(exampleQuery('ping_query', 'ping'), V4_FROM, f.ctx)), {});
});

test('property: any sender gets the same empty reply', () => {
  const f = makeFixture();
  const q = exampleQuery('ping_query', 'ping');
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), fc.integer({ min: 0, max: 65_535 }), (host, port) => {
      assert.deepEqual(okBody(handlePing(q, { host, port }, f.ctx)), {});
    }),
    { numRuns: 200 },
  );
});
