import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { handleFindNode } from '../../../src/dht/handlers/find-node.ts';
import type { FindNodeQuery } from '../../../src/dht/krpc-message.ts';
import { encodedSize, errorOf, exampleQuery, makeFixture, okBody, V4_FROM, V6_FROM } from './fixture.ts';

const example = exampleQuery('find_node_query', 'find_node');

test('BEP 5 example find_node: K v4 nodes for a v4 requester, no nodes6', () => {
  const body = okBody(handleFindNode(example, V4_FROM, makeFixture().ctx));
  assert.equal(body.nodes?.length, 8);
  assert.equal(body.nodes6, undefined);
});

test('BEP 32 want: empty = requester family; n4/n6 as asked', () => {
  const f = makeFixture();
  const v6 = okBody(handleFindNode(example, V6_FROM, f.ctx));
  assert.equal(v6.nodes, undefined);
  assert.equal(v6.nodes6?.length, 8);
  const both = okBody(handleFindNode({ ...example, want: ['n4', 'n6'] }, V4_FROM, f.ctx));
  assert.equal(both.nodes?.length, 8);
  assert.equal(both.nodes6?.length, 8);
  assert.ok(encodedSize(both) <= 1024);
  const only6 = okBody(handleFindNode({ ...example, want: ['n6'] }, V4_FROM, f.ctx));
  assert.equal(only6.nodes, undefined);
  assert.equal(only6.nodes6?.length, 8);
});

test('fewer nodes than K are returned as they are', () => {
  const body = okBody(handleFindNode(example, V4_FROM, makeFixture({ nodesPerFamily: 3 }).ctx));
  assert.equal(body.nodes?.length, 3);
});

test('a target that is not 20 bytes is 203', () => {
  const f = makeFixture();
  assert.deepEqual(errorOf(handleFindNode({ ...example, target: Buffer.alloc(19) }, V4_FROM, f.ctx)), {
    code: 203,
    reason: 'BAD_TARGET',
  });
});

test('property: no input throws', () => {
  const f = makeFixture();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.subarray(['n4', 'n6'] as const), (target, want) => {
      const q: FindNodeQuery = { ...example, target: Buffer.from(target), want };
      const reply = handleFindNode(q, V4_FROM, f.ctx);
      assert.ok(reply.kind === 'response' || reply.code === 203);
    }),
    { numRuns: 500 },
  );
});
