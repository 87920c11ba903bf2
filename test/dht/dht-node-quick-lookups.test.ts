/**
 * DhtNode.get/putImmutable({isQuick}): a node that died among the closest to an item's target holds an ordinary mutable get
 * open until its query times out; a quick get presumes it gone a second after k others answered, and still finds
 * the item.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ed25519FromSeed } from '../../src/crypto/index.ts';
import { compareDistance } from '../../src/dht/node-id.ts';
import { createSimNet } from './dht-node-harness.ts';

test('a quick mutable get does not wait out the timeout of a dead node among the closest', async () => {
  const net = await createSimNet('quick-get', 30);
  try {
    const keyPair = ed25519FromSeed(Buffer.alloc(32, 9));
    const put = await net.run(net.nodes[1]!.node.putMutable({ keyPair, v: Buffer.from('record') }));
    const byDistance = net.nodes.slice(2).sort((a, b) => compareDistance(put.target, a.node.id, b.node.id));
    const dead = byDistance[0]!;
    dead.node.close();
    dead.transport.close();
    const reader = byDistance[byDistance.length - 1]!.node;
    const timed = async (isQuick: boolean): Promise<number> => {
      const since = net.clock.now();
      const item = await net.run(reader.get(put.target, { isQuick }));
      assert.deepEqual(item?.v, Buffer.from('record'));
      return net.clock.now() - since;
    };
    const quickMs = await timed(true);
    const fullMs = await timed(false);
    assert.ok(fullMs >= 3000, `the ordinary get waits for the dead node's timeout (${fullMs} ms)`);
    assert.ok(quickMs < 2000, `the quick get does not (${quickMs} ms)`);
  } finally {
    net.close();
  }
});

test('a quick put does not wait out the timeout of a dead node among the closest, and still stores', async () => {
  const net = await createSimNet('quick-put', 30);
  try {
    const v = Buffer.from('offline part');
    const target = createHash('sha1').update(`${v.length}:`).update(v).digest();
    const byDistance = net.nodes.slice(1).sort((a, b) => compareDistance(target, a.node.id, b.node.id));
    const dead = byDistance[0]!;
    dead.node.close();
    dead.transport.close();
    const writer = byDistance[byDistance.length - 1]!.node;
    const timed = async (isQuick: boolean): Promise<number> => {
      const since = net.clock.now();
      const put = await net.run(writer.putImmutable(v, { isQuick }));
      assert.deepEqual(put.target, target);
      assert.ok(put.stored >= 7, `stored at ${put.stored} nodes`);
      return net.clock.now() - since;
    };
    const quickMs = await timed(true);
    const fullMs = await timed(false);
    assert.ok(fullMs >= 3000, `the ordinary put waits for the dead node's timeout (${fullMs} ms)`);
    assert.ok(quickMs < 2000, `the quick put does not (${quickMs} ms)`);
  } finally {
    net.close();
  }
});
