import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { derivePairSecret, openOffline, parseHead } from '../../../src/chat/index.ts';
import { pendingInOrder } from '../../../src/chat/mailbox-state.ts';
import { ServicesWorld, type User } from './services-harness.ts';

describe('offline mailbox: no prekey yet, several bundles, a stranger', () => {
  let world: ServicesWorld;
  let alice: User;
  let bob: User;
  let carol: User;

  before(async () => {
    world = await ServicesWorld.create('offline-mailbox-static');
    alice = await world.addUser('alice');
    bob = await world.addUser('bob');
    carol = await world.addUser('carol');
    world.befriend(alice, bob);
    world.befriend(alice, carol);
  });
  after(() => world.close());

  test('70 messages to a friend who never published: two bundles sealed to his static key, all arrive in order', async () => {
    const { net } = world;
    world.goAway(bob); // Bob has never published a record: Alice knows no prekey of his.
    const texts = Array.from({ length: 70 }, (_, i) => `message ${i + 1}`);
    for (const text of texts) alice.store.messages.enqueue(bob.pk, text);
    const stored = await net.run(alice.mailbox.storeFor(bob.pk));
    assert.equal(stored.length, 70);
    const bundles = pendingInOrder(alice.store, bob.pk);
    assert.deepEqual(
      bundles.map((b) => b.messageIds.length),
      [64, 6],
    );
    await net.run(alice.rendezvous.publishNow(bob.pk));

    // Carol, Alice's friend too, fetches the items: without Alice and Bob's pair secret she opens nothing.
    const head = bundles[0]?.headTarget as Buffer;
    const item = await net.run(carol.sim.node.get(head));
    assert.ok(item, 'the head is in the DHT');
    const parsed = parseHead(head, item.v);
    assert.ok(parsed.ok);
    const tails = await net.run(Promise.all(parsed.tailTargets.map((t) => carol.sim.node.get(t))));
    const carolSecret = derivePairSecret(carol.identity, alice.pk);
    assert.ok(carolSecret.ok);
    const asCarol = openOffline(
      { pairSecret: carolSecret.secret, senderPk: alice.pk, recipientPk: carol.pk },
      [carol.identity.x25519],
      head,
      item.v,
      tails.map((t) => t?.v ?? Buffer.alloc(0)),
    );
    assert.deepEqual(asCarol, { ok: false, code: 'CHAT_OFFLINE_DECRYPT_FAILED' });

    world.goAway(alice);
    await world.bringOnline(bob);
    await net.run(Promise.all([bob.rendezvous.start(), bob.mailbox.start()]));
    await net.run(bob.mailbox.whenIdle());
    const received = bob.store.messages.list(alice.pk, { limit: 100 });
    assert.deepEqual(
      received.map((m) => m.text),
      texts,
    );
    // Opened with the static key, not a prekey: nothing to rotate (Bob's first prekey is still the only one).
    assert.equal(bob.store.prekeys.list(alice.pk).length, 1);
    assert.equal(bob.store.offline.ackedHeads(alice.pk).length, 2);

    await world.bringOnline(alice);
    await net.run(Promise.all([alice.rendezvous.start(), alice.mailbox.start()]));
    await net.run(alice.mailbox.whenIdle());
    const states = new Set(alice.store.messages.list(bob.pk, { limit: 100 }).map((m) => m.state));
    assert.deepEqual([...states], ['delivered']);
  });
  test('twelve separate hand-offs never list more than 10 bundles: they are re-sealed together', async () => {
    const { net } = world;
    world.goAway(bob);
    const texts = Array.from({ length: 12 }, (_, i) => `later ${i + 1}`);
    for (const text of texts) {
      net.clock.advance(1000);
      alice.store.messages.enqueue(bob.pk, text);
      await net.run(alice.mailbox.storeFor(bob.pk));
      assert.ok(alice.store.offline.pending(bob.pk).length <= 10);
    }
    const pending = pendingInOrder(alice.store, bob.pk);
    assert.equal(pending.flatMap((b) => b.messageIds).length, 12, 'every message is in exactly one bundle');
    assert.ok(pending.every((b) => b.putCount > 0));
    assert.deepEqual(new Set(alice.store.messages.outbox(bob.pk).map((m) => m.state)), new Set(['stored']));

    world.goAway(alice);
    await world.bringOnline(bob);
    await net.run(Promise.all([bob.rendezvous.start(), bob.mailbox.start()]));
    await net.run(bob.mailbox.whenIdle());
    const received = bob.store.messages.list(alice.pk, { limit: 12 });
    assert.deepEqual(
      received.map((m) => m.text),
      texts,
    );
    await world.bringOnline(alice);
    await net.run(Promise.all([alice.rendezvous.start(), alice.mailbox.start()]));
    await net.run(alice.mailbox.whenIdle());
    assert.deepEqual(alice.store.messages.outbox(bob.pk), []);
    assert.deepEqual(alice.store.offline.pending(bob.pk), []);
  });
});
