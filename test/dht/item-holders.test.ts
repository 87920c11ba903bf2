/**
 * Asking the holders of an item again without a search (DhtNode.getWithHolders / requery / putMutableTo), and
 * the port reports behind externalReports(): what the chat layer's fast record polls and our NAT's mapping
 * classification stand on. A 12-node in-memory DHT on virtual time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ed25519FromSeed } from '../../src/crypto/index.ts';
import { type DhtNode, decodeKrpc, encodeKrpc } from '../../src/dht/index.ts';
import { createSimNet, type SimNet } from './dht-node-harness.ts';

describe('item holders: requery and put without a search', () => {
  let net: SimNet;
  let writer: DhtNode;
  let reader: DhtNode;
  const keyPair = ed25519FromSeed(Buffer.alloc(32, 7));
  const salt = Buffer.from('record');

  before(async () => {
    net = await createSimNet('item-holders', 12);
    writer = net.nodes[3]!.node;
    reader = net.nodes[9]!.node;
  });
  after(() => net.close());

  test('a put reports who stored it; a get reports the holders with tokens', async () => {
    const put = await net.run(writer.putMutable({ keyPair, salt, v: Buffer.from('one'), seq: 1 }));
    assert.ok(put.stored > 0);
    assert.equal(put.holders.length, put.stored, 'every acknowledging node is a holder');
    const found = await net.run(reader.getWithHolders(put.target, { salt }));
    assert.equal(found.item?.seq, 1);
    assert.ok(found.holders.length >= put.stored - 1, `holders ${found.holders.length}`);
    assert.ok(found.holders.every((h) => h.token.length > 0));
  });

  test('requery asks only the given nodes: one query each, v only when newer than seq', async () => {
    const put = await net.run(writer.putMutable({ keyPair, salt, v: Buffer.from('two'), seq: 2 }));
    const { holders } = await net.run(reader.getWithHolders(put.target, { salt }));
    const nodes = holders.slice(0, 3).map((h) => h.node);
    const sentBefore = reader.stats().rpc.sent;
    const same = await net.run(reader.requery(nodes, put.target, { salt, seq: 2 }));
    assert.equal(reader.stats().rpc.sent - sentBefore, 3, 'no search: exactly the three queries');
    assert.equal(same.item, undefined, 'nothing newer than seq 2: no v');
    assert.equal(same.highestSeq, 2);
    assert.equal(same.holders.length, 3);
    const older = await net.run(reader.requery(nodes, put.target, { salt, seq: 1 }));
    assert.equal(older.item?.seq, 2);
    assert.equal(Buffer.from(older.item?.v as Buffer).toString(), 'two');
  });

  test('putMutableTo stores at the holders in one round trip; the reader sees it by requery', async () => {
    const first = await net.run(writer.putMutable({ keyPair, salt, v: Buffer.from('three'), seq: 3 }));
    const sentBefore = writer.stats().rpc.sent;
    const quick = await net.run(
      writer.putMutableTo(first.holders, { keyPair, salt, v: Buffer.from('four'), seq: 4 }),
    );
    assert.equal(writer.stats().rpc.sent - sentBefore, first.holders.length, 'one put per holder, no get');
    assert.equal(quick.stored, first.holders.length);
    assert.ok(quick.target.equals(first.target));
    const nodes = first.holders.slice(0, 3).map((h) => h.node);
    const seen = await net.run(reader.requery(nodes, first.target, { salt, seq: 3 }));
    assert.equal(Buffer.from(seen.item?.v as Buffer).toString(), 'four');
  });

  test('a requery of nodes that are gone counts failures and never rejects', async () => {
    const ghost = { id: Buffer.alloc(20, 1), address: { host: '10.99.0.1', port: 6881 } };
    const r = await net.run(reader.requery([ghost], Buffer.alloc(20, 2), { salt }));
    assert.equal(r.failures, 1);
    assert.equal(r.item, undefined);
  });

  test('with maxWaitMs a silent node does not hold the answer of the others for a query timeout', async () => {
    const put = await net.run(writer.putMutable({ keyPair, salt, v: Buffer.from('five'), seq: 5 }));
    const ghost = { id: Buffer.alloc(20, 1), address: { host: '10.99.0.1', port: 6881 } };
    const nodes = [ghost, ...put.holders.slice(0, 2).map((h) => h.node)];
    const startMs = net.clock.monotonicMs();
    const r = await net.run(reader.requery(nodes, put.target, { salt, seq: 4, maxWaitMs: 1000 }));
    assert.ok(
      net.clock.monotonicMs() - startMs <= 1100,
      `answered after ${net.clock.monotonicMs() - startMs} ms`,
    );
    assert.equal(r.failures, 1);
    assert.equal(r.holders.length, 2);
    assert.equal(r.item?.seq, 5);
  });
});

describe('externalReports: the port each voter saw us on', () => {
  test('one port everywhere, or a different one per voter', async () => {
    const net = await createSimNet('external-reports', 4);
    try {
      const me = net.nodes[1]!.node;
      // Responses from five voters, each naming our host; first all the same port, then each its own.
      for (const [round, portOf] of [
        [0, () => 5000],
        [1, (i: number) => 20_000 + i],
      ] as const) {
        const voters = Array.from({ length: 5 }, (_, i) =>
          net.raw({ host: `10.7.${round}.${i + 1}`, port: 6881 }),
        );
        for (const [i, v] of voters.entries()) {
          const sent = me.ping(v.transport.localAddress()).catch(() => undefined);
          await net.settle(20);
          const query = v.received.at(-1);
          assert.ok(query, 'the ping arrived');
          const decoded = decodeKrpc(query.bytes);
          assert.ok(decoded.ok && decoded.message.kind === 'query');
          v.transport.send(
            encodeKrpc({
              kind: 'response',
              tid: decoded.message.tid,
              id: Buffer.alloc(20, i + 1),
              yourAddress: { host: '100.64.5.5', port: portOf(i) },
            }),
            query.from,
          );
          await net.settle(20);
          await sent;
        }
        const reports = me.externalReports(60_000);
        assert.equal(reports?.host, '100.64.5.5');
        if (round === 0) assert.deepEqual(reports?.ports, [5000, 5000, 5000, 5000, 5000]);
        else assert.deepEqual(new Set(reports?.ports.slice(-5)).size, 5);
      }
    } finally {
      net.close();
    }
  });
});
