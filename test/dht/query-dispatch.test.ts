import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeKrpc } from '../../src/dht/krpc-codec.ts';
import type { KrpcError, KrpcResponse } from '../../src/dht/krpc-message.ts';
import {
  fitError,
  fitResponse,
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

describe('reply budget', () => {
  test('verified: 1024; unverified: 3x the query, never over 1024', () => {
    assert.equal(replyBudget(100, true), 1024);
    assert.equal(replyBudget(100, false), 100 * UNVERIFIED_AMPLIFICATION);
    assert.equal(replyBudget(900, false), 1024);
  });
});

describe('fitResponse', () => {
  test('a reply that fits goes out untouched', () => {
    const r = { ...base, nodes: nodes(8), token: Buffer.alloc(8) };
    const fitted = fitResponse(r, 1024);
    assert.ok(fitted && !fitted.isTrimmed);
    const d = decodeKrpc(fitted.bytes);
    assert.ok(d.ok && d.message.kind === 'response' && d.message.nodes?.length === 8);
  });

  test('trims nodes6 first, then nodes, then values (the answer last), to the exact budget', () => {
    const r = { ...base, nodes: nodes(8), nodes6: nodes6(8), values: peers(100), token: Buffer.alloc(8) };
    for (const budget of [1024, 600, 300, 150]) {
      const fitted = fitResponse(r, budget);
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

  test('a BEP 44 item is never cut; over 1024 even untrimmable → undefined', () => {
    const item = { ...base, v: Buffer.alloc(900, 0x61), vBytes: Buffer.alloc(0), token: Buffer.alloc(8) };
    const fitted = fitResponse(item, 300);
    assert.ok(fitted && fitted.bytes.length > 300 && fitted.bytes.length <= 1024);
    assert.equal(fitResponse({ ...item, v: Buffer.alloc(1100) }, 1024), undefined);
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
