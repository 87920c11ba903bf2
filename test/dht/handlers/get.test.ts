import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { immutableTarget } from '../../../src/dht/bep44.ts';
import { handleGet } from '../../../src/dht/handlers/get.ts';
import type { GetQuery } from '../../../src/dht/krpc-message.ts';
import { decodeBencode, encodeBencode } from '../../../src/wire/index.ts';
import {
  encodedSize,
  errorOf,
  type Fixture,
  makeFixture,
  okBody,
  V4_FROM,
  V6_FROM,
  vectors,
} from './fixture.ts';

const ascii = (s: string) => Buffer.from(s, 'latin1');
const mutableVector = vectors.bep44.mutable[1]!;
const mutableTarget = Buffer.from(mutableVector.target, 'hex');
const immutableVector = vectors.bep44.immutable[0]!;

function query(target: Buffer, extra: Partial<GetQuery> = {}): GetQuery {
  return {
    kind: 'query',
    tid: ascii('aa'),
    id: Buffer.alloc(20, 1),
    readOnly: false,
    want: [],
    method: 'get',
    target,
    ...extra,
  };
}

function storeVectors(f: Fixture): void {
  const vBytes = ascii(mutableVector.v_bencoded_ascii);
  const v = decodeBencode(vBytes);
  assert.ok(v.ok);
  f.items.put(
    {
      kind: 'mutable',
      target: mutableTarget,
      v: v.value,
      vBytes,
      k: Buffer.from(vectors.bep44.public_key, 'hex'),
      sig: Buffer.from(mutableVector.sig, 'hex'),
      seq: mutableVector.seq,
      salt: ascii(mutableVector.salt_ascii),
    },
    f.clock.monotonicMs(),
  );
  const iBytes = ascii(immutableVector.v_bencoded_ascii);
  f.items.put(
    {
      kind: 'immutable',
      target: Buffer.from(immutableVector.target, 'hex'),
      v: ascii('Hello World!'),
      vBytes: iBytes,
    },
    f.clock.monotonicMs(),
  );
}

test('nothing stored: a token for (IP, target) and the closest nodes', () => {
  const f = makeFixture();
  const body = okBody(handleGet(query(mutableTarget), V4_FROM, f.ctx));
  assert.equal(body.nodes?.length, 8);
  assert.equal(body.v, undefined);
  assert.ok(body.token && f.tokens.isValid(body.token, V4_FROM.host, mutableTarget));
  assert.equal(f.tokens.isValid(body.token, V4_FROM.host, Buffer.alloc(20)), false);
});

test('BEP 44 vector mutable item: k, v, sig, seq (no salt in replies)', () => {
  const f = makeFixture();
  storeVectors(f);
  const body = okBody(handleGet(query(mutableTarget), V4_FROM, f.ctx));
  assert.equal(body.vBytes?.toString('latin1'), mutableVector.v_bencoded_ascii);
  assert.deepEqual(body.v, ascii('Hello World!'));
  assert.equal(body.k?.toString('hex'), vectors.bep44.public_key);
  assert.equal(body.sig?.toString('hex'), mutableVector.sig);
  assert.equal(body.seq, 1);
  assert.equal((body as Record<string, unknown>)['salt'], undefined);
});

test('seq filter: only seq when the reader is up to date', () => {
  const f = makeFixture();
  storeVectors(f);
  const upToDate = okBody(handleGet(query(mutableTarget, { seq: 1 }), V4_FROM, f.ctx));
  assert.equal(upToDate.seq, 1);
  assert.equal(upToDate.v, undefined);
  assert.equal(upToDate.k, undefined);
  assert.equal(upToDate.sig, undefined);
  assert.ok(upToDate.token);
  const behind = okBody(handleGet(query(mutableTarget, { seq: 0 }), V4_FROM, f.ctx));
  assert.ok(behind.v !== undefined && behind.sig !== undefined);
});

test('BEP 44 vector immutable item: v only; not returned to a get with seq', () => {
  const f = makeFixture();
  storeVectors(f);
  const target = Buffer.from(immutableVector.target, 'hex');
  const body = okBody(handleGet(query(target), V4_FROM, f.ctx));
  assert.equal(body.vBytes?.toString('latin1'), immutableVector.v_bencoded_ascii);
  assert.equal(body.k, undefined);
  assert.equal(body.seq, undefined);
  assert.equal(okBody(handleGet(query(target, { seq: 0 }), V4_FROM, f.ctx)).v, undefined);
});

test('want both: nodes and nodes6, dropped to the requester family when a big v would not fit', () => {
  const f = makeFixture();
  storeVectors(f);
  const small = okBody(handleGet(query(mutableTarget, { want: ['n4', 'n6'] }), V6_FROM, f.ctx));
  assert.equal(small.nodes?.length, 8);
  assert.equal(small.nodes6?.length, 8);
  assert.ok(encodedSize(small) <= 1024);
  const put = (length: number): Buffer => {
    const vBytes = encodeBencode(ascii('z'.repeat(length)));
    const target = immutableTarget(vBytes);
    f.items.put({ kind: 'immutable', target, v: ascii('z'.repeat(length)), vBytes }, f.clock.monotonicMs());
    return target;
  };
  // A reply with v may have 1452 bytes (one datagram through a 1,500-byte MTU): 600 bytes of v leave room for both.
  const both = okBody(handleGet(query(put(600), { want: ['n4', 'n6'] }), V6_FROM, f.ctx));
  assert.deepEqual([both.nodes?.length, both.nodes6?.length, both.vBytes?.length], [8, 8, 604]);
  const body = okBody(handleGet(query(put(950), { want: ['n4', 'n6'] }), V6_FROM, f.ctx));
  assert.equal(body.nodes, undefined);
  assert.equal(body.nodes6?.length, 8);
  assert.equal(body.vBytes?.length, 954);
});

test('target not 20 bytes is 203', () => {
  assert.deepEqual(errorOf(handleGet(query(Buffer.alloc(4)), V4_FROM, makeFixture().ctx)), {
    code: 203,
    reason: 'BAD_TARGET',
  });
});

test('property: no input throws', () => {
  const f = makeFixture();
  storeVectors(f);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.constant(mutableTarget),
        fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b)),
      ),
      fc.option(fc.integer({ min: -2, max: 5 }), { nil: undefined }),
      fc.subarray(['n4', 'n6'] as const),
      (target, seq, want) => {
        handleGet(query(target, { want, ...(seq === undefined ? {} : { seq }) }), V4_FROM, f.ctx);
      },
    ),
    { numRuns: 500 },
  );
});
