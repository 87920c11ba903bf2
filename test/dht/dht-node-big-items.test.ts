/**
 * Issue 10 §5 and §6 on a MemoryNetwork: BEP 44 items as big as the BEP allows (v of 930 and 1000 bytes, a
 * 64-byte salt) are stored and served whole to a verified reader; an address that has not proven it receives
 * gets at most 3× its query's bytes (the item withheld, token and nodes kept); and our own lookup, from a node
 * the storers have never heard of, still fetches the item (it answers their verification ping, then asks again).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ed25519FromSeed } from '../../src/crypto/index.ts';
import { decodeKrpc, encodeKrpc, type KrpcResponse } from '../../src/dht/index.ts';
import { UNVERIFIED_AMPLIFICATION } from '../../src/dht/query-dispatch.ts';
import type { UdpAddress } from '../../src/runtime/index.ts';
import { createSimNet, type SimNet } from './dht-node-harness.ts';

const keyPair = ed25519FromSeed(Buffer.alloc(32, 0x5a));
const SALT = Buffer.alloc(64, 0x73);
/** A byte string whose bencoding ("<length>:" + bytes) is exactly n bytes. */
const vOfEncodedBytes = (n: number, fill: number): Buffer => {
  let length = n - 2;
  while (length + String(length).length + 1 > n) length--;
  return Buffer.alloc(length, fill);
};

describe('big BEP 44 items: servable, never amplified', () => {
  let net: SimNet;
  before(async () => {
    net = await createSimNet('big-items', 20);
  });
  after(() => net.close());

  const node = (i: number) => net.nodes[i]!.node;

  async function rawGet(
    target: Buffer,
    to: UdpAddress,
    from: UdpAddress,
    opts: { answerPings?: boolean } = {},
  ): Promise<{ queryBytes: number; replyBytes: number; reply: KrpcResponse }> {
    const raw = net.raw(from, opts);
    const query = encodeKrpc({
      kind: 'query',
      tid: Buffer.from('g'),
      id: Buffer.alloc(20, from.port & 0xff),
      readOnly: false,
      want: [],
      method: 'get',
      target,
    });
    raw.transport.send(query, to);
    await net.settle(50);
    raw.transport.close();
    const answer = raw.received.find((p) => {
      const d = decodeKrpc(p.bytes);
      return d.ok && d.message.kind === 'response';
    });
    assert.ok(answer, 'the node answered the get');
    const d = decodeKrpc(answer.bytes);
    assert.ok(d.ok && d.message.kind === 'response');
    return { queryBytes: query.length, replyBytes: answer.bytes.length, reply: d.message };
  }

  for (const encodedBytes of [930, 1000]) {
    test(`mutable v of ${encodedBytes} bytes with a 64-byte salt: put accepted ⇒ get served`, async () => {
      const v = vOfEncodedBytes(encodedBytes, encodedBytes & 0xff);
      const put = await net.run(node(1).putMutable({ keyPair, v, salt: SALT, seq: encodedBytes }));
      assert.ok(put.stored >= 4, `stored at ${put.stored} nodes`);
      // Node 19 is our own client: the lookup fetches it whole whether or not each storer had verified it.
      const item = await net.run(node(19).get(put.target, { salt: SALT }));
      assert.ok(item, 'found');
      assert.equal(item.vBytes.length, encodedBytes);
      assert.deepEqual(item.v, v);
      assert.equal(item.seq, encodedBytes);
    });
  }

  test('an unverified 85-byte get of an 880-byte item: at most 3× back, the item withheld; verified: whole', async () => {
    const v = vOfEncodedBytes(880, 0x42);
    const put = await net.run(node(2).putImmutable(v));
    assert.ok(put.stored >= 4);
    // Which nodes hold it: ask each from a fresh unverified address and keep those that gave a token + withheld.
    let checked = 0;
    for (const [i, sim] of net.nodes.entries()) {
      const withheldBefore = sim.node.stats().itemsWithheld;
      const from = { host: `10.9.0.${i + 1}`, port: 4000 + i };
      const { queryBytes, replyBytes, reply } = await rawGet(put.target, sim.address, from);
      assert.equal(queryBytes, 85, 'the get of the issue is 85 bytes');
      assert.ok(
        replyBytes <= queryBytes * UNVERIFIED_AMPLIFICATION,
        `node ${i}: ${replyBytes} bytes for a ${queryBytes}-byte get`,
      );
      assert.equal(reply.v, undefined, 'no item to an unverified address');
      assert.ok(reply.token !== undefined, 'a token all the same');
      if (sim.node.stats().itemsWithheld > withheldBefore) {
        checked++;
        // The same get from an address that answers the node's verification ping is served in full.
        const verifiedFrom = { host: `10.9.1.${i + 1}`, port: 5000 + i };
        await rawGet(put.target, sim.address, verifiedFrom, { answerPings: true });
        const second = await rawGet(put.target, sim.address, verifiedFrom, { answerPings: true });
        assert.deepEqual(second.reply.v, v, `node ${i} serves a verified reader`);
        assert.ok(second.replyBytes <= 1452);
      }
    }
    assert.ok(checked >= 4, `${checked} storers withheld the item`);
    // Our own lookup from a node that never queried them still gets it.
    const item = await net.run(node(18).get(put.target));
    assert.deepEqual(item?.v, v);
  });

  test('no packet over 1452 bytes (one datagram through a 1,500-byte MTU)', () => {
    assert.ok(net.maxPacketBytes <= 1452, `max ${net.maxPacketBytes}`);
    assert.ok(net.maxPacketBytes > 1024, 'big items did travel');
  });
});
