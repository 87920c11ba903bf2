import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeKrpc,
  decodeRoutingTableState,
  encodeKrpc,
  isNodeIdValidForHost,
  nodeIdForHost,
} from '../../src/dht/index.ts';
import { SeededRandom } from '../../src/runtime/index.ts';
import { createSimNet, SimNet } from './dht-node-harness.ts';

const compliantId = (host: string) => nodeIdForHost(host, new SeededRandom(`id/${host}`));

function tableHosts(net: SimNet, except: string): string[][] {
  return net.nodes
    .filter((n) => n.address.host !== except)
    .map((n) => decodeRoutingTableState(n.node.exportState())?.nodes.map((x) => x.address.host) ?? []);
}

async function enforcementNet(enforce: boolean) {
  const net = new SimNet(`bep42-${enforce}`);
  const hosts = Array.from({ length: 12 }, (_, i) => `10.1.0.${i + 1}`);
  const first = net.add({ host: hosts[0]!, id: compliantId(hosts[0]!), enforceBep42OnPrivate: enforce });
  for (const host of hosts.slice(1)) {
    net.add({ host, id: compliantId(host), bootstrap: [first.address], enforceBep42OnPrivate: enforce });
  }
  const rogue = net.add({ host: '10.1.0.200', id: Buffer.alloc(20, 0xab), bootstrap: [first.address] });
  await net.startAll();
  return { net, rogue };
}

describe('BEP 42 enforcement', () => {
  test('enforced on private addresses: a non-compliant node is answered but never tabled and never stored on', async () => {
    const { net, rogue } = await enforcementNet(true);
    try {
      const pong = await net.run(rogue.node.ping(net.nodes[0]!.address));
      assert.deepEqual(pong.id, net.nodes[0]!.node.id);
      await net.run(rogue.node.findNode(rogue.node.id));
      for (const hosts of tableHosts(net, rogue.address.host)) assert.ok(!hosts.includes(rogue.address.host));
      await net.run(net.nodes[3]!.node.putImmutable(Buffer.from('only for the compliant')));
      await net.run(net.nodes[4]!.node.announcePeer(Buffer.alloc(20, 1), { port: 1000 }));
      const s = rogue.node.stats();
      assert.equal(s.queriesIn.put, 0);
      assert.equal(s.queriesIn.announce_peer, 0);
    } finally {
      net.close();
    }
  });

  test('exempt by default: the same node is tabled when private addresses are exempt', async () => {
    const { net, rogue } = await enforcementNet(false);
    try {
      await net.run(rogue.node.findNode(rogue.node.id));
      await net.settle(2_000);
      const tabled = tableHosts(net, rogue.address.host).filter((h) => h.includes(rogue.address.host)).length;
      assert.ok(tabled >= 3, `in ${tabled} tables`);
    } finally {
      net.close();
    }
  });

  test('re-key: a node with a random id takes a BEP 42 id once 3 voters confirm its public address', async () => {
    const net = new SimNet('rekey');
    const hosts = Array.from({ length: 8 }, (_, i) => `25.0.${i}.1`);
    const first = net.add({ host: hosts[0]!, id: compliantId(hosts[0]!), allowPrivate: false });
    for (const host of hosts.slice(1)) {
      net.add({ host, id: compliantId(host), bootstrap: [first.address], allowPrivate: false });
    }
    const x = net.add({
      host: '31.0.0.7',
      id: Buffer.alloc(20, 0x11),
      bootstrap: [first.address],
      allowPrivate: false,
    });
    try {
      await net.startAll();
      await net.settle(3_000);
      assert.ok(isNodeIdValidForHost(x.node.id, '31.0.0.7'), `id ${x.node.id.toString('hex')}`);
      assert.equal(x.node.stats().rekeys, 1);
      assert.deepEqual(x.node.externalAddress(), { host: '31.0.0.7', port: 6881 });
      // After the re-key the others accept it: it is in their tables under the new id.
      await net.run(x.node.findNode(x.node.id));
      await net.settle(1_000);
      const withX = net.nodes.filter((n) =>
        decodeRoutingTableState(n.node.exportState())?.nodes.some((m) => m.id.equals(x.node.id)),
      );
      assert.ok(withX.length >= 3, `in ${withX.length} tables`);
    } finally {
      net.close();
    }
  });
});

