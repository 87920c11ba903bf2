import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { estimateBloomSize } from '../../../src/dht/bloom.ts';
import { handleGetPeers } from '../../../src/dht/handlers/get-peers.ts';
import type { GetPeersQuery } from '../../../src/dht/krpc-message.ts';
import {
  encodedSize,
  errorOf,
  exampleQuery,
  type Fixture,
  makeFixture,
  okBody,
  V4_FROM,
  V6_FROM,
} from './fixture.ts';

const example = exampleQuery('get_peers_query', 'get_peers');

function fill(f: Fixture, n: number, family: 4 | 6, isSeed = (_i: number) => false): void {
  for (let i = 0; i < n; i++) {
    const host = family === 4 ? `9.${i >> 8}.${i & 255}.1` : `2001:db8:1::${(i + 1).toString(16)}`;
    f.peers.announce(example.infoHash, { host, port: 1000 + i }, isSeed(i), f.clock.monotonicMs());
  }
}

test('BEP 5 example with nothing stored: nodes and a token valid for this IP and info-hash', () => {
  const f = makeFixture();
  const body = okBody(handleGetPeers(example, V4_FROM, f.ctx));
  assert.equal(body.nodes?.length, 8);
  assert.equal(body.values, undefined);
  assert.ok(body.token !== undefined && f.tokens.isValid(body.token, V4_FROM.host, example.infoHash));
});

test('values of the requester family only, always with nodes', () => {
  const f = makeFixture();
  fill(f, 5, 4);
  fill(f, 3, 6);
  const v4 = okBody(handleGetPeers(example, V4_FROM, f.ctx));
  assert.equal(v4.values?.length, 5);
  assert.ok(v4.values.every((p) => !p.host.includes(':')));
  assert.equal(v4.nodes?.length, 8);
  const v6 = okBody(handleGetPeers({ ...example, want: ['n4', 'n6'] }, V6_FROM, f.ctx));
  assert.equal(v6.values?.length, 3);
  assert.ok(v6.values.every((p) => p.host.includes(':')));
  assert.equal(v6.nodes?.length, 8);
  assert.equal(v6.nodes6?.length, 8);
});

test('noseed leaves seeds out', () => {
  const f = makeFixture();
  fill(f, 10, 4, (i) => i % 2 === 0);
  assert.equal(okBody(handleGetPeers({ ...example, noSeed: true }, V4_FROM, f.ctx)).values?.length, 5);
});

test('BEP 32: replies stay within 1024 bytes however many peers are stored', () => {
  const f = makeFixture({ peers: { maxPeersPerInfoHash: 500 } });
  fill(f, 400, 4);
  fill(f, 400, 6);
  const shapes: Array<[GetPeersQuery, typeof V4_FROM]> = [
    [example, V4_FROM],
    [{ ...example, want: ['n4', 'n6'] }, V4_FROM],
    [example, V6_FROM],
    [{ ...example, want: ['n4', 'n6'] }, V6_FROM],
    [{ ...example, scrape: true, want: ['n4', 'n6'] }, V4_FROM],
    [{ ...example, scrape: true, want: ['n4', 'n6'] }, V6_FROM],
  ];
  for (const [q, from] of shapes) {
    const body = okBody(handleGetPeers(q, from, f.ctx));
    const size = encodedSize(body);
    assert.ok(size <= 1024, `${from.host} want=${q.want} scrape=${q.scrape}: ${size} bytes`);
    if (!q.scrape)
      assert.ok((body.values?.length ?? 0) >= (from === V4_FROM ? 40 : 15), `${body.values?.length}`);
  }
  // The v4 single-family reply is nearly full: the budget is used, not wasted.
  assert.ok(encodedSize(okBody(handleGetPeers(example, V4_FROM, f.ctx))) > 1024 - 8);
});

test('BEP 33 scrape: bloom filters instead of values, requester-family nodes only', () => {
  const f = makeFixture();
  fill(f, 30, 4, (i) => i < 12);
  const body = okBody(handleGetPeers({ ...example, scrape: true, want: ['n4', 'n6'] }, V4_FROM, f.ctx));
  assert.equal(body.values, undefined);
  assert.equal(Math.round(estimateBloomSize(body.bfsd!)), 12);
  assert.equal(Math.round(estimateBloomSize(body.bfpe!)), 18);
  assert.equal(body.nodes?.length, 8);
  assert.equal(body.nodes6, undefined);
  // Nothing stored: a scrape is a plain get_peers reply.
  const empty = okBody(
    handleGetPeers({ ...example, infoHash: Buffer.alloc(20, 3), scrape: true }, V4_FROM, f.ctx),
  );
  assert.equal(empty.bfsd, undefined);
  assert.ok(empty.token);
});

test('a full swarm withholds the token from newcomers, not from members', () => {
  const f = makeFixture({ peers: { maxPeersPerInfoHash: 2 } });
  fill(f, 2, 4);
  assert.equal(okBody(handleGetPeers(example, V4_FROM, f.ctx)).token, undefined);
  assert.ok(okBody(handleGetPeers(example, { host: '9.0.0.1', port: 1 }, f.ctx)).token);
});

test('info_hash not 20 bytes is 203', () => {
  assert.deepEqual(
    errorOf(handleGetPeers({ ...example, infoHash: Buffer.alloc(21) }, V4_FROM, makeFixture().ctx)),
    {
      code: 203,
      reason: 'BAD_INFO_HASH',
    },
  );
});

test('property: no input throws', () => {
  const f = makeFixture();
  fill(f, 50, 4);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.constant(example.infoHash),
        fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b)),
      ),
      fc.boolean(),
      fc.boolean(),
      fc.subarray(['n4', 'n6'] as const),
      fc.constantFrom(V4_FROM, V6_FROM, { host: 'junk', port: 0 }),
      (infoHash, scrape, noSeed, want, from) => {
        const reply = handleGetPeers({ ...example, infoHash, scrape, noSeed, want }, from, f.ctx);
        if (reply.kind === 'response') assert.ok(encodedSize(reply.body) <= 1024);
      },
    ),
    { numRuns: 500 },
  );
});
