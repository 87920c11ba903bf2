import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { ed25519FromSeed, ed25519Sign } from '../../../src/crypto/index.ts';
import { mutableTarget, signableBuffer } from '../../../src/dht/bep44.ts';
import type { KrpcResponse } from '../../../src/dht/krpc-message.ts';
import { getItemLookup, getItemLookupWithStats, verifyItem } from '../../../src/dht/lookups/get-item.ts';
import { drive, ModelNetwork } from '../../../sim/lookup-model-network.ts';

const keyPair = ed25519FromSeed(Buffer.alloc(32, 9));
const signed = (seq: number, v: string, salt?: Buffer) => {
  const vBytes = Buffer.from(`${v.length}:${v}`);
  return {
    v: Buffer.from(v),
    vBytes,
    k: keyPair.publicKey,
    seq,
    sig: ed25519Sign(keyPair, signableBuffer({ salt, seq, vBytes })),
  };
};
const response = (fields: Partial<KrpcResponse>): KrpcResponse => ({
  kind: 'response',
  tid: Buffer.alloc(2),
  id: Buffer.alloc(20),
  ...fields,
});

describe('getItemLookup', () => {
  test('verifyItem: immutable hash, mutable target + signature, sizes', () => {
    const vBytes = Buffer.from('5:hello');
    const target = createHash('sha1').update(vBytes).digest();
    assert.ok(verifyItem(target, response({ v: Buffer.from('hello'), vBytes }), undefined));
    assert.equal(
      verifyItem(Buffer.alloc(20), response({ v: Buffer.from('hello'), vBytes }), undefined),
      undefined,
    );
    const m = signed(3, 'x');
    const t = mutableTarget(keyPair.publicKey);
    assert.equal(verifyItem(t, response(m), undefined)?.seq, 3);
    assert.equal(verifyItem(t, response({ ...m, seq: 4 }), undefined), undefined, 'seq not covered by sig');
    assert.equal(verifyItem(t, response({ ...m, sig: Buffer.alloc(64) }), undefined), undefined);
    assert.equal(verifyItem(t, response({ ...m, k: Buffer.alloc(31) }), undefined), undefined);
    assert.equal(verifyItem(t, response({ ...m, seq: -1 }), undefined), undefined);
    assert.equal(
      verifyItem(mutableTarget(keyPair.publicKey, Buffer.from('s')), response(m), Buffer.from('s')),
      undefined,
    );
    const big = Buffer.alloc(1001, 0x61);
    assert.equal(
      verifyItem(createHash('sha1').update(big).digest(), response({ v: big, vBytes: big }), undefined),
      undefined,
    );
  });

  test('mutable: highest valid seq wins; forged higher seqs and garbage nodes are ignored', async () => {
    const net = new ModelNetwork({ seed: 'getmut', size: 300, mix: { garbage: 0.05, dead: 0.1 } });
    const target = mutableTarget(keyPair.publicKey);
    const near = net
      .trueClosest(target, 8)
      .map((n) => net.node(n.address)!)
      .filter((n) => n.behaviour === 'ok');
    near[0]!.items.set(target.toString('hex'), signed(1, 'old'));
    near[1]!.items.set(target.toString('hex'), signed(4, 'new'));
    near[2]!.items.set(target.toString('hex'), { ...signed(9, 'forged'), sig: Buffer.alloc(64, 1) });
    const item = await drive(net.clock, getItemLookup(net.context(), target));
    assert.equal(item?.v.toString(), 'new');
    assert.equal(item?.seq, 4);
  });

  test('immutable: stops at the first valid copy', async () => {
    const net = new ModelNetwork({ seed: 'getimm', size: 300 });
    const vBytes = Buffer.from('3:abc');
    const target = createHash('sha1').update(vBytes).digest();
    for (const n of net.nodes) n.items.set(target.toString('hex'), { v: Buffer.from('abc'), vBytes });
    const { item, stats } = await drive(net.clock, getItemLookupWithStats(net.context(), target));
    assert.equal(item?.v.toString(), 'abc');
    assert.equal(stats.responses, 1, 'the first answer ended it');
  });

  test('not found → undefined; nobody answering → DHT_LOOKUP_EXHAUSTED', async () => {
    const net = new ModelNetwork({ seed: 'nf', size: 100 });
    assert.equal(await drive(net.clock, getItemLookup(net.context(), net.random.bytes(20))), undefined);
    for (const n of net.nodes) n.behaviour = 'dead';
    await assert.rejects(drive(net.clock, getItemLookup(net.context(), net.random.bytes(20))), {
      code: 'DHT_LOOKUP_EXHAUSTED',
    });
  });
});
