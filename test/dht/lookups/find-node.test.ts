import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findNodeLookup } from '../../../src/dht/lookups/find-node.ts';
import { xorDistance } from '../../../src/dht/node-id.ts';
import { drive, ModelNetwork } from '../../../sim/lookup-model-network.ts';

describe('findNodeLookup', () => {
  test('returns the k closest compliant responders, closest first, and reports its stats once', async () => {
    const net = new ModelNetwork({ seed: 'fn', size: 200, mix: { noncompliant: 0.1 } });
    const target = net.random.bytes(20);
    const heard: string[] = [];
    const found = await drive(
      net.clock,
      findNodeLookup(net.context({ onHeardAbout: (n) => heard.push(n.address.host) }), target),
    );
    // Non-compliant nodes take slots in every 8-node reply, so the 9th-10th closest may be listed by nobody;
    // the first 7 must match brute force exactly, and the order must be by distance.
    const ids = found.map((n) => n.id.toString('hex'));
    assert.equal(ids.length, 8);
    assert.deepEqual(
      ids.slice(0, 7),
      net.trueClosest(target, 7).map((n) => n.id.toString('hex')),
    );
    const dist = found.map((n) => xorDistance(n.id, target));
    for (let i = 1; i < dist.length; i++) assert.ok(Buffer.compare(dist[i - 1]!, dist[i]!) < 0);
    assert.ok(found.every((n) => net.node(n.address)?.behaviour === 'ok'));
    assert.equal(net.lookups.length, 1);
    assert.equal(net.lookups[0]?.kind, 'find_node');
    assert.ok(heard.length > 0, 'listed nodes are reported for the routing table');
  });
});
