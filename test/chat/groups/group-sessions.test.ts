/**
 * Groups on the memory network (virtual time, no DHT): invites between friends, members who are not friends
 * reaching each other through what members tell them, fan-out and catch-up over sessions, removal.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { entryHash } from '../../../src/chat/groups/group-entry.ts';
import { ChatSession } from '../../../src/chat/session/session.ts';
import { befriend, ChatSim, type ChatUser, formGroup, startFriends } from '../session/chat-harness.ts';

let sims: ChatSim[] = [];
afterEach(() => {
  for (const s of sims) s.close();
  sims = [];
});

function texts(user: ChatUser, group: string): string[] {
  return user.node.groups.messages(group).map((m) => m.text);
}

/** Alice and Bob, friends, in a group Alice made. */
async function aliceAndBobInAGroup(seed: string) {
  const sim = new ChatSim(seed);
  sims.push(sim);
  const { alice, bob } = await startFriends(sim);
  const group = await formGroup(sim, alice, [bob]);
  return { sim, alice, bob, group };
}

describe('groups over sessions', { timeout: 120_000 }, () => {
  test('invite, accept, talk: members who are not friends reach each other; everyone lists the same order', async () => {
    const sim = new ChatSim('groups-sessions');
    sims.push(sim);
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    const carol = sim.user('carol', 3);
    await sim.startAll();
    await befriend(sim, alice, bob);
    await befriend(sim, alice, carol);
    const group = await formGroup(sim, alice, [bob, carol]);
    assert.equal(bob.node.groups.list()[0]?.name, 'club');
    // Bob and Carol are no friends, yet they hold a session: Alice told each where the other is.
    await sim.until(() => bob.node.groups.members(group).every((m) => m.isOnline), 30_000);
    assert.equal(
      bob.node.contacts().some((c) => c.code === carol.node.code),
      false,
      'still no contact',
    );
    const others = [alice.identity.publicKey, carol.identity.publicKey];
    const keys = bob.node.groups.memberKeys(group);
    assert.equal(keys.length, 2);
    assert.ok(
      keys.every((m) => m.isOnline && others.some((k) => k.equals(m.publicKey))),
      'the others, as keys',
    );

    alice.node.groups.send(group, 'hello everyone');
    bob.node.groups.send(group, 'hi from bob');
    carol.node.groups.send(group, 'carol here');
    await sim.until(() => [alice, bob, carol].every((u) => texts(u, group).length === 3), 30_000);
    const order = texts(alice, group);
    assert.deepEqual(texts(bob, group), order);
    assert.deepEqual(texts(carol, group), order);
    // Delivery states: Alice's message reaches everyone, then is read.
    const first = alice.node.groups.messages(group).find((m) => m.text === 'hello everyone');
    assert.equal(first?.members, 2);
    await sim.until(
      () => alice.node.groups.messages(group).find((m) => m.id === first?.id)?.state === 'delivered',
      30_000,
    );
    bob.node.groups.markRead(group);
    carol.node.groups.markRead(group);
    await sim.until(
      () => alice.node.groups.messages(group).find((m) => m.id === first?.id)?.state === 'read',
      30_000,
    );
  });

  test('a member who was away catches up from whoever is online; a removed member gets nothing after', async () => {
    const sim = new ChatSim('groups-catch-up');
    sims.push(sim);
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    const carol = sim.user('carol', 3);
    await sim.startAll();
    await befriend(sim, alice, bob);
    await befriend(sim, alice, carol);
    const group = await formGroup(sim, alice, [bob, carol]);
    await sim.until(() => bob.node.groups.members(group).every((m) => m.isOnline), 30_000);

    sim.stop(carol);
    for (let i = 0; i < 10; i++) (i % 2 === 0 ? alice : bob).node.groups.send(group, `m${i}`);
    await sim.until(() => texts(bob, group).length === 10 && texts(alice, group).length === 10, 30_000);
    // Alice leaves the network; Carol comes back and gets everything from Bob, who is no friend of hers.
    sim.stop(alice);
    await sim.restart(carol);
    await sim.startUser(carol);
    await sim.until(() => texts(carol, group).length === 10, 60_000);
    assert.deepEqual(texts(carol, group), texts(bob, group));

    await sim.restart(alice);
    await sim.startUser(alice);
    await sim.until(() => alice.node.groups.members(group).filter((m) => m.isOnline).length === 3, 60_000);
    alice.node.groups.remove(group, carol.label);
    await sim.until(
      () => carol.node.groups.list().every((g) => g.id !== group || g.state !== 'member'),
      30_000,
    );
    await sim.until(() => bob.node.groups.members(group).length === 2, 30_000);
    bob.node.groups.send(group, 'after the removal');
    await sim.until(() => texts(alice, group).includes('after the removal'), 30_000);
    await sim.sim.settle(5_000, 20);
    assert.equal(texts(carol, group).includes('after the removal'), false);
    assert.equal(carol.node.groups.messages(group).length, 10, 'Carol keeps what she had');
  });
});

