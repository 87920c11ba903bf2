import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { decodeRoutingTableState, nodeIdForHost, xorDistance } from '../../src/dht/index.ts';
import { compareDistance } from '../../src/dht/node-id.ts';
import { SeededRandom } from '../../src/runtime/index.ts';
import { createSimNet, SimNet } from './dht-node-harness.ts';

const target = (seed: string) => new SeededRandom(seed).bytes(20);

describe('DhtNode on a MemoryNetwork', () => {
  test('bootstrap: 30 nodes fill their tables; find_node returns the truly closest', async () => {
    const net = await createSimNet('bootstrap', 30);
    try {
      for (const n of net.nodes) assert.ok(n.node.routingTableSize() >= 8, `table of ${n.address.host}`);
      const t = target('t1');
      const found = await net.run(net.nodes[7]!.node.findNode(t));
      const truth = net.nodes
        .map((n) => n.node.id)
        .sort((a, b) => Buffer.compare(xorDistance(a, t), xorDistance(b, t)))
        .slice(0, 8)
        .map((id) => id.toString('hex'));
      const got = found.map((n) => n.id.toString('hex'));
      const overlap = got.filter((id) => truth.includes(id)).length;
      assert.ok(overlap >= 7, `only ${overlap} of the 8 closest found`);
      assert.ok(net.maxPacketBytes <= 1024);
    } finally {
      net.close();
    }
  });

  test('ping answers with the id; a dead address rejects with DHT_QUERY_TIMEOUT', async () => {
    const net = await createSimNet('ping', 3);
    try {
      const [a, b] = net.nodes;
      const r = await net.run(a!.node.ping(b!.address));
      assert.deepEqual(r.id, b!.node.id);
      await assert.rejects(net.run(a!.node.ping({ host: '10.9.9.9', port: 1 })), {
        code: 'DHT_QUERY_TIMEOUT',
      });
    } finally {
      net.close();
    }
  });

  test('announce_peer then get_peers, with an explicit port and with implied_port', async () => {
    const net = await createSimNet('peers', 20);
    try {
      const ih = target('infohash');
      const a = net.nodes[3]!;
      const b = net.nodes[15]!;
      const c = net.nodes[9]!;
      const ann = await net.run(a.node.announcePeer(ih, { port: 7000 }));
      assert.ok(ann.stored >= 4, `stored on ${ann.stored}`);
      await net.run(c.node.announcePeer(ih));
      const { peers } = await net.run(b.node.getPeers(ih));
      const seen = peers.map((p) => `${p.host}:${p.port}`);
      assert.ok(seen.includes(`${a.address.host}:7000`), seen.join(','));
      assert.ok(seen.includes(`${c.address.host}:${c.address.port}`), 'implied port = source port');
      const scrape = await net.run(b.node.getPeers(ih, { scrape: true }));
      assert.equal(scrape.bfpe?.length, 256);
    } finally {
      net.close();
    }
  });

  test('BEP 44 immutable put/get', async () => {
    const net = await createSimNet('immutable', 20);
    try {
      const v = Buffer.from('hello, immutable world');
      const put = await net.run(net.nodes[2]!.node.putImmutable(v));
      assert.ok(put.stored >= 4);
      const expected = createHash('sha1')
        .update(`${v.length}:${v.toString('latin1')}`, 'latin1')
        .digest();
      assert.deepEqual(put.target, expected);
      const item = await net.run(net.nodes[17]!.node.get(put.target));
      assert.ok(item);
      assert.deepEqual(item.v, v);
      assert.equal(item.k, undefined);
      assert.equal(await net.run(net.nodes[5]!.node.get(target('absent'))), undefined);
    } finally {
      net.close();
    }
  });

  test('read-only node (BEP 43): can look up, never answers, stays out of tables', async () => {
    const net = new SimNet('readonly');
    const first = net.add({ host: '10.0.0.1' });
    for (let i = 2; i <= 12; i++) net.add({ host: `10.0.0.${i}`, bootstrap: [first.address] });
    const ro = net.add({ host: '10.0.0.100', bootstrap: [first.address], readOnly: true });
    try {
      await net.startAll();
      const put = await net.run(net.nodes[3]!.node.putImmutable(Buffer.from('ro test')));
      const item = await net.run(ro.node.get(put.target));
      assert.deepEqual(item?.v, Buffer.from('ro test'));
      await assert.rejects(net.run(first.node.ping(ro.address)), { code: 'DHT_QUERY_TIMEOUT' });
      assert.ok(ro.node.stats().dropped.readOnly >= 1);
      for (const n of net.nodes) {
        if (n === ro) continue;
        const state = decodeRoutingTableState(n.node.exportState());
        assert.ok(
          !state?.nodes.some((x) => x.address.host === ro.address.host),
          `${n.address.host} lists ro`,
        );
      }
    } finally {
      net.close();
    }
  });

  test('exportState: a restarted node rejoins without the bootstrap node', async () => {
    const net = await createSimNet('restart', 20);
    try {
      const old = net.nodes[11]!;
      const state = old.node.exportState();
      const id = old.node.id;
      old.node.close();
      old.transport.close();
      net.nodes[0]!.node.close(); // the bootstrap node is gone
      const again = net.add({ host: old.address.host, savedState: state });
      assert.deepEqual(again.node.id, id);
      await net.run(again.node.start());
      assert.ok(again.node.routingTableSize() >= 8);
      const put = await net.run(net.nodes[4]!.node.putImmutable(Buffer.from('after restart')));
      const item = await net.run(again.node.get(put.target));
      assert.deepEqual(item?.v, Buffer.from('after restart'));
    } finally {
      net.close();
    }
  });

  test('a node back at a new address never queries its own old address (no wait for that timeout)', async () => {
    const net = await createSimNet('restart-moved', 20);
    try {
      const old = net.nodes[11]!;
      const state = old.node.exportState();
      const oldHost = old.address.host;
      old.node.close();
      old.transport.close();
      // Everyone still lists our id at the old address, where nothing answers now.
      const moved = net.add({ host: '10.0.9.99', savedState: state });
      const since = net.clock.monotonicMs();
      await net.run(moved.node.start());
      const joinMs = net.clock.monotonicMs() - since;
      assert.ok(moved.node.routingTableSize() >= 8);
      assert.equal(moved.node.stats().rpc.timeouts, 0, 'no query went to the old address');
      assert.ok(joinMs < 1000, `joined in ${joinMs} ms of virtual time (the old address: ${oldHost})`);
    } finally {
      net.close();
    }
  });

  test('a restart joins without waiting out the timeout of a dead node near our id', async () => {
    const net = await createSimNet('restart-dead-neighbour', 20);
    try {
      const old = net.nodes[11]!;
      const state = old.node.exportState();
      old.node.close();
      old.transport.close();
      const nearest = net.nodes
        .filter((n) => n !== old)
        .sort((a, b) => compareDistance(old.node.id, a.node.id, b.node.id))[0]!;
      nearest.node.close();
      nearest.transport.close();
      const again = net.add({ host: old.address.host, savedState: state });
      const since = net.clock.monotonicMs();
      await net.run(again.node.start());
      const joinMs = net.clock.monotonicMs() - since;
      assert.ok(again.node.routingTableSize() >= 8);
      assert.ok(joinMs < 2000, `joined in ${joinMs} ms of virtual time (a query times out after 3000)`);
    } finally {
      net.close();
    }
  });

  test('stats count queries by method, lookups and responses', async () => {
    const net = await createSimNet('stats', 10);
    try {
      const s = net.nodes[0]!.node.stats();
      assert.ok(s.queriesIn.find_node > 0);
      assert.ok(s.responsesSent > 0);
      assert.ok((s.lookups['find_node'] ?? 0) >= 1);
      assert.equal(s.id, net.nodes[0]!.node.id.toString('hex'));
      assert.ok(s.rpc.sent > 0);
      assert.ok((s.routingTable[4] ?? 0) > 0);
    } finally {
      net.close();
    }
  });
});

