import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HOUR_EPOCH_MS, hourEpoch } from '../../../src/chat/index.ts';
import { REQUEST_BEACON_TIMING, RequestBeacon } from '../../../src/chat/request-beacon.ts';
import type { UdpAddress } from '../../../src/runtime/index.ts';
import { ServicesWorld, type User } from './services-harness.ts';

function beaconFor(world: ServicesWorld, user: User, found: UdpAddress[] = []): RequestBeacon {
  return new RequestBeacon({
    identity: user.identity,
    store: user.store,
    dht: user.sim.node,
    clock: world.net.clock,
    random: user.random,
    port: () => user.sim.address.port,
    localEndpoints: () => [user.sim.address],
    onRequester: (endpoint) => found.push(endpoint),
  });
}

describe('friend-request beacon on a 10-node in-memory DHT', () => {
  let world: ServicesWorld;
  let alice: User;
  let bob: User;
  let carol: User;

  before(async () => {
    world = await ServicesWorld.create('request-beacon');
    alice = await world.addUser('alice');
    bob = await world.addUser('bob');
    carol = await world.addUser('carol');
  });
  after(() => world.close());

  test('a request announced by Alice is found by Bob’s poll, once per repeat window', async () => {
    const { net } = world;
    // Keep clear of an hour boundary so the announce and both polls see the same hour.
    const intoHourMs = net.clock.wallMs() % HOUR_EPOCH_MS;
    if (intoHourMs > HOUR_EPOCH_MS - 20 * 60_000) net.clock.advance(HOUR_EPOCH_MS - intoHourMs + 60_000);
    alice.store.requests.saveOutgoing(bob.pk, 'hi Bob, it is Alice');
    const aliceBeacon = beaconFor(world, alice);
    assert.equal(await net.run(aliceBeacon.announceNow()), 1);
    assert.equal(alice.store.requests.get(bob.pk, 'outgoing')?.attempts, 1);

    const found: UdpAddress[] = [];
    const bobBeacon = beaconFor(world, bob, found);
    const polled = await net.run(bobBeacon.pollNow());
    assert.deepEqual(polled, [alice.sim.address]);
    assert.deepEqual(found, [alice.sim.address]);
    // Reported again only after the repeat window.
    assert.deepEqual(await net.run(bobBeacon.pollNow()), []);
    // Carol's topic is a different one: she sees nothing.
    assert.deepEqual(await net.run(beaconFor(world, carol).pollNow()), []);
    net.clock.advance(REQUEST_BEACON_TIMING.repeatAfterMs);
    assert.deepEqual(await net.run(bobBeacon.pollNow()), [alice.sim.address]);
    aliceBeacon.close();
    bobBeacon.close();
  });

  test('a poll still running when the beacon closes reports nothing (the store may be closed by then)', async () => {
    const { net } = world;
    const intoHourMs = net.clock.wallMs() % HOUR_EPOCH_MS;
    if (intoHourMs > HOUR_EPOCH_MS - 20 * 60_000) net.clock.advance(HOUR_EPOCH_MS - intoHourMs + 60_000);
    const aliceBeacon = beaconFor(world, alice);
    assert.equal(await net.run(aliceBeacon.announceNow()), 1);
    const open: UdpAddress[] = [];
    const closing: UdpAddress[] = [];
    const control = beaconFor(world, bob, open);
    const closed = beaconFor(world, bob, closing);
    const polls = Promise.all([control.pollNow(), closed.pollNow()]);
    closed.close();
    const [fromOpen, fromClosed] = await net.run(polls);
    assert.deepEqual(fromOpen, [alice.sim.address], 'the same poll on an open beacon finds Alice');
    assert.deepEqual(fromClosed, []);
    assert.deepEqual(closing, []);
    aliceBeacon.close();
    control.close();
  });

  test('started beacons announce on the next hour’s topic and poll every minute', async () => {
    const { net } = world;
    carol.store.requests.saveOutgoing(bob.pk, 'hello from Carol');
    const found: UdpAddress[] = [];
    const bobBeacon = beaconFor(world, bob, found);
    const carolBeacon = beaconFor(world, carol);
    // Move to just before an hour boundary: Carol's beacon must re-announce on the new hour's topic.
    const toHourMs = HOUR_EPOCH_MS - (net.clock.wallMs() % HOUR_EPOCH_MS);
    net.clock.advance(toHourMs - 30_000);
    const hourBefore = hourEpoch(net.clock.wallMs());
    carolBeacon.start();
    await net.settle(5_000, 20);
    const attemptsBefore = carol.store.requests.get(bob.pk, 'outgoing')?.attempts ?? 0;
    assert.ok(attemptsBefore >= 1);
    await net.settle(40_000, 50); // Crosses the hour: a second announce.
    assert.equal(hourEpoch(net.clock.wallMs()), hourBefore + 1);
    assert.ok((carol.store.requests.get(bob.pk, 'outgoing')?.attempts ?? 0) > attemptsBefore);
    // Bob's beacon (started in the new hour) finds Carol at once.
    bobBeacon.start();
    await net.settle(5_000, 20);
    assert.ok(found.some((a) => a.host === carol.sim.address.host));
    const afterFirst = found.length;
    // Offline: no polling.
    bobBeacon.setOnline(false);
    net.clock.advance(REQUEST_BEACON_TIMING.repeatAfterMs);
    await net.settle(2 * REQUEST_BEACON_TIMING.pollEveryMs, 200);
    assert.equal(found.length, afterFirst);
    // Online again: polls resume and report Carol again (the repeat window has passed).
    bobBeacon.setOnline(true);
    await net.settle(5_000, 20);
    assert.ok(found.length > afterFirst);
    carolBeacon.close();
    bobBeacon.close();
  });
});
