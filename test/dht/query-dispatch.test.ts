import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeKrpc } from '../../src/dht/krpc-codec.ts';
import type { KrpcError, KrpcResponse } from '../../src/dht/krpc-message.ts';
import {
  fitError,
  fitResponse,
  type ReplyBudget,
  replyBudget,
  UNVERIFIED_AMPLIFICATION,
} from '../../src/dht/query-dispatch.ts';

const id = (b: number) => Buffer.alloc(20, b);
const nodes = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: id(i + 1), address: { host: `10.0.0.${i + 1}`, port: 6881 } }));
const nodes6 = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: id(i + 50), address: { host: `fd00::${i + 1}`, port: 6881 } }));
const peers = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ host: `10.1.${i >> 8}.${i & 255}`, port: 1 + i }));

const base: KrpcResponse = {
  kind: 'response',
  tid: Buffer.from('aa'),
  id: id(9),
  yourAddress: { host: '10.9.9.9', port: 9 },
  version: Buffer.from('DC\x00\x01', 'latin1'),
};

const budgetOf = (n: number): ReplyBudget => ({ maxBytes: n, maxItemBytes: n });

describe('reply budget', () => {
  test('verified: 1024, 1452 for an item; unverified: 3x the query for everything, never over 1024', () => {
    assert.deepEqual(replyBudget(100, true), { maxBytes: 1024, maxItemBytes: 1452 });
    assert.deepEqual(replyBudget(100, false), {
      maxBytes: 100 * UNVERIFIED_AMPLIFICATION,
      maxItemBytes: 100 * UNVERIFIED_AMPLIFICATION,
    });
    assert.deepEqual(replyBudget(900, false), { maxBytes: 1024, maxItemBytes: 1024 });
  });
});

