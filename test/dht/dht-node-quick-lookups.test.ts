/**
 * DhtNode.get/putImmutable({isQuick}): a node that died among the closest to an item's target holds an ordinary
 * lookup open until its query times out (3 s); a quick one presumes it gone a second after k others answered,
 * and still finds (or stores) the item.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ed25519FromSeed } from '../../src/crypto/index.ts';
import type { DhtNode } from '../../src/dht/index.ts';
import { compareDistance } from '../../src/dht/node-id.ts';
import { createSimNet, type SimNet } from './dht-node-harness.ts';

/**
 * Kills the node closest to target among net.nodes[from..], runs lookup from the farthest one, quick first,
 * and checks the quick run is under 2 s of virtual time while the ordinary one waited out the dead node.
 */
async function assertQuickSkipsDeadNode(
  net: SimNet,
  target: Buffer,
  from: number,
  lookup: (node: DhtNode, isQuick: boolean) => Promise<void>,
): Promise<void> {
  const byDistance = net.nodes.slice(from).sort((a, b) => compareDistance(target, a.node.id, b.node.id));
  const dead = byDistance[0]!;
  dead.node.close();
  dead.transport.close();
  const asker = byDistance[byDistance.length - 1]!.node;
  const timed = async (isQuick: boolean): Promise<number> => {
    const since = net.clock.monotonicMs();
    await net.run(lookup(asker, isQuick));
    return net.clock.monotonicMs() - since;
  };
  const quickMs = await timed(true);
  const fullMs = await timed(false);
  assert.ok(fullMs >= 3000, `the ordinary lookup waits for the dead node's timeout (${fullMs} ms)`);
  assert.ok(quickMs < 2000, `the quick one does not (${quickMs} ms)`);
}

test('a quick mutable get does not wait out the timeout of a dead node among the closest', async () => {
  const net = await createSimNet('quick-get', 30);
  try {
    const keyPair = ed25519FromSeed(Buffer.alloc(32, 9));
    const put = await net.run(net.nodes[1]!.node.putMutable({ keyPair, v: Buffer.from('record') }));
    await assertQuickSkipsDeadNode(net, put.target, 2, async (node, isQuick) => {
      const item = await node.get(put.target, { isQuick });
      assert.deepEqual(item?.v, Buffer.from('record'));
    });
  } finally {
    net.close();
  }
});

test('a quick put does not wait out the timeout of a dead node among the closest, and still stores', async () => {
  const net = await createSimNet('quick-put', 30);
  try {
    const v = Buffer.from('offline part');
    const target = createHash('sha1').update(`${v.length}:`).update(v).digest();
    await assertQuickSkipsDeadNode(net, target, 1, async (node, isQuick) => {
      const put = await node.putImmutable(v, { isQuick });
      assert.deepEqual(put.target, target);
      assert.ok(put.stored >= 7, `stored at ${put.stored} nodes`);
    });
  } finally {
    net.close();
  }
});
