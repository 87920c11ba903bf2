import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ed25519FromSeed } from '../../src/crypto/index.ts';
import { mutableTarget } from '../../src/dht/index.ts';
import { createSimNet, type SimNet } from './dht-node-harness.ts';

const keyPair = ed25519FromSeed(Buffer.alloc(32, 7));
const other = ed25519FromSeed(Buffer.alloc(32, 8));

describe('DhtNode BEP 44 mutable items on a MemoryNetwork', () => {
  let net: SimNet;
  before(async () => {
    net = await createSimNet('bep44', 24);
  });
  after(() => net.close());

  const node = (i: number) => net.nodes[i]!.node;

  test('put without salt: seq starts at 1, then increments; get sees the newest', async () => {
    const first = await net.run(node(1).putMutable({ keyPair, v: Buffer.from('one') }));
    assert.equal(first.seq, 1);
    assert.ok(first.stored >= 4, `stored ${first.stored}`);
    assert.deepEqual(first.target, mutableTarget(keyPair.publicKey));
    const second = await net.run(node(2).putMutable({ keyPair, v: Buffer.from('two') }));
    assert.equal(second.seq, 2);
    const item = await net.run(node(20).get(first.target));
    assert.ok(item);
    assert.deepEqual(item.v, Buffer.from('two'));
    assert.equal(item.seq, 2);
    assert.deepEqual(item.k, keyPair.publicKey);
  });

  test('put with salt: a different target, found only with the salt', async () => {
    const salt = Buffer.from('inbox');
    const put = await net.run(node(3).putMutable({ keyPair, v: { a: 1 } as never, salt, seq: 5 }));
    assert.equal(put.seq, 5);
    assert.deepEqual(put.target, mutableTarget(keyPair.publicKey, salt));
    const item = await net.run(node(18).get(put.target, { salt }));
    assert.equal(item?.seq, 5);
    assert.deepEqual(item?.salt, salt);
    // Without the salt the signature does not verify against the target: nothing found.
    assert.equal(await net.run(node(18).get(put.target)), undefined);
  });

  test('seq lower than stored: nodes answer 302 and nothing is stored', async () => {
    await net.run(node(4).putMutable({ keyPair: other, v: Buffer.from('v10'), seq: 10 }));
    const low = await net.run(node(5).putMutable({ keyPair: other, v: Buffer.from('v3'), seq: 3 }));
    assert.equal(low.stored, 0);
    assert.ok((low.errorCodes[302] ?? 0) >= 1, JSON.stringify(low.errorCodes));
    const item = await net.run(node(6).get(low.target));
    assert.equal(item?.seq, 10);
  });

  test('cas mismatch: nodes answer 301; matching cas stores', async () => {
    const bad = await net.run(node(7).putMutable({ keyPair: other, v: Buffer.from('v11'), seq: 11, cas: 4 }));
    assert.equal(bad.stored, 0);
    assert.ok((bad.errorCodes[301] ?? 0) >= 1, JSON.stringify(bad.errorCodes));
    const good = await net.run(
      node(7).putMutable({ keyPair: other, v: Buffer.from('v11'), seq: 11, cas: 10 }),
    );
    assert.ok(good.stored >= 4);
    assert.equal((await net.run(node(9).get(good.target)))?.seq, 11);
  });

  test('items we put are republished hourly; forgetItem stops that', async () => {
    const before = node(1).stats();
    assert.ok(before.republishing >= 1);
    // Big steps: fast, and every round trip (5 ms) still ends well within the 3 s query timeout.
    await net.settle(60 * 60_000 + 60_000, 1_000);
    const after1 = node(1).stats();
    // BEP 44 back-off may skip a round when the item is well kept; either way the check ran (a lookup).
    assert.ok(after1.republished + (after1.lookups['republish-check'] ?? 0) > 0);
    assert.ok(node(1).forgetItem(mutableTarget(keyPair.publicKey)));
    assert.equal(node(1).forgetItem(mutableTarget(keyPair.publicKey)), false);
  });

  test('every packet sent stayed within 1024 bytes', () => {
    assert.ok(net.maxPacketBytes <= 1024, `max ${net.maxPacketBytes}`);
  });
});
