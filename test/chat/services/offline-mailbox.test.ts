import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dayEpoch, derivePairSecret, sealOffline, sealRecord } from '../../../src/chat/index.ts';
import { decodeOfflineBody, encodeOfflineBody } from '../../../src/chat/offline-body.ts';
import { OFFLINE_REPUT_MS } from '../../../src/chat/offline-mailbox.ts';
import { ServicesWorld, type User } from './services-harness.ts';

describe('offline mailbox on a 10-node in-memory DHT', () => {
  let world: ServicesWorld;
  let alice: User;
  let bob: User;

  before(async () => {
    world = await ServicesWorld.create('offline-mailbox');
    alice = await world.addUser('alice');
    bob = await world.addUser('bob');
    world.befriend(alice, bob);
  });
  after(() => world.close());

  test('5 messages wait in the DHT for Bob, arrive in order with Alice away, and end up delivered', async (t) => {
    const { net } = world;
    // Both online: each publishes, and Alice learns Bob's prekey from his record.
    await net.run(Promise.all([alice.rendezvous.start(), bob.rendezvous.start()]));
    await net.run(alice.rendezvous.refreshNow(bob.pk));
    const bobPrekeyBefore = bob.store.prekeys.current(alice.pk);
    assert.ok(bobPrekeyBefore);

    // Bob goes away. Alice writes 5 messages; the session layer cannot reach Bob and hands them to the mailbox.
    world.goAway(bob);
    const texts = ['one', 'two', 'three', 'four', 'five ✓'];
    const ids = texts.map((text) => {
      net.clock.advance(1000);
      return alice.store.messages.enqueue(bob.pk, text).id;
    });
    const stored = await net.run(alice.mailbox.storeFor(bob.pk));
    assert.deepEqual(
      stored.map((id) => id.toString('hex')),
      ids.map((id) => id.toString('hex')),
    );
    for (const id of ids) assert.equal(alice.store.messages.get(id)?.state, 'stored');
    const bundles = alice.store.offline.pending(bob.pk);
    assert.equal(bundles.length, 1);
    assert.equal(bundles[0]?.putCount, 1);
    assert.deepEqual(alice.events, [{ kind: 'stored', ids: ids.map((id) => id.toString('hex')) }]);
    // Nothing new to seal: a second call puts nothing.
    assert.deepEqual(await net.run(alice.mailbox.storeFor(bob.pk)), []);

    // Alice goes away; Bob comes back on a new address and finds everything in the DHT.
    world.goAway(alice);
    net.clock.advance(10 * 60_000);
    await world.bringOnline(bob);
    const startMs = net.clock.monotonicMs();
    await net.run(Promise.all([bob.rendezvous.start(), bob.mailbox.start()]));
    await net.run(bob.mailbox.whenIdle());
    // Virtual time (5 ms links) from services start to messages stored and acked: about ten lookups' worth.
    t.diagnostic(`offline fetch: ${net.clock.monotonicMs() - startMs} virtual ms after start`);
    const received = bob.store.messages.list(alice.pk);
    assert.deepEqual(
      received.map((m) => m.text),
      texts,
    );
    assert.deepEqual(
      received.map((m) => m.id.toString('hex')),
      ids.map((id) => id.toString('hex')),
    );
    assert.ok(received.every((m) => m.via === 'offline' && m.direction === 'incoming'));
    assert.equal(bob.events.filter((e) => e.kind === 'messages').length, 1);
    assert.ok(bob.store.offline.hasFetched(bundles[0]?.headTarget as Buffer));
    // The blob was sealed to Bob's current prekey: he rotated it (and kept the old one as previous).
    const prekeys = bob.store.prekeys.list(alice.pk);
    assert.equal(prekeys.length, 2);
    assert.ok(!prekeys[0]?.secret.equals(bobPrekeyBefore.secret));
    assert.ok(prekeys[1]?.secret.equals(bobPrekeyBefore.secret));

    // A second look at Alice's (unchanged) record stores nothing twice.
    await net.run(bob.rendezvous.refreshNow(alice.pk));
    await net.run(bob.mailbox.whenIdle());
    assert.equal(bob.store.messages.count(alice.pk), 5);

    // Alice comes back: Bob's record acknowledges the bundle, her messages become delivered.
    net.clock.advance(10 * 60_000);
    await world.bringOnline(alice);
    await net.run(Promise.all([alice.rendezvous.start(), alice.mailbox.start()]));
    await net.run(alice.mailbox.whenIdle());
    for (const id of ids) assert.equal(alice.store.messages.get(id)?.state, 'delivered');
    assert.deepEqual(alice.store.offline.pending(bob.pk), []);
    assert.deepEqual(alice.events.at(-1), { kind: 'delivered', ids: ids.map((id) => id.toString('hex')) });
  });

  test('unacknowledged bundles and records are re-put hourly while the friend stays away', async () => {
    const { net } = world;
    const dave = await world.addUser('dave');
    const erin = await world.addUser('erin');
    world.befriend(dave, erin);
    await net.run(Promise.all([dave.rendezvous.start(), dave.mailbox.start()]));
    world.goAway(erin);
    dave.store.messages.enqueue(erin.pk, 'are you there?');
    assert.equal((await net.run(dave.mailbox.storeFor(erin.pk))).length, 1);
    const epoch = dayEpoch(net.clock.wallMs());
    const seqBefore = dave.store.recordSeqs.lastOwnSeq(erin.pk, epoch) ?? -1;
    assert.equal(dave.store.offline.pending(erin.pk)[0]?.putCount, 1);
    await net.settle(OFFLINE_REPUT_MS + 30_000, 500);
    await net.run(dave.mailbox.whenIdle());
    assert.equal(dave.store.offline.pending(erin.pk)[0]?.putCount, 2, 're-put once, an hour later');
    if (dayEpoch(net.clock.wallMs()) === epoch) {
      assert.ok((dave.store.recordSeqs.lastOwnSeq(erin.pk, epoch) ?? -1) > seqBefore, 'record republished');
    }
    // Dave restarts: the bundle is put again at start, from the store (no re-sealing).
    world.goAway(dave);
    await world.bringOnline(dave);
    await net.run(Promise.all([dave.rendezvous.start(), dave.mailbox.start()]));
    assert.equal(dave.store.offline.pending(erin.pk)[0]?.putCount, 3);
  });

  test('a record listing bogus heads (missing, not an offline part, forged) stores nothing and throws nothing', async () => {
    const { net } = world;
    const frank = await world.addUser('frank');
    const gina = await world.addUser('gina');
    world.befriend(frank, gina);
    // Items that exist but are not offline parts, and a head sealed for someone else (Gina cannot open it).
    const notAPart = await net.run(frank.sim.node.putImmutable(Buffer.from('just a string')));
    const otherSecret = derivePairSecret(frank.identity, alice.pk);
    assert.ok(otherSecret.ok);
    const forged = sealOffline(
      { pairSecret: otherSecret.secret, senderPk: frank.pk, recipientPk: gina.pk },
      gina.identity.x25519.publicKey,
      [{ id: Buffer.alloc(16, 1), body: encodeOfflineBody({ text: 'nope', createdMs: 1, seq: 1 }) }],
      frank.random,
    );
    for (const part of forged.parts) await net.run(frank.sim.node.putImmutable(part.v));
    const missing = Buffer.alloc(20, 0xee);
    // Frank publishes, by hand, a record for Gina that lists all three.
    const epoch = dayEpoch(net.clock.wallMs());
    const secret = derivePairSecret(frank.identity, gina.pk);
    assert.ok(secret.ok);
    const sealed = sealRecord(
      { pairSecret: secret.secret, authorPk: frank.pk, readerPk: gina.pk, epoch },
      {
        timestampMs: net.clock.wallMs(),
        endpoints: [],
        introducers: [],
        pendingOffline: [notAPart.target, forged.headTarget, missing],
        ackedOffline: [],
      },
      frank.random,
    );
    const seq = frank.store.recordSeqs.nextOwnSeq(gina.pk, epoch);
    await net.run(
      frank.sim.node.putMutable({ keyPair: sealed.key.keyPair, salt: sealed.key.salt, v: sealed.v, seq }),
    );
    await net.run(gina.rendezvous.refreshNow(frank.pk));
    await net.run(gina.mailbox.whenIdle());
    assert.equal(gina.rendezvous.latestRecord(frank.pk)?.pendingOffline.length, 3, 'Gina read the record');
    assert.equal(gina.store.messages.count(frank.pk), 0);
    assert.deepEqual(gina.store.offline.ackedHeads(frank.pk), []);
    assert.deepEqual(gina.events, []);
  });

  test('a bundle whose items no node stored stays queued and is not listed', async () => {
    const { net } = world;
    const lonely = await world.addUser('lonely');
    world.befriend(lonely, bob);
    // Cut every DHT node off: puts reach nobody.
    for (const n of net.nodes) if (n !== lonely.sim) n.node.close();
    const id = lonely.store.messages.enqueue(bob.pk, 'anyone?').id;
    const stored = await net.run(lonely.mailbox.storeFor(bob.pk), 600_000);
    assert.deepEqual(stored, []);
    assert.equal(lonely.store.messages.get(id)?.state, 'queued');
    const [bundle] = lonely.store.offline.pending(bob.pk);
    assert.equal(bundle?.putCount, 0, 'saved, to be re-put, but never listed');
  });

  test('offline bodies round-trip and malformed ones are refused', () => {
    const body = encodeOfflineBody({ text: 'héllo', createdMs: 1234, seq: 7 });
    assert.deepEqual(decodeOfflineBody(body), { text: 'héllo', createdMs: 1234, senderSeq: 7 });
    assert.equal(decodeOfflineBody(Buffer.from('garbage')), undefined);
    assert.equal(decodeOfflineBody(Buffer.from('d1:ci1e1:si1e1:t2:\xff\xfee', 'latin1')), undefined);
    assert.equal(decodeOfflineBody(Buffer.from('d1:ci-1e1:si1e1:t1:ae')), undefined);
  });
});