describe('fitResponse', () => {
  test('a reply that fits goes out untouched', () => {
    const r = { ...base, nodes: nodes(8), token: Buffer.alloc(8) };
    const fitted = fitResponse(r, budgetOf(1024));
    assert.ok(fitted && !fitted.isTrimmed && !fitted.isItemWithheld);
    const d = decodeKrpc(fitted.bytes);
    assert.ok(d.ok && d.message.kind === 'response' && d.message.nodes?.length === 8);
  });

  test('trims nodes6 first, then nodes, then values (the answer last), to the exact budget', () => {
    const r = { ...base, nodes: nodes(8), nodes6: nodes6(8), values: peers(100), token: Buffer.alloc(8) };
    for (const budget of [1024, 600, 300, 150]) {
      const fitted = fitResponse(r, budgetOf(budget));
      assert.ok(fitted, `budget ${budget}`);
      assert.ok(fitted.bytes.length <= budget, `${fitted.bytes.length} > ${budget}`);
      const d = decodeKrpc(fitted.bytes);
      assert.ok(d.ok && d.message.kind === 'response');
      const m = d.message;
      if ((m.nodes?.length ?? 0) < 8) assert.equal(m.nodes6?.length ?? 0, 0, 'nodes6 go before nodes');
      if ((m.values?.length ?? 0) < 100) assert.equal(m.nodes?.length ?? 0, 0, 'nodes go before values');
      assert.deepEqual(m.token, Buffer.alloc(8), 'the token is never cut');
    }
  });

  test('nothing goes over the budget: a reply whose bare form is over it is not sent', () => {
    assert.equal(fitResponse({ ...base, token: Buffer.alloc(8) }, budgetOf(60)), undefined);
    assert.equal(fitResponse({ ...base, samples: [id(1)], interval: 1, num: 1 }, budgetOf(80)), undefined);
  });

  // Issue 10 §5: an 85-byte get of a stored 880-byte item was answered with 980 bytes (×11.5).
  test('an immutable item that does not fit an unverified budget is withheld whole: token and nodes only', () => {
    const v = Buffer.alloc(876, 0x61);
    const r = {
      ...base,
      v,
      vBytes: Buffer.concat([Buffer.from('876:'), v]),
      token: Buffer.alloc(8),
      nodes: nodes(8),
    };
    const fitted = fitResponse(r, replyBudget(85, false));
    assert.ok(fitted?.isItemWithheld && fitted.isTrimmed);
    assert.ok(fitted.bytes.length <= 255, `${fitted.bytes.length} bytes for an 85-byte get`);
    const d = decodeKrpc(fitted.bytes);
    assert.ok(d.ok && d.message.kind === 'response');
    assert.equal(d.message.v, undefined);
    assert.deepEqual(d.message.token, Buffer.alloc(8), 'a putter still gets its token');
    assert.ok((d.message.nodes?.length ?? 0) > 0, 'a lookup can go on');
    const verified = fitResponse(r, replyBudget(85, true));
    assert.ok(verified && !verified.isItemWithheld && verified.bytes.length > 900);
  });

  test('a mutable item withheld keeps seq (the reader learns there is one); k and sig go with v', () => {
    const v = Buffer.alloc(700, 0x62);
    const r = {
      ...base,
      v,
      k: Buffer.alloc(32, 3),
      sig: Buffer.alloc(64, 4),
      seq: 42,
      token: Buffer.alloc(8),
      nodes: nodes(8),
    };
    const fitted = fitResponse(r, replyBudget(100, false));
    assert.ok(fitted?.isItemWithheld && fitted.bytes.length <= 300);
    const d = decodeKrpc(fitted.bytes);
    assert.ok(d.ok && d.message.kind === 'response');
    assert.deepEqual(
      [d.message.seq, d.message.v, d.message.k, d.message.sig],
      [42, undefined, undefined, undefined],
    );
  });

  test('a small item that fits the unverified budget without nodes is sent (nodes go first)', () => {
    const v = Buffer.from('small item');
    const r = { ...base, v, token: Buffer.alloc(8), nodes: nodes(8) };
    const fitted = fitResponse(r, replyBudget(85, false));
    assert.ok(fitted && !fitted.isItemWithheld && fitted.bytes.length <= 255);
    const d = decodeKrpc(fitted.bytes);
    assert.ok(d.ok && d.message.kind === 'response');
    assert.deepEqual(d.message.v, v);
  });

  // Issue 10 §6: a 930-byte v was accepted by put, but its get reply was over 1024 and silently dropped.
  test('to a verified address, any item BEP 44 allows goes out whole (v 1000, k, sig, max seq, long tid, IPv6)', () => {
    for (const vLength of [930, 1000]) {
      const v = Buffer.alloc(vLength - 5, 0x63); // "995:" + 995 bytes = 1000 bytes bencoded
      const r: KrpcResponse = {
        ...base,
        tid: Buffer.alloc(16, 0x74),
        yourAddress: { host: '2001:db8::1', port: 9 },
        v,
        k: Buffer.alloc(32, 3),
        sig: Buffer.alloc(64, 4),
        seq: Number.MAX_SAFE_INTEGER,
        token: Buffer.alloc(64, 5),
        nodes: nodes(8),
        nodes6: nodes6(8),
      };
      const fitted = fitResponse(r, replyBudget(60, true));
      assert.ok(fitted && !fitted.isItemWithheld, `v of ${vLength}`);
      assert.ok(fitted.bytes.length <= 1452, `${fitted.bytes.length} bytes`);
      const d = decodeKrpc(fitted.bytes);
      assert.ok(d.ok && d.message.kind === 'response');
      assert.deepEqual(d.message.v, v);
    }
  });

  test('property: never over budget; an item is sent whole or not at all', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 20, max: 1500 }),
        fc.boolean(),
        fc.nat(16),
        fc.nat(16),
        fc.nat(60),
        fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
        (received, isVerified, n4, n6, nPeers, vLength) => {
          const r: KrpcResponse = {
            ...base,
            token: Buffer.alloc(8),
            nodes: nodes(n4),
            nodes6: nodes6(n6),
            values: peers(nPeers),
            ...(vLength === undefined ? {} : { v: Buffer.alloc(vLength, 0x61) }),
          };
          const budget = replyBudget(received, isVerified);
          const fitted = fitResponse(r, budget);
          if (fitted === undefined) return;
          const limit =
            fitted.isItemWithheld || vLength === undefined ? budget.maxBytes : budget.maxItemBytes;
          assert.ok(fitted.bytes.length <= limit);
          if (!isVerified) assert.ok(fitted.bytes.length <= received * UNVERIFIED_AMPLIFICATION);
          const d = decodeKrpc(fitted.bytes);
          assert.ok(d.ok && d.message.kind === 'response');
          if (vLength !== undefined && !fitted.isItemWithheld)
            assert.equal((d.message.v as Buffer).length, vLength);
          if (fitted.isItemWithheld) assert.equal(d.message.v, undefined);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('fitError', () => {
  const e: KrpcError = {
    kind: 'error',
    tid: Buffer.from('zz'),
    code: 203,
    message: 'invalid message: KRPC_BAD_FIELD (target)',
    yourAddress: { host: '10.9.9.9', port: 9 },
    version: Buffer.from('DC\x00\x01', 'latin1'),
  };

  test('shortens the message, keeps the code; drops what it must; undefined when nothing fits', () => {
    const full = fitError(e, 1024);
    assert.ok(full);
    const short = fitError(e, full.length - 10);
    assert.ok(short && short.length <= full.length - 10);
    const d = decodeKrpc(short);
    assert.ok(d.ok && d.message.kind === 'error' && d.message.code === 203);
    const tiny = fitError(e, 30);
    assert.ok(tiny && tiny.length <= 30);
    assert.equal(fitError(e, 10), undefined);
  });
});
