import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ed25519FromSeed, ed25519Sign } from '../../../src/crypto/index.ts';
import { immutableTarget, mutableTarget, signableBuffer } from '../../../src/dht/bep44.ts';
import { BEP44_ITEM_LIFETIME_MS } from '../../../src/dht/constants.ts';
import { handlePut } from '../../../src/dht/handlers/put.ts';
import { decodeKrpc, encodeKrpc } from '../../../src/dht/krpc-codec.ts';
import type { PutQuery } from '../../../src/dht/krpc-message.ts';
import { decodeBencode, encodeBencode } from '../../../src/wire/index.ts';
import { errorOf, type Fixture, makeFixture, okBody, V4_FROM, vectors } from './fixture.ts';

const ascii = (s: string) => Buffer.from(s, 'latin1');
const base = { kind: 'query', tid: ascii('aa'), id: Buffer.alloc(20, 1), readOnly: false, want: [] } as const;

function decodeV(vBytes: Buffer) {
  const r = decodeBencode(vBytes);
  assert.ok(r.ok);
  return r.value;
}

/** The official BEP 44 mutable vector (index 0: no salt, 1: salt "foobar") with a token this node issued. */
function vectorPut(f: Fixture, index: 0 | 1): PutQuery {
  const v = vectors.bep44.mutable[index]!;
  const vBytes = ascii(v.v_bencoded_ascii);
  const k = Buffer.from(vectors.bep44.public_key, 'hex');
  const salt = v.salt_ascii === '' ? undefined : ascii(v.salt_ascii);
  const target = Buffer.from(v.target, 'hex');
  return {
    ...base,
    method: 'put',
    token: f.tokens.issue(V4_FROM.host, target),
    v: decodeV(vBytes),
    vBytes,
    k,
    sig: Buffer.from(v.sig, 'hex'),
    seq: v.seq,
    ...(salt === undefined ? {} : { salt }),
  };
}

function immutablePut(
  f: Fixture,
  vBytes: Buffer = ascii(vectors.bep44.immutable[0]!.v_bencoded_ascii),
): PutQuery {
  return {
    ...base,
    method: 'put',
    token: f.tokens.issue(V4_FROM.host, immutableTarget(vBytes)),
    v: decodeV(vBytes),
    vBytes,
  };
}

const keyPair = ed25519FromSeed(Buffer.alloc(32, 5));

/** A mutable put signed with our own key (the vector key cannot sign new seqs). */
function ownPut(f: Fixture, seq: number, value: string, extra: Partial<PutQuery> = {}): PutQuery {
  const vBytes = encodeBencode(ascii(value));
  const salt = extra.salt;
  const sig = ed25519Sign(keyPair, signableBuffer({ salt, seq, vBytes }));
  const target = mutableTarget(keyPair.publicKey, salt);
  return {
    ...base,
    method: 'put',
    token: f.tokens.issue(V4_FROM.host, target),
    v: decodeV(vBytes),
    vBytes,
    k: keyPair.publicKey,
    sig,
    seq,
    ...extra,
  };
}

test('BEP 44 vectors are stored: immutable, mutable, mutable with salt', () => {
  const f = makeFixture();
  okBody(handlePut(immutablePut(f), V4_FROM, f.ctx));
  assert.equal(
    f.items.get(Buffer.from(vectors.bep44.immutable[0]!.target, 'hex'), f.clock.monotonicMs())?.kind,
    'immutable',
  );
  for (const index of [0, 1] as const) {
    okBody(handlePut(vectorPut(f, index), V4_FROM, f.ctx));
    const item = f.items.get(Buffer.from(vectors.bep44.mutable[index]!.target, 'hex'), f.clock.monotonicMs());
    assert.ok(item?.kind === 'mutable' && item.seq === 1);
  }
  assert.equal(f.items.size, 3);
});

test('one field at a time against the vector: the exact code, in BEP 44 order', () => {
  const f = makeFixture();
  const q = vectorPut(f, 1);
  const flip = (b: Buffer) => {
    const c = Buffer.from(b);
    c[0] = c[0]! ^ 1;
    return c;
  };
  const bigV = ascii('x'.repeat(997));
  const cases: Array<[string, PutQuery, number, string]> = [
    ['vBytes not the encoding of v', { ...q, vBytes: ascii('12:Hello World?') }, 203, 'PUT_V_NOT_CANONICAL'],
    ['v over 1000 bytes', { ...q, v: bigV, vBytes: encodeBencode(bigV) }, 205, 'PUT_V_TOO_BIG'],
    ['salt of 65 bytes', { ...q, salt: Buffer.alloc(65, 1) }, 207, 'PUT_SALT_TOO_BIG'],
    [
      'salt of 65 bytes and a bad token: 207 first',
      { ...q, salt: Buffer.alloc(65), token: Buffer.alloc(8) },
      207,
      'PUT_SALT_TOO_BIG',
    ],
    ['token never issued', { ...q, token: ascii('aoeusnth') }, 203, 'BAD_TOKEN'],
    ['other salt: token is for another target', { ...q, salt: ascii('foobaz') }, 203, 'BAD_TOKEN'],
    ['bad sig', { ...q, sig: flip(q.sig!) }, 206, 'PUT_BAD_SIGNATURE'],
    ['seq 2 with the seq-1 signature', { ...q, seq: 2 }, 206, 'PUT_BAD_SIGNATURE'],
    [
      'another value',
      { ...q, v: ascii('Hello World?'), vBytes: ascii('12:Hello World?') },
      206,
      'PUT_BAD_SIGNATURE',
    ],
    ['k without sig', { ...q, sig: undefined } as PutQuery, 203, 'PUT_INCOMPLETE_MUTABLE'],
    ['seq without k', { ...immutablePut(f), seq: 1 }, 203, 'PUT_INCOMPLETE_MUTABLE'],
    ['k of 31 bytes', { ...q, k: q.k!.subarray(1) }, 203, 'PUT_BAD_KEY'],
    ['sig of 63 bytes', { ...q, sig: q.sig!.subarray(1) }, 203, 'PUT_BAD_SIG_LENGTH'],
    ['negative seq', { ...q, seq: -1 }, 203, 'PUT_BAD_SEQ'],
  ];
  for (const [name, query, code, reason] of cases) {
    assert.deepEqual(errorOf(handlePut(query, V4_FROM, f.ctx)), { code, reason }, name);
  }
  assert.equal(f.items.size, 0, 'nothing was stored by a refused put');
  // The signature's target is right and the token is valid from another IP only for that IP.
  assert.equal(errorOf(handlePut(q, { host: '1.2.3.5', port: 1 }, f.ctx)).reason, 'BAD_TOKEN');
  okBody(handlePut(q, V4_FROM, f.ctx));
});

