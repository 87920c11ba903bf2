/**
 * A whole network on loopback: 50 dhtchat nodes in this process over real UDP on 127.0.0.1, bootstrapped from
 * the first. Every node can get an item put by any other (one item read by all nodes, plus many random
 * put/get pairs, immutable and mutable), and a node restarted from its saved state rejoins after the bootstrap
 * node is gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ed25519FromSeed } from '../../src/crypto/index.ts';
import { SeededRandom } from '../../src/runtime/index.ts';
import { createTestnet, type Testnet } from '../helpers/testnet.ts';

const NODE_COUNT = 50;
const PAIR_COUNT = 40;
const SEED = process.env['DHTCHAT_TEST_SEED'] ?? String(Date.now());

let net: Testnet;

before(async () => {
  net = await createTestnet({ size: NODE_COUNT, startConcurrency: 10 });
});
after(() => net.close());

describe(`loopback network of ${NODE_COUNT} nodes (seed ${SEED})`, () => {
  test('every node joined: a routing table with several entries', () => {
    const sizes = net.nodes.map((n) => n.node.routingTableSize());
    assert.ok(
      sizes.every((s) => s >= 8),
      `table sizes: ${sizes.join(',')}`,
    );
  });

  test('all nodes get one item put by one node', async () => {
    const put = await net.nodes[17]!.node.putImmutable(Buffer.from('read me everywhere'));
    assert.ok(put.stored >= 4, `stored on ${put.stored}`);
    const found = await Promise.all(net.nodes.map((n) => n.node.get(put.target)));
    const missing = found.flatMap((item, i) => (item?.v.toString() === 'read me everywhere' ? [] : [i]));
    assert.deepEqual(missing, [], 'nodes that did not find the item');
  });

  test(`${PAIR_COUNT} random pairs: a put by one is a get by the other (immutable and mutable)`, async () => {
    const random = new SeededRandom(SEED);
    const failures: string[] = [];
    // Five pairs at a time: a realistic load for one process on 2 cores.
    for (let batch = 0; batch < PAIR_COUNT; batch += 5) {
      await Promise.all(
        Array.from({ length: 5 }, async (_, j) => {
          const i = batch + j;
          const from = random.int(NODE_COUNT);
          let to = random.int(NODE_COUNT - 1);
          if (to >= from) to++;
          const v = Buffer.from(`pair ${i}: ${from} -> ${to}`);
          if (i % 2 === 0) {
            const put = await net.nodes[from]!.node.putImmutable(v);
            const item = await net.nodes[to]!.node.get(put.target);
            if (!item?.v || !Buffer.from(item.v as Buffer).equals(v))
              failures.push(`immutable ${from}->${to}`);
          } else {
            const keyPair = ed25519FromSeed(random.bytes(32));
            const salt = Buffer.from(`salt ${i}`);
            const put = await net.nodes[from]!.node.putMutable({ keyPair, v, salt });
            const item = await net.nodes[to]!.node.get(put.target, { salt });
            if (!item?.v || !Buffer.from(item.v as Buffer).equals(v) || item.seq !== put.seq) {
              failures.push(`mutable ${from}->${to}`);
            }
          }
        }),
      );
    }
    assert.deepEqual(failures, []);
  });

  test('a node restarted from its saved state rejoins without the bootstrap node', async () => {
    const leaving = net.nodes[30]!;
    const state = leaving.node.exportState();
    const oldId = leaving.node.id;
    leaving.node.close();
    leaving.transport.close();
    // The bootstrap node goes away first: the restarted node can only use what it saved.
    const bootstrapNode = net.nodes[0]!;
    bootstrapNode.node.close();
    bootstrapNode.transport.close();

    const restarted = await net.addNode({ savedState: state, bootstrap: [bootstrapNode.address] });
    assert.deepEqual(restarted.node.id, oldId, 'the saved id is kept');
    assert.ok(restarted.node.routingTableSize() >= 8, `table: ${restarted.node.routingTableSize()}`);

    // It works as a member: it reads an item put by another node, and another node reads its item.
    const put = await net.nodes[12]!.node.putImmutable(Buffer.from('after restart'));
    assert.deepEqual((await restarted.node.get(put.target))?.v, Buffer.from('after restart'));
    const ours = await restarted.node.putImmutable(Buffer.from('from the restarted node'));
    assert.ok(ours.stored >= 4);
    assert.deepEqual((await net.nodes[44]!.node.get(ours.target))?.v, Buffer.from('from the restarted node'));
  });
});
