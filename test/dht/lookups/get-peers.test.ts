import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BEP33_BLOOM_BYTES } from '../../../src/dht/constants.ts';
import { getPeersLookup, orBlooms } from '../../../src/dht/lookups/get-peers.ts';
import { drive, ModelNetwork } from '../../../sim/lookup-model-network.ts';

describe('getPeersLookup', () => {
  test('collects peers (deduplicated, filtered), tokens of the k closest, merged scrape filters', async () => {
    const net = new ModelNetwork({ seed: 'gp', size: 300, mix: { garbage: 0.05, dead: 0.1 } });
    const infoHash = net.random.bytes(20);
    const holders = net.trueClosest(infoHash, 3).map((n) => net.node(n.address)!);
    const shared = { host: '10.50.0.1', port: 1000 };
    holders.forEach((h, i) => {
      h.peers.set(infoHash.toString('hex'), [
        shared,
        { host: '10.50.0.2', port: 2000 + i },
        { host: '10.50.0.3', port: 0 },
      ]);
      h.bfsd = Buffer.alloc(BEP33_BLOOM_BYTES);
      h.bfsd[i] = 0xf0 >> i;
    });
    const ctx = net.context({ isAcceptable: (a) => !a.host.startsWith('192.0.2.') });
    const found = await drive(net.clock, getPeersLookup(ctx, infoHash, { scrape: true }));
    const keys = found.peers.map((p) => `${p.host}:${p.port}`).sort();
    assert.deepEqual(keys, ['10.50.0.1:1000', '10.50.0.2:2000', '10.50.0.2:2001', '10.50.0.2:2002']);
    assert.equal(found.closest.length, 8);
    for (const { node, token } of found.closest) {
      assert.ok(token?.equals(net.tokenOf(net.node(node.address)!)));
    }
    assert.equal(found.bfsd?.subarray(0, 3).toString('hex'), 'f0783c');
    assert.equal(
      found.bfpe?.every((b) => b === 0),
      true,
    );
    assert.equal(found.stats.kind, 'scrape');
    assert.equal(net.lookups.length, 1);
  });

  test('orBlooms ignores wrong-sized filters and returns undefined for none', () => {
    assert.equal(orBlooms([undefined, Buffer.alloc(10)]), undefined);
    const a = Buffer.alloc(256);
    a[0] = 1;
    const b = Buffer.alloc(256);
    b[0] = 2;
    b[255] = 128;
    const m = orBlooms([a, b, Buffer.alloc(3, 255)]);
    assert.equal(m?.[0], 3);
    assert.equal(m?.[255], 128);
  });
});
