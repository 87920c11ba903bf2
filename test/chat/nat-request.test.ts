/**
 * Friend requests across NATs (issue 11 §5, request-answer.ts): Alice, behind a port-restricted NAT, asks Bob,
 * behind another; no introducer, no relay. Bob's beacon finds Alice's endpoint and dials back (dropped by Alice's
 * NAT, but it opens Bob's towards her) and answers on her answer topic; Alice, looking there, dials Bob through
 * that opening. Times are virtual (test/chat/nat-world.ts). In the simulation the two users' own DHT traffic
 * may open the path first (as in one of three lab runs before §5): the test checks that the request completes and
 * that Bob's answer is where Alice looks; the lab's port-restricted × port-restricted cell shows it is needed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hourEpoch } from '../../src/chat/epoch.ts';
import { answerTopic } from '../../src/chat/request-answer.ts';
import { NAT_KINDS } from '../../sim/nat.ts';
import { CHAT_PORT, NatWorld } from './nat-world.ts';

describe('friend requests across NATs (simulated, no introducers)', { timeout: 300_000 }, () => {
  test('port-restricted × port-restricted: the request arrives after Bob answers on the answer topic, then completes', async (t) => {
    const world = await NatWorld.create('request-pr-pr');
    try {
      const alice = await world.addUser('alice', world.nat(NAT_KINDS.portRestricted), {
        requestStampBits: 4,
      });
      const bob = await world.addUser('bob', world.nat(NAT_KINDS.portRestricted), { requestStampBits: 4 });
      await world.start(alice, bob);
      // Let both learn their public endpoints from the DHT's reports.
      await world.sim.settle(5000, 100);
      await alice.node.addFriend(bob.node.code, { name: 'bob', message: 'hi' });
      const arrivedMs = await world.until(() => bob.node.requests().length === 1, 120_000);
      // Bob's beacon re-reads its topic's closest nodes every 5 s between its minute polls (55 s without).
      assert.ok(arrivedMs <= 20_000, `request arrived after ${arrivedMs} ms`);
      t.diagnostic(`request arrived ${arrivedMs} ms (virtual) after the add`);
      assert.equal(bob.node.requests()[0]?.code, alice.node.code);
      // Bob answered where Alice looks: her public host and the port she announced, this hour.
      const seen = alice.dht.externalAddress();
      assert.ok(seen !== undefined, 'Alice knows her public host');
      const topic = answerTopic(
        bob.publicKey,
        { host: seen.host, port: CHAT_PORT },
        hourEpoch(world.sim.clock.wallMs()),
      );
      const found = await world.sim.run(alice.dht.getPeers(topic));
      assert.ok(
        found.peers.some((p) => p.host === bob.nat?.publicHost),
        `Bob's NAT on the answer topic: ${JSON.stringify(found.peers)}`,
      );
      await bob.node.accept(alice.node.code);
      const acceptedMs = await world.until(
        () => alice.node.contacts().find((c) => c.code === bob.node.code)?.request === undefined,
        30_000,
      );
      assert.ok(acceptedMs <= 30_000);
      assert.equal(alice.store.contacts.get(bob.publicKey)?.state, 'accepted');
    } finally {
      world.close();
    }
  });

  test('the answer topic is bound to the recipient, the requester endpoint and the hour', () => {
    const pk = Buffer.alloc(32, 7);
    const at = { host: '198.18.1.2', port: 7000 };
    const topic = answerTopic(pk, at, 100);
    assert.equal(topic.length, 20);
    assert.notDeepEqual(answerTopic(Buffer.alloc(32, 8), at, 100), topic);
    assert.notDeepEqual(answerTopic(pk, { ...at, port: 7001 }, 100), topic);
    assert.notDeepEqual(answerTopic(pk, at, 101), topic);
    assert.deepEqual(answerTopic(pk, { ...at }, 100), topic);
  });
});
