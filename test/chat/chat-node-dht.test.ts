/**
 * ChatNodes with real DhtNodes on one MemoryNetwork + ManualClock (a DHT of 10 nodes): a friend request that
 * travels through the DHT (beacon), records, and offline messages through the mailbox.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { ChatSim } from './session/chat-harness.ts';

let sims: ChatSim[] = [];
afterEach(() => {
  for (const s of sims) s.close();
  sims = [];
});

describe('ChatNode with a DHT', { timeout: 120_000 }, () => {
  test('request through the DHT, accept, chat; offline messages wait in the DHT', async () => {
    const sim = new ChatSim('chat-dht');
    sims.push(sim);
    await sim.startDht(10);
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();

    // Alice knows only Bob's code: her request is announced on Bob's topic; Bob's poll finds her and dials back.
    await alice.node.addFriend(bob.node.code, { name: 'bob', message: 'it is alice' });
    await sim.until(() => bob.node.requests().length === 1, 180_000, 20);
    assert.equal(bob.node.requests()[0]?.message, 'it is alice');
    await bob.node.accept(alice.node.code);
    await sim.until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'), 30_000, 10);
    await alice.node.send('bob', 'online hello');
    await sim.until(() => alice.node.messages('bob')[0]?.state === 'delivered', 30_000, 10);

    // Bob goes away; Alice's messages are sealed into the DHT (stored); Alice goes away too.
    sim.stop(bob);
    await sim.until(() => !alice.node.isConnected('bob'), 120_000, 50);
    for (const text of ['one', 'two', 'three']) await alice.node.send('bob', text);
    await sim.until(
      () =>
        alice.node
          .messages('bob')
          .slice(1)
          .every((m) => m.state === 'stored'),
      120_000,
      20,
    );
    // The record that lists the sealed bundle goes out after the parts are stored: give it time before Alice leaves.
    await sim.sim.settle(30_000, 20);
    sim.stop(alice);

    // Bob comes back: the three arrive from the DHT, in order, though Alice is offline.
    await sim.restart(bob);
    await sim.startUser(bob);
    await sim.until(() => bob.node.messages('alice').length === 4, 180_000, 20);
    assert.deepEqual(
      bob.node.messages('alice').map((m) => m.text),
      ['online hello', 'one', 'two', 'three'],
    );
    // Alice's fresh record (no session) shows her as away at Bob's.
    await sim.until(() => bob.node.contacts()[0]?.presence === 'away', 60_000, 20);
    // Alice comes back: her messages show delivered.
    await sim.restart(alice);
    await sim.startUser(alice);
    await sim.until(
      () => alice.node.messages('bob').every((m) => m.state === 'delivered' || m.state === 'read'),
      180_000,
      20,
    );
    assert.equal(bob.node.messages('alice').length, 4);
  });
});