describe('abuse limits', () => {
  test('per-source rate limit drops a flood', async () => {
    const net = new SimNet('flood');
    const target = net.add({ host: '10.2.0.1', rateLimit: { ratePerSec: 5, burst: 10 } });
    const raw = net.raw({ host: '10.2.0.66', port: 4000 });
    try {
      for (let i = 0; i < 100; i++) {
        const tid = Buffer.from([i >> 8, i & 255]);
        raw.transport.send(
          encodeKrpc({
            kind: 'query',
            tid,
            id: Buffer.alloc(20, 1),
            readOnly: false,
            want: [],
            method: 'ping',
          }),
          target.address,
        );
      }
      await net.settle(100);
      const answers = raw.received.filter((p) => decodeKrpc(p.bytes).ok);
      assert.ok(answers.length >= 10 && answers.length <= 12, `${answers.length} answered`);
      assert.ok(target.node.stats().dropped.rateLimited >= 88);
    } finally {
      net.close();
    }
  });

  test('malformed packets: garbage dropped; a query with a readable tid gets 203 within 3x its size', async () => {
    const net = new SimNet('malformed');
    const target = net.add({ host: '10.3.0.1' });
    const raw = net.raw({ host: '10.3.0.66', port: 4000 });
    try {
      raw.transport.send(Buffer.from('not bencode at all'), target.address);
      raw.transport.send(Buffer.from('d1:t2:aa1:y1:re'), target.address); // a response missing r: dropped
      const badQuery = Buffer.from('d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe');
      raw.transport.send(badQuery, target.address);
      await net.settle(50);
      const s = target.node.stats();
      assert.equal(s.dropped.malformed, 3);
      const replies = raw.received.map((p) => decodeKrpc(p.bytes));
      const errors = replies.filter((r) => r.ok && r.message.kind === 'error');
      assert.equal(errors.length, 1);
      const e = errors[0]!;
      assert.ok(
        e.ok && e.message.kind === 'error' && e.message.code === 203 && e.message.tid.toString() === 'zz',
      );
      for (const p of raw.received) assert.ok(p.bytes.length <= badQuery.length * 3);
    } finally {
      net.close();
    }
  });

  test('no amplification: an unverified source gets at most 3x; once verified, full replies', async () => {
    const net = await createSimNet('amplify', 20);
    const raw = net.raw({ host: '10.4.0.66', port: 4000 });
    const rawId = Buffer.alloc(20, 0x42);
    const findNode = (tid: string) =>
      encodeKrpc({
        kind: 'query',
        tid: Buffer.from(tid),
        id: rawId,
        readOnly: false,
        want: [],
        method: 'find_node',
        target: Buffer.alloc(20, 0x99),
      });
    try {
      const q = findNode('a');
      raw.transport.send(q, net.nodes[0]!.address);
      await net.settle(20);
      const first = raw.received.map((p) => decodeKrpc(p.bytes)).filter((r) => r.ok);
      const reply = first.find((r) => r.ok && r.message.kind === 'response');
      assert.ok(reply?.ok && reply.message.kind === 'response');
      assert.ok(
        raw.received[0]!.bytes.length <= q.length * 3,
        `${raw.received[0]!.bytes.length} > 3 x ${q.length}`,
      );
      assert.ok((reply.message.nodes?.length ?? 0) < 8, 'trimmed');
      assert.ok(net.nodes[0]!.node.stats().repliesTrimmed >= 1);
      // The node pinged us to verify the address; answer that ping.
      const ping = first.find((r) => r.ok && r.message.kind === 'query' && r.message.method === 'ping');
      assert.ok(ping?.ok, 'verification ping');
      raw.transport.send(
        encodeKrpc({ kind: 'response', tid: ping.message.tid, id: rawId }),
        net.nodes[0]!.address,
      );
      await net.settle(20);
      raw.received.length = 0;
      raw.transport.send(findNode('b'), net.nodes[0]!.address);
      await net.settle(20);
      const full = decodeKrpc(raw.received[0]!.bytes);
      assert.ok(full.ok && full.message.kind === 'response');
      assert.equal(full.message.nodes?.length, 8);
    } finally {
      net.close();
    }
  });
});

describe('live fuzz', () => {
  test('20,000 random and mutated packets into a live node: no escape, node still answers', async () => {
    const net = await createSimNet('fuzz', 6);
    const victim = net.nodes[2]!;
    const random = new SeededRandom('fuzz-packets');
    const seeds = [
      encodeKrpc({
        kind: 'query',
        tid: Buffer.from('aa'),
        id: Buffer.alloc(20, 3),
        readOnly: false,
        want: ['n4', 'n6'],
        method: 'find_node',
        target: Buffer.alloc(20, 4),
      }),
      encodeKrpc({
        kind: 'query',
        tid: Buffer.from('bb'),
        id: Buffer.alloc(20, 3),
        readOnly: false,
        want: [],
        method: 'put',
        token: Buffer.alloc(8),
        v: Buffer.from('x'),
        vBytes: Buffer.from('1:x'),
        k: Buffer.alloc(32, 1),
        sig: Buffer.alloc(64, 2),
        seq: 1,
        salt: Buffer.from('s'),
      }),
      encodeKrpc({
        kind: 'response',
        tid: Buffer.from('cc'),
        id: Buffer.alloc(20, 5),
        nodes: [{ id: Buffer.alloc(20, 6), address: { host: '10.0.0.9', port: 9 } }],
        values: [{ host: '1.2.3.4', port: 5 }],
        token: Buffer.alloc(4),
      }),
      encodeKrpc({ kind: 'error', tid: Buffer.from('dd'), code: 201, message: 'x' }),
    ];
    try {
      // Many sources, so the per-source rate limit does not hide the decoder from the fuzz.
      const raws = Array.from({ length: 50 }, (_, i) => net.raw({ host: `10.8.0.${i + 1}`, port: 5000 }));
      for (let i = 0; i < 20_000; i++) {
        let packet: Buffer;
        if (i % 4 === 0) packet = random.bytes(1 + random.int(200));
        else {
          packet = Buffer.from(seeds[random.int(seeds.length)]!);
          for (let e = 1 + random.int(3); e > 0; e--) packet[random.int(packet.length)] = random.int(256);
        }
        raws[i % raws.length]!.transport.send(packet, victim.address);
        if (i % 1000 === 999) await net.settle(1_000, 250);
      }
      await net.settle(5_000, 250);
      const s = victim.node.stats();
      assert.equal(s.dropped.handlerFailures, 0);
      assert.ok(s.dropped.malformed > 5_000, `${s.dropped.malformed} malformed`);
      const pong = await net.run(net.nodes[0]!.node.ping(victim.address));
      assert.deepEqual(pong.id, victim.node.id);
    } finally {
      net.close();
    }
  });
});
