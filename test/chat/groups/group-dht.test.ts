/**
 * Groups with a DHT (memory network, virtual time): five members, two away during a burst of 50 messages; one
 * comes back while others are online (sessions), the other only when nobody is (the group's DHT mailbox).
 * Everyone ends with the same 50 messages in the same order.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { befriend, ChatSim, type ChatUser } from '../session/chat-harness.ts';

let sims: ChatSim[] = [];
afterEach(() => {
  for (const s of sims) s.close();
  sims = [];
});

const texts = (user: ChatUser, group: string): string[] =>
  user.node.groups.messages(group).map((m) => m.text);

describe('groups and the DHT mailbox', { timeout: 600_000 }, () => {
  test('5 members, 2 away during a burst of 50: one catches up from members, one from the DHT alone', async () => {
    const sim = new ChatSim('groups-dht');
    sims.push(sim);
    await sim.startDht(10);
    const [alice, bob, carol, dave, eve] = ['alice', 'bob', 'carol', 'dave', 'eve'].map((name, i) =>
      sim.user(name, i + 1),
    ) as [ChatUser, ChatUser, ChatUser, ChatUser, ChatUser];
    const everyone = [alice, bob, carol, dave, eve];
    await sim.startAll();
    for (const friend of [bob, carol, dave, eve]) await befriend(sim, alice, friend);
    const group = alice.node.groups.create('five').id;
    for (const member of [bob, carol, dave, eve]) {
      alice.node.groups.invite(group, member.label);
      await sim.until(() => member.node.groups.invites().some((i) => i.group === group), 60_000, 10);
      member.node.groups.accept(group);
    }
    await sim.until(() => everyone.every((u) => u.node.groups.list()[0]?.members === 5), 60_000, 10);
    await sim.until(
      () => everyone.every((u) => u.node.groups.members(group).every((m) => m.isOnline)),
      60_000,
      10,
    );

    sim.stop(dave);
    sim.stop(eve);
    const writers = [alice, bob, carol];
    for (let i = 0; i < 50; i++) {
      (writers[i % 3] as ChatUser).node.groups.send(group, `burst ${i}`);
      if (i % 7 === 0) await sim.sim.settle(20, 5); // some messages see others, some are concurrent
    }
    await sim.until(() => writers.every((u) => texts(u, group).length === 50), 60_000, 10);
    const order = texts(alice, group);
    assert.deepEqual(texts(bob, group), order);
    assert.deepEqual(texts(carol, group), order);
    // Dave and Eve lack them: each writer files its own in the DHT, and its record lists the bundles.
    await sim.until(
      () =>
        writers.every(
          (u) =>
            u.store.groupBundles.list(Buffer.from(group, 'hex')).filter((b) => b.putCount > 0).length > 0,
        ),
      120_000,
      20,
    );
    await sim.sim.settle(30_000, 20);
    const stored = alice.node.groups.messages(group).filter((m) => m.from === alice.node.code);
    assert.ok(
      stored.every((m) => m.state === 'sent'),
      'in the DHT, not delivered to everyone',
    );

    // Dave comes back while the writers are online: the sessions bring him everything.
    await sim.restart(dave);
    await sim.startUser(dave);
    await sim.until(() => texts(dave, group).length === 50, 120_000, 10);
    assert.deepEqual(texts(dave, group), order);

    // Everyone but Eve leaves; Eve comes back to an empty network: the DHT mailbox alone.
    for (const u of [alice, bob, carol, dave]) sim.stop(u);
    await sim.restart(eve);
    await sim.startUser(eve);
    await sim.until(() => texts(eve, group).length === 50, 300_000, 50);
    assert.deepEqual(texts(eve, group), order);
    assert.equal(
      eve.node.groups.members(group).filter((m) => m.isOnline).length,
      1,
      'nobody else was online',
    );
  });
});