describe('DhtNode lifecycle', () => {
  test('close: pending queries reject with DHT_CLOSED, later calls throw it, no timer is left', async () => {
    const net = await createSimNet('close', 4);
    const a = net.nodes[1]!.node;
    const pending = a.ping({ host: '10.9.9.9', port: 9 });
    net.close();
    await assert.rejects(pending, { code: 'DHT_CLOSED' });
    await assert.rejects(a.findNode(Buffer.alloc(20)), { code: 'DHT_CLOSED' });
    await net.settle(10_000, 1_000);
    assert.equal(net.clock.pendingCount, 0);
  });

  test('198.18/15 (the lab) is admitted with allowPrivate only', async () => {
    const net = new SimNet('benchmarking');
    const first = net.add({ host: '198.18.1.10', id: nodeIdForHost('198.18.1.10', new SeededRandom('lab')) });
    const lab = net.add({ host: '198.18.2.10', bootstrap: [first.address], allowPrivate: true });
    const strict = net.add({ host: '198.18.3.10', bootstrap: [first.address], allowPrivate: false });
    try {
      await net.run(lab.node.start());
      assert.equal(lab.node.routingTableSize(), 1, 'the lab node joined through a 198.18/15 contact');
      await net.run(strict.node.start()).catch(() => undefined);
      assert.equal(strict.node.routingTableSize(), 0, 'without allowPrivate the contact is never used');
      assert.equal(first.node.stats().queriesIn.find_node, 1, 'only the lab node asked');
    } finally {
      net.close();
    }
  });

  test('without allowPrivate, private bootstrap contacts are never queried', async () => {
    const net = new SimNet('private');
    const first = net.add({ host: '10.7.0.1' });
    const strict = net.add({ host: '10.7.0.2', bootstrap: [first.address], allowPrivate: false });
    try {
      await net.run(strict.node.start());
      assert.equal(first.node.stats().queriesIn.find_node, 0);
      assert.equal(strict.node.routingTableSize(), 0);
      await assert.rejects(net.run(strict.node.findNode(Buffer.alloc(20))), { code: 'DHT_LOOKUP_EXHAUSTED' });
    } finally {
      net.close();
    }
  });
});