describe('groups: what a member forwards', { timeout: 120_000 }, () => {
  test('a gap is fetched from the sender; a forged or altered entry is refused, whoever forwards it', async () => {
    const sim = new ChatSim('groups-forwarding');
    sims.push(sim);
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    const eve = sim.user('eve', 5);
    await sim.startAll();
    await befriend(sim, alice, bob);
    await befriend(sim, alice, eve);
    const group = await formGroup(sim, alice, [bob, eve]);
    await sim.until(() => bob.node.groups.members(group).every((m) => m.isOnline), 30_000);
    const groupId = Buffer.from(group, 'hex');

    // Alice writes two messages but sends Bob only the second: he holds it, asks her for its parent, stores both.
    const replica = alice.node.groups.replica(groupId);
    assert.ok(replica !== undefined);
    const first = replica.writeMessage('first (never sent on its own)');
    const second = replica.writeMessage('second');
    assert.deepEqual(second.parents, [first.hash]);
    alice.node.groups.sync.toPeer(bob.identity.publicKey, { type: 'entry', groupId, entry: second.bytes });
    await sim.until(() => texts(bob, group).includes('second'), 30_000);
    assert.deepEqual(texts(bob, group).slice(-2), ['first (never sent on its own)', 'second']);

    // Eve forwards an entry under Alice's name that she signed, and Alice's genuine one with its text altered.
    const eveReplica = eve.node.groups.replica(groupId);
    assert.ok(eveReplica !== undefined);
    const genuine = eveReplica.writeMessage('genuine from eve');
    const forged = Buffer.from(genuine.bytes);
    alice.identity.publicKey.copy(forged, 2 + 32); // the author field: Alice, the signature still Eve's
    const altered = Buffer.from(second.bytes);
    altered[altered.length - 80] = (altered[altered.length - 80] as number) ^ 1;
    for (const entry of [forged, altered])
      eve.node.groups.sync.toPeer(bob.identity.publicKey, { type: 'entry', groupId, entry });
    eve.node.groups.sync.toPeer(bob.identity.publicKey, { type: 'entry', groupId, entry: genuine.bytes });
    await sim.until(() => texts(bob, group).includes('genuine from eve'), 30_000);
    assert.equal(bob.store.groups.hasEntry(entryHash(forged)), false, 'never stored');
    assert.equal(
      texts(bob, group).filter((t) => t === 'second').length,
      1,
      'the altered copy is not a second message',
    );
    assert.ok(
      bob.node.groups
        .messages(group)
        .every((m) => m.from !== alice.node.code || m.text !== 'genuine from eve'),
    );
  });
});

describe('groups and friend requests', { timeout: 120_000 }, () => {
  test('a member we asked to be friends dialling us for the group is not taken as having accepted', async () => {
    const sim = new ChatSim('groups-pending-request');
    sims.push(sim);
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    const carol = sim.user('carol', 3);
    await sim.startAll();
    await befriend(sim, alice, bob);
    await befriend(sim, alice, carol);
    const group = await formGroup(sim, alice, [bob, carol]);
    await bob.node.addFriend(carol.node.code, { name: 'carol' });
    // Carol restarts and dials Bob (IK, as a member): Bob's request to her is still only a request.
    await sim.restart(carol);
    await sim.startUser(carol);
    await sim.until(() => bob.node.groups.members(group).every((m) => m.isOnline), 30_000);
    const asked = bob.node.contacts().find((c) => c.code === carol.node.code);
    assert.ok(asked?.request !== undefined, 'still pending, not a friend');
    assert.equal(
      carol.node.contacts().some((c) => c.code === bob.node.code),
      false,
    );
  });
});

describe('groups: leaving', { timeout: 120_000 }, () => {
  test("a member who leaves is gone from the others' lists (the leave reaches them though the leaver syncs no more)", async () => {
    const { sim, alice, bob, group } = await aliceAndBobInAGroup('groups-leave');
    const left: string[] = [];
    alice.node.on('group_member', (e) => {
      if (e.change === 'left') left.push(e.code);
    });
    bob.node.groups.leave(group);
    await sim.until(() => alice.node.groups.members(group).length === 1, 30_000);
    assert.deepEqual(left, [bob.node.code]);
    assert.equal(bob.node.groups.list().find((g) => g.id === group)?.state, 'left');
  });
});

describe('groups: frames lost on the way', { timeout: 120_000 }, () => {
  test('a member whose catch-up frames were lost still catches up while the session stays up (resync)', async () => {
    const { sim, alice, bob, group } = await aliceAndBobInAGroup('groups-resync');
    sim.stop(bob);
    for (let i = 0; i < 6; i++) alice.node.groups.send(group, `m${i}`);
    // Every group frame on any session is lost while Bob comes back (as when the session that carried the
    // heads is replaced a moment later): the greeting on both sides finds nobody.
    const send = ChatSession.prototype.send;
    let isLosing = true;
    ChatSession.prototype.send = function (this: ChatSession, frame) {
      return isLosing && frame.type === 'group' ? true : send.call(this, frame);
    };
    try {
      await sim.restart(bob);
      await sim.startUser(bob);
      await sim.until(() => alice.node.groups.members(group).every((m) => m.isOnline), 30_000);
      await sim.sim.settle(3_000, 20);
    } finally {
      ChatSession.prototype.send = send;
      isLosing = false;
    }
    assert.equal(texts(bob, group).length, 0, 'nothing reached Bob while frames were lost');
    // Nobody writes anything new: only the resync brings Bob the six messages.
    await sim.until(() => texts(bob, group).length === 6, 60_000);
    assert.deepEqual(texts(bob, group), texts(alice, group));
  });
});
