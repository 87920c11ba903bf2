/**
 * Friend requests through a relay (issue 11 §5, request-relays.ts), on virtual time (relay-sim.ts): Alice and Bob
 * behind symmetric NATs, not friends yet. Neither the recipient's dial-back nor the requester's dial to the answer
 * passes a randomising NAT, so without a relay the request never arrives (the second test); with one volunteer
 * relay on the DHT both meet there, the request arrives, and Bob's acceptance reaches Alice.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RelaySim } from './relay-sim.ts';

async function twoStrangers(seed: string, relayCount: number, aliceNat: 'symmetric' | 'open' = 'symmetric') {
  const rs = new RelaySim(seed);
  await rs.startDht(12);
  for (let i = 0; i < relayCount; i++) await rs.addRelay(`10.9.1.${i + 1}`);
  const alice = rs.user('alice', 1, aliceNat, { requestStampBits: 4 });
  const bob = rs.user('bob', 2, 'symmetric', { requestStampBits: 4 });
  await rs.start(alice, bob);
  // Both learn their public address from the DHT's reports (the requester's E is its public host).
  await rs.sim.settle(5000, 100);
  return { rs, alice, bob };
}

describe('friend requests through a relay (virtual time, symmetric NATs)', { timeout: 180_000 }, () => {
  test('the request arrives through the relay and the acceptance comes back', async (t) => {
    const { rs, alice, bob } = await twoStrangers('request-relay', 1);
    try {
      const addedMs = rs.clock.monotonicMs();
      await alice.node.addFriend(bob.node.code, { name: 'bob', message: 'hello over the relay' });
      await rs.until(() => bob.node.requests().length === 1, 60_000, 50);
      const arrivedMs = rs.clock.monotonicMs() - addedMs;
      t.diagnostic(`request at Bob ${arrivedMs} ms (virtual) after the add`);
      assert.ok(arrivedMs <= 30_000, `arrived after ${arrivedMs} ms`);
      assert.equal(bob.node.requests()[0]?.code, alice.node.code);
      assert.equal(bob.node.requests()[0]?.message, 'hello over the relay');
      assert.ok((rs.relays[0]?.host.stats().bytesRelayed ?? 0) > 0, 'it went through the relay');
      assert.ok(alice.nat.dropped + bob.nat.dropped > 0, 'the NATs did drop the direct dials');
      await bob.node.accept(alice.node.code);
      await rs.until(
        () => alice.store.contacts.get(bob.identity.publicKey)?.state === 'accepted',
        60_000,
        50,
      );
      // Friends now: they meet at the relay as friends do, and a message goes through.
      await rs.until(() => alice.node.isConnected('bob'), 60_000, 50);
      await alice.node.send('bob', 'we are friends');
      await rs.until(
        () => bob.node.messages(alice.node.code).some((m) => m.text === 'we are friends'),
        30_000,
        50,
      );
    } finally {
      await rs.close();
    }
  });

  test('without a relay the request does not arrive (what the relay is for)', async () => {
    const { rs, alice, bob } = await twoStrangers('request-no-relay', 0);
    try {
      await alice.node.addFriend(bob.node.code, { name: 'bob', message: 'hello' });
      await rs.sim.settle(60_000, 100);
      assert.equal(bob.node.requests().length, 0);
    } finally {
      await rs.close();
    }
  });

  test('a request that arrives directly stops the recipient waiting at the relay for it', async () => {
    const { rs, alice, bob } = await twoStrangers('request-direct', 1, 'open');
    try {
      await alice.node.addFriend(bob.node.code, { name: 'bob', message: 'hello directly' });
      await rs.until(() => bob.node.requests().length === 1, 60_000, 50);
      const joinsAtArrival = rs.relays[0]?.host.stats().joins ?? 0;
      // Both windows are 3 minutes, a join every 20 s: Alice's ends with Bob's acknowledgement, Bob's with the
      // request's arrival (else ~9 more joins of his).
      await rs.sim.settle(3 * 60_000, 100);
      const joins = (rs.relays[0]?.host.stats().joins ?? 0) - joinsAtArrival;
      console.log(`# joins after arrival: ${joins}`);
      assert.ok(joins <= 2, `${joins} joins after the request arrived`);
      assert.equal(bob.node.requests()[0]?.message, 'hello directly');
    } finally {
      await rs.close();
    }
  });
});
