/** GET /v1/network's view: NAT behaviour as far as known, DHT query counters, and each friend's path. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { natBehaviour, networkView } from '../../../src/app/web-client/network-view.ts';

test('NAT behaviour: unknown, none, port kept, port changed', () => {
  assert.equal(natBehaviour(undefined, 6881, []), 'unknown');
  assert.equal(natBehaviour({ host: '203.0.113.5', port: 6881 }, 6881, ['203.0.113.5']), 'none');
  assert.equal(natBehaviour({ host: '203.0.113.5', port: 6881 }, 6881, ['192.168.1.2']), 'port-kept');
  assert.equal(natBehaviour({ host: '203.0.113.5', port: 40000 }, 6881, ['192.168.1.2']), 'port-changed');
});

test('friends with a session are direct (with the endpoint), the others reached through the DHT; DHT counters summed', () => {
  const view = networkView({
    udpPort: 6881,
    ownHosts: () => ['192.168.1.2'],
    dht: {
      stats: () =>
        ({
          routingTable: { 4: 40, 6: 2 },
          rpc: { sent: 120, resent: 7 },
          queriesIn: { ping: 5, find_node: 3, get_peers: 1 },
          lookups: { find_node: 4, get_peers: 2 },
        }) as unknown as ReturnType<import('../../../src/dht/index.ts').DhtNode['stats']>,
      externalAddress: () => ({ host: '203.0.113.5', port: 6881 }),
    },
    chat: {
      contacts: () => [
        { name: 'bob', code: 'dhtchat:bob', presence: 'online', lastSeen: 1, profileName: null },
        { name: 'carol', code: 'dhtchat:carol', presence: 'offline', lastSeen: null, profileName: null },
      ],
      sessionInfo: (who: string) =>
        who === 'dhtchat:bob'
          ? { isInitiator: true, remote: { host: '2001:db8::1', port: 7000 }, path: 'relayed' as const }
          : undefined,
      natView: () => ({ introducers: [{ host: '198.51.100.7', port: 6881 }], observedEndpoint: undefined }),
      strangerView: () => ({ active: 3, limit: 64 }),
    },
  });
  assert.deepEqual(view.strangers, { active: 3, limit: 64 });
  assert.deepEqual(view.dht, {
    nodes: 42,
    nodesV4: 40,
    nodesV6: 2,
    externalAddress: '203.0.113.5:6881',
    udpPort: 6881,
    queriesSent: 120,
    queriesResent: 7,
    queriesReceived: 9,
    lookups: 6,
  });
  assert.deepEqual(view.nat, {
    behaviour: 'port-kept',
    observedEndpoint: null,
    introducers: ['198.51.100.7:6881'],
  });
  assert.deepEqual(
    view.friends.map((f) => [f.name, f.path, f.remote, f.isInitiator]),
    [
      ['bob', 'relayed', '[2001:db8::1]:7000', true],
      ['carol', 'dht', null, null],
    ],
  );
});
