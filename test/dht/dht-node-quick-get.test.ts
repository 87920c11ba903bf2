/**
 * DhtNode.get({isQuick}): a node that died among the closest to an item's target holds an ordinary mutable get
 * open until its query times out; a quick get presumes it gone a second after k others answered, and still finds
 * the item.
 */
import assert from 'node:assert/strict';
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