test('exactly 1000 bytes of v and 64 bytes of salt are accepted', () => {
  const f = makeFixture();
  const v1000 = encodeBencode(ascii('y'.repeat(996)));
  assert.equal(v1000.length, 1000);
  okBody(handlePut(immutablePut(f, v1000), V4_FROM, f.ctx));
  okBody(handlePut(ownPut(f, 1, 'salted', { salt: Buffer.alloc(64, 2) }), V4_FROM, f.ctx));
});

test('cas and seq rules (301, 302) on a stored item', () => {
  const f = makeFixture();
  okBody(handlePut(ownPut(f, 5, 'five'), V4_FROM, f.ctx));
  assert.deepEqual(errorOf(handlePut(ownPut(f, 6, 'six', { cas: 4 }), V4_FROM, f.ctx)), {
    code: 301,
    reason: 'PUT_CAS_MISMATCH',
  });
  assert.deepEqual(errorOf(handlePut(ownPut(f, 4, 'four'), V4_FROM, f.ctx)), {
    code: 302,
    reason: 'PUT_SEQ_TOO_LOW',
  });
  assert.deepEqual(errorOf(handlePut(ownPut(f, 4, 'four', { cas: 5 }), V4_FROM, f.ctx)), {
    code: 302,
    reason: 'PUT_SEQ_TOO_LOW',
  });
  // Deviation list: same seq, different value → 302; same seq, same value → accepted, lifetime restarts.
  assert.deepEqual(errorOf(handlePut(ownPut(f, 5, 'FIVE'), V4_FROM, f.ctx)), {
    code: 302,
    reason: 'PUT_SEQ_SAME_VALUE_DIFFERS',
  });
  f.clock.advance(BEP44_ITEM_LIFETIME_MS - 1000);
  okBody(handlePut(ownPut(f, 5, 'five'), V4_FROM, f.ctx));
  f.clock.advance(2000);
  const target = mutableTarget(keyPair.publicKey);
  assert.ok(
    f.items.get(target, f.clock.monotonicMs()),
    'the same-value re-put restarted the 2-hour lifetime',
  );
  okBody(handlePut(ownPut(f, 6, 'six', { cas: 5 }), V4_FROM, f.ctx));
  okBody(handlePut(ownPut(f, 9, 'nine'), V4_FROM, f.ctx));
  const item = f.items.get(target, f.clock.monotonicMs());
  assert.ok(item?.kind === 'mutable' && item.seq === 9 && item.vBytes.toString() === '4:nine');
});

test('cas on an empty slot is ignored; salt and key make separate slots', () => {
  const f = makeFixture();
  okBody(handlePut(ownPut(f, 3, 'x', { cas: 77 }), V4_FROM, f.ctx));
  okBody(handlePut(ownPut(f, 1, 'y', { salt: ascii('s') }), V4_FROM, f.ctx));
  assert.equal(f.items.size, 2);
});

test('property: no input throws', () => {
  const f = makeFixture();
  const q = vectorPut(f, 0);
  const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  fc.assert(
    fc.property(
      maybe(fc.oneof(fc.constant(q.k!), fc.uint8Array({ maxLength: 40 }))),
      maybe(fc.oneof(fc.constant(q.sig!), fc.uint8Array({ maxLength: 70 }))),
      maybe(fc.integer({ min: -3, max: 3 })),
      maybe(fc.integer({ min: -3, max: 3 })),
      maybe(fc.uint8Array({ maxLength: 80 })),
      fc.oneof(fc.constant(q.token), fc.uint8Array({ maxLength: 12 })),
      fc.oneof(fc.constant(q.vBytes), fc.uint8Array({ maxLength: 30 })),
      (k, sig, seq, cas, salt, token, vBytes) => {
        const query = {
          ...q,
          token: Buffer.from(token),
          vBytes: Buffer.from(vBytes),
          k: k && Buffer.from(k),
          sig: sig && Buffer.from(sig),
          seq,
          cas,
          salt: salt && Buffer.from(salt),
        } as PutQuery;
        const reply = handlePut(query, V4_FROM, f.ctx);
        assert.ok(reply.kind === 'response' || [203, 205, 206, 207, 301, 302].includes(reply.code));
      },
    ),
    { numRuns: 1000 },
  );
});

test('end to end through the codec: the vector put, encoded and decoded, is stored', () => {
  const f = makeFixture();
  const q = vectorPut(f, 1);
  const decoded = decodeKrpc(encodeKrpc(q));
  assert.ok(decoded.ok && decoded.message.kind === 'query' && decoded.message.method === 'put');
  okBody(handlePut(decoded.message, V4_FROM, f.ctx));
  assert.ok(f.items.get(Buffer.from(vectors.bep44.mutable[1]!.target, 'hex'), f.clock.monotonicMs()));
});
