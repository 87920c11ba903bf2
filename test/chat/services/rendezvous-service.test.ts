import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  dayEpoch,
  derivePairSecret,
  openRecord,
  type RendezvousRecord,
  recordKeyFor,
} from '../../../src/chat/index.ts';
import { RENDEZVOUS_TIMING, RendezvousService } from '../../../src/chat/rendezvous-service.ts';
import { POLL_SCHEDULE } from '../../../src/chat/rendezvous-schedule.ts';
import { ServicesWorld, type User } from './services-harness.ts';

describe('rendezvous service on a 10-node in-memory DHT', () => {
  let world: ServicesWorld;
  let alice: User;
  let bob: User;
  let carol: User;

  before(async () => {
    world = await ServicesWorld.create('rendezvous-service');
    alice = await world.addUser('alice');
    bob = await world.addUser('bob');
    carol = await world.addUser('carol');
    world.befriend(alice, bob);
  });
  after(() => world.close());

  test('Alice publishes her record for Bob; Bob fetches and opens it', async () => {
    await world.net.run(alice.rendezvous.publishNow(bob.pk));
    const seen: { record: RendezvousRecord; isNew: boolean }[] = [];
    bob.rendezvous.onRecord((pk, record, info) => {
      if (pk.equals(alice.pk)) seen.push({ record, isNew: info.isNew });
    });
    const record = await world.net.run(bob.rendezvous.refreshNow(alice.pk));
    assert.ok(record, 'Bob found a record');
    assert.deepEqual(
      record.endpoints.map((e) => e.address),
      [alice.sim.address],
    );
    // The DHT's voted external address comes first (and here is the same address): listed once, as public.
    assert.equal(record.endpoints[0]?.kind, alice.sim.node.externalAddress() ? 'public' : 'lan');
    const alicePrekey = alice.store.prekeys.current(bob.pk);
    assert.ok(alicePrekey, 'Alice made a prekey for Bob');
    assert.equal(record.prekey?.length, 32);
    assert.deepEqual(record.pendingOffline, []);
    assert.ok(seen.length >= 1 && seen.every((s) => s.isNew));
    assert.ok(bob.rendezvous.latestRecord(alice.pk)?.timestampMs === record.timestampMs);

    // The same record fetched again is handed out, but no longer as new.
    seen.length = 0;
    await world.net.run(bob.rendezvous.refreshNow(alice.pk));
    assert.ok(seen.length >= 1 && seen.every((s) => !s.isNew));
  });

  test('a republished record has a higher seq and is new again; polling picks it up with back-off', async () => {
    const epoch = dayEpoch(world.net.clock.wallMs());
    const before = alice.store.recordSeqs.lastOwnSeq(bob.pk, epoch) ?? -1;
    await world.net.run(bob.rendezvous.start());
    await world.net.settle(2_000, 20);
    let news = 0;
    bob.rendezvous.onRecord((_pk, _r, info) => {
      if (info.isNew) news++;
    });
    world.net.clock.advance(1000); // A later second: a later seq.
    await world.net.run(alice.rendezvous.publishNow(bob.pk));
    assert.ok((alice.store.recordSeqs.lastOwnSeq(bob.pk, epoch) ?? -1) > before);
    // Bob's first poll is due at most pollFirstMs after his start.
    await world.net.settle(RENDEZVOUS_TIMING.pollFirstMs + 2_000, 20);
    assert.ok(news >= 1, 'Bob’s poll saw the new record');
  });

  test('a friend accepted later is published and polled; a blocked one stops being polled', async () => {
    const { net } = world;
    world.befriend(carol, bob);
    let fromCarol = 0;
    bob.rendezvous.onRecord((pk) => {
      if (pk.equals(carol.pk)) fromCarol++;
    });
    await net.run(carol.rendezvous.friendAccepted(bob.pk));
    await net.run(bob.rendezvous.friendAccepted(carol.pk));
    assert.ok(fromCarol >= 1, 'Bob found Carol’s record at once');
    const afterAccept = fromCarol;
    // Carol is alive (her record is new) and Bob has no session: he reads it on the fast schedule, and hands an
    // unchanged record to the listeners again every unchangedEmitMs.
    await net.settle(POLL_SCHEDULE.unchangedEmitMs + 2 * POLL_SCHEDULE.fastPollMs, 20);
    assert.ok(fromCarol > afterAccept, 'and polls it');
    bob.store.contacts.setState(carol.pk, 'blocked');
    await net.settle(2 * RENDEZVOUS_TIMING.pollFirstMs + 2_000, 50);
    const afterBlock = fromCarol;
    await net.settle(2 * RENDEZVOUS_TIMING.pollMaxMs, 500);
    assert.equal(fromCarol, afterBlock, 'no more polls for a blocked contact');
  });

  test('across midnight: the record put for the next day before it began is found after it began', async () => {
    const { net } = world;
    const DAY_MS = 86_400_000;
    const toMidnightMs = DAY_MS - (net.clock.wallMs() % DAY_MS);
    // Within the 2-hour skew window before midnight, Alice publishes to today's and tomorrow's epochs.
    if (toMidnightMs > 90 * 60_000) net.clock.advance(toMidnightMs - 90 * 60_000);
    const today = dayEpoch(net.clock.wallMs());
    await net.run(alice.rendezvous.publishNow(bob.pk));
    assert.ok(alice.store.recordSeqs.lastOwnSeq(bob.pk, today + 1) !== undefined, 'tomorrow’s record put');
    // Two minutes after midnight (Alice's next republish not due yet), Bob looks: he finds tomorrow's record.
    net.clock.advance(DAY_MS - (net.clock.wallMs() % DAY_MS) + 2 * 60_000);
    await net.settle(1_000, 20);
    const epochs: number[] = [];
    const listener = (pk: Buffer, _r: RendezvousRecord, info: { epoch: number }): void => {
      if (pk.equals(alice.pk)) epochs.push(info.epoch);
    };
    bob.rendezvous.onRecord(listener);
    const record = await net.run(bob.rendezvous.refreshNow(alice.pk));
    assert.ok(record);
    assert.ok(epochs.includes(today + 1), `found in epoch ${today + 1}: ${epochs.join(',')}`);
  });

  test('a friend with a direct session up is not polled; polling starts again when the session ends', async () => {
    const { net } = world;
    const erin = await world.addUser('erin');
    const frank = await world.addUser('frank');
    world.befriend(erin, frank);
    await net.run(erin.rendezvous.publishNow(frank.pk));
    let isConnected = true;
    const watcher = new RendezvousService({
      identity: frank.identity,
      store: frank.store,
      dht: frank.sim.node,
      clock: net.clock,
      random: frank.random,
      localEndpoints: () => [frank.sim.address],
      isConnected: (pk) => isConnected && pk.equals(erin.pk),
      hasDirectSession: (pk) => isConnected && pk.equals(erin.pk),
    });
    let fetched = 0;
    watcher.onRecord((pk) => {
      if (pk.equals(erin.pk)) fetched++;
    });
    try {
      await net.run(watcher.start());
      // One onRecord per epoch found (two near a day boundary): compare counts, not fetches.
      const atStart = fetched;
      assert.ok(atStart >= 1, 'the fetch at start runs (the session may not be up yet)');
      await net.settle(3 * RENDEZVOUS_TIMING.pollMaxMs, 500);
      assert.equal(fetched, atStart, 'no poll while the session is up');
      assert.ok(await net.run(watcher.refreshNow(erin.pk)), 'an explicit fetch still runs');
      const afterRefresh = fetched;
      assert.ok(afterRefresh > atStart);
      isConnected = false;
      watcher.resetBackoff(erin.pk); // what the chat node does when the friend turns away
      await net.settle(RENDEZVOUS_TIMING.pollFirstMs + 2_000, 20);
      assert.ok(fetched > afterRefresh, 'polled again within pollFirstMs of the session ending');
    } finally {
      watcher.close();
    }
  });

  test('a stranger without the pair secret cannot open (or even find) the record', async () => {
    const epoch = dayEpoch(world.net.clock.wallMs());
    const secret = derivePairSecret(alice.identity, bob.pk);
    assert.ok(secret.ok);
    const realKey = recordKeyFor(secret.secret, alice.pk, epoch);
    // Carol somehow learned the target (say she stores it): she can fetch the item...
    const item = await world.net.run(carol.sim.node.get(realKey.target, { salt: realKey.salt }));
    assert.ok(item, 'the record is in the DHT');
    // ...but with her own pair secret with Alice nothing matches, and forcing the real key fails to decrypt.
    const carolSecret = derivePairSecret(carol.identity, alice.pk);
    assert.ok(carolSecret.ok);
    const carolParties = { pairSecret: carolSecret.secret, authorPk: alice.pk, readerPk: carol.pk, epoch };
    assert.deepEqual(openRecord(carolParties, item), { ok: false, code: 'CHAT_RECORD_WRONG_KEY' });
    assert.deepEqual(openRecord(carolParties, item, realKey), {
      ok: false,
      code: 'CHAT_RECORD_DECRYPT_FAILED',
    });
    // Alice is not Carol's friend in the store: Carol's service has nothing of hers to look for.
    const carolKey = recordKeyFor(carolSecret.secret, alice.pk, epoch);
    assert.equal(
      await world.net.run(carol.sim.node.get(carolKey.target, { salt: carolKey.salt })),
      undefined,
    );
  });
});
