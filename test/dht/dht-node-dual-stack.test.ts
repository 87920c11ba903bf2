import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeKrpc, encodeKrpc } from '../../src/dht/index.ts';
import { SimNet } from './dht-node-harness.ts';

describe('DhtNode dual stack (BEP 32) on a MemoryNetwork', () => {
  test('dual-stack nodes fill both tables; IPv4-only and IPv6-only nodes read what a dual node put', async () => {
    const net = new SimNet('dual');
    const first = net.add({ host: '10.5.0.1', host6: 'fd00::1' });
    const contacts = [first.address, first.address6!];
    for (let i = 2; i <= 16; i++) net.add({ host: `10.5.0.${i}`, host6: `fd00::${i}`, bootstrap: contacts });
    const v4only = net.add({ host: '10.5.0.100', bootstrap: [first.address] });
    const v6only = net.add({ host: 'fd00::100', bootstrap: [first.address6!] });
    try {
      await net.startAll();
      await net.run(Promise.all(net.nodes.map((n) => n.node.findNode(n.node.id).catch(() => []))));
      const dual = net.nodes[5]!.node.stats().routingTable;
      assert.ok((dual[4] ?? 0) >= 8 && (dual[6] ?? 0) >= 8, JSON.stringify(dual));
      assert.equal(v4only.node.stats().routingTable[6], undefined);
      assert.ok((v6only.node.stats().routingTable[6] ?? 0) >= 8);

      const found = await net.run(net.nodes[3]!.node.findNode(Buffer.alloc(20, 0x5a)));
      assert.ok(
        found.some((n) => n.address.host.includes(':')) && found.some((n) => !n.address.host.includes(':')),
      );

      const put = await net.run(net.nodes[7]!.node.putImmutable(Buffer.from('both families')));
      assert.ok(put.stored >= 8, `stored ${put.stored}`);
      assert.deepEqual((await net.run(v6only.node.get(put.target)))?.v, Buffer.from('both families'));
      assert.deepEqual((await net.run(v4only.node.get(put.target)))?.v, Buffer.from('both families'));

      const ih = Buffer.alloc(20, 0x33);
      await net.run(v6only.node.announcePeer(ih, { port: 6000 }));
      const { peers } = await net.run(net.nodes[9]!.node.getPeers(ih));
      assert.ok(peers.some((p) => p.host === 'fd00::100' && p.port === 6000));
      assert.ok(net.maxPacketBytes <= 1024);
    } finally {
      net.close();
    }
  });

  test('want: a query for both families from an IPv4 address gets nodes and nodes6', async () => {
    const net = new SimNet('want');
    const first = net.add({ host: '10.6.0.1', host6: 'fd00::6:1' });
    for (let i = 2; i <= 12; i++) {
      net.add({ host: `10.6.0.${i}`, host6: `fd00::6:${i}`, bootstrap: [first.address, first.address6!] });
    }
    const raw = net.raw({ host: '10.6.0.66', port: 4000 }, { answerPings: true });
    try {
      await net.startAll();
      await net.settle(1_000);
      const ask = (want: ('n4' | 'n6')[], tid: string) =>
        raw.transport.send(
          encodeKrpc({
            kind: 'query',
            tid: Buffer.from(tid),
            id: Buffer.alloc(20, 1),
            readOnly: false,
            want,
            method: 'find_node',
            target: Buffer.alloc(20, 2),
          }),
          first.address,
        );
      ask([], 'xx'); // the first contact: the node pings us back to verify our address
      await net.settle(50);
      ask(['n4', 'n6'], 'aa');
      ask([], 'bb');
      await net.settle(50);
      const byTid = new Map(
        raw.received
          .map((p) => decodeKrpc(p.bytes))
          .flatMap((r) =>
            r.ok && r.message.kind === 'response' ? [[r.message.tid.toString(), r.message]] : [],
          ),
      );
      assert.ok((byTid.get('aa')?.nodes6?.length ?? 0) > 0, 'nodes6 for want n6');
      assert.ok((byTid.get('aa')?.nodes?.length ?? 0) > 0, 'nodes for want n4');
      assert.equal(byTid.get('bb')?.nodes6, undefined, 'no want: only the family of the query');
      assert.ok((byTid.get('bb')?.nodes?.length ?? 0) > 0);
    } finally {
      net.close();
    }
  });
});
