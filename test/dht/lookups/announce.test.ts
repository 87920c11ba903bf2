import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { announceLookup } from '../../../src/dht/lookups/announce.ts';
import { getPeersLookup } from '../../../src/dht/lookups/get-peers.ts';
import { drive, ModelNetwork } from '../../../sim/lookup-model-network.ts';

describe('announceLookup', () => {
  test('announces with each node’s own token to the k closest compliant nodes, then get_peers finds it', async () => {
    const net = new ModelNetwork({ seed: 'ann', size: 300, mix: { noncompliant: 0.1, dead: 0.1 } });
    const infoHash = net.random.bytes(20);
    const result = await drive(net.clock, announceLookup(net.context(), infoHash, 6881));
    assert.equal(result.stored, 8);
    assert.equal(result.stats.kind, 'announce');
    assert.equal(result.stats.storeQueries, 8);
    const holders = net.nodes.filter((n) => n.peers.has(infoHash.toString('hex')));
    assert.equal(holders.length, 8);
    assert.ok(
      holders.every((n) => n.behaviour === 'ok'),
      'never announced to a non-compliant node',
    );
    const found = await drive(net.clock, getPeersLookup(net.context(), infoHash));
    assert.ok(found.peers.some((p) => p.port === 6881));
  });

  test('port undefined sends implied_port', async () => {
    const net = new ModelNetwork({ seed: 'implied', size: 100 });
    const infoHash = net.random.bytes(20);
    const result = await drive(net.clock, announceLookup(net.context(), infoHash, undefined, true));
    assert.equal(result.stored, 8);
    const stored = net.nodes.flatMap((n) => n.peers.get(infoHash.toString('hex')) ?? []);
    assert.ok(
      stored.length === 8 && stored.every((p) => p.port === 7777),
      'the model stores 7777 for implied_port',
    );
  });

  test('bad tokens are counted as KRPC 203, not thrown', async () => {
    const net = new ModelNetwork({ seed: 'badtok', size: 80 });
    const infoHash = net.random.bytes(20);
    // Every node rotates its secret between the search and the store.
    const original = net.tokenOf.bind(net);
    let isRotated = false;
    net.tokenOf = (n) => (isRotated ? Buffer.from('new') : original(n));
    const ctx = net.context();
    const wrapped = {
      query: (to: Parameters<typeof net.sender.query>[0], q: Parameters<typeof net.sender.query>[1]) => {
        if (q.method === 'announce_peer') isRotated = true;
        return net.sender.query(to, q);
      },
    };
    const result = await drive(net.clock, announceLookup({ ...ctx, sender: wrapped }, infoHash, 1));
    assert.equal(result.stored, 0);
    assert.equal(result.outcome.errorCodes[203], 8);
  });
});
