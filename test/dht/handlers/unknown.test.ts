import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { handleUnknown } from '../../../src/dht/handlers/unknown.ts';
import type { UnknownQuery } from '../../../src/dht/krpc-message.ts';
import { errorOf, makeFixture, okBody, V4_FROM } from './fixture.ts';

const base: UnknownQuery = {
  kind: 'query',
  tid: Buffer.from('aa'),
  id: Buffer.alloc(20, 1),
  readOnly: false,
  want: [],
  method: 'unknown',
  name: 'vote',
  target: Buffer.alloc(20, 2),
};

test('an unknown method with a target is answered like find_node', () => {
  const body = okBody(handleUnknown(base, V4_FROM, makeFixture().ctx));
  assert.equal(body.nodes?.length, 8);
  const both = okBody(handleUnknown({ ...base, want: ['n4', 'n6'] }, V4_FROM, makeFixture().ctx));
  assert.equal(both.nodes6?.length, 8);
});

test('without a target it is 204 Method Unknown', () => {
  const { target: _omit, ...noTarget } = base;
  assert.deepEqual(errorOf(handleUnknown(noTarget, V4_FROM, makeFixture().ctx)), {
    code: 204,
    reason: 'UNKNOWN_METHOD',
  });
  assert.equal(
    errorOf(handleUnknown({ ...base, target: Buffer.alloc(5) }, V4_FROM, makeFixture().ctx)).code,
    204,
  );
});

test('property: no input throws', () => {
  const f = makeFixture();
  fc.assert(
    fc.property(fc.option(fc.uint8Array({ maxLength: 30 })), fc.string(), (target, name) => {
      const q: UnknownQuery = { ...base, name, ...(target === null ? {} : { target: Buffer.from(target) }) };
      handleUnknown(q, V4_FROM, f.ctx);
    }),
    { numRuns: 300 },
  );
});
