/**
 * Friend requests on one LAN (src/chat/local-discovery.ts): the requester multicasts its pending requests' topics
 * as BEP 14 announces; the recipient dials back an announce that names its own topic. Virtual time; the LAN is the
 * list of announces sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HOUR_EPOCH_MS } from '../../src/chat/index.ts';
import { LOCAL_DISCOVERY_TIMING, LocalDiscovery } from '../../src/chat/local-discovery.ts';
import { requestTopic } from '../../src/chat/request-topic.ts';
import type { UdpAddress } from '../../src/runtime/index.ts';
import { decodeLsdAnnounce, encodeLsdAnnounce } from '../../src/wire/index.ts';
import { ServicesWorld, type User } from './services/services-harness.ts';

const ALICE_LAN = '192.168.7.10';
const ALICE_PORT = 40_123;

/** Moves the clock to the start of the next hour when fewer than `neededMs` are left in this one. */
function clearOfHourBoundary(world: ServicesWorld, neededMs: number): void {
  const intoHourMs = world.net.clock.wallMs() % HOUR_EPOCH_MS;
  if (intoHourMs > HOUR_EPOCH_MS - neededMs) world.net.clock.advance(HOUR_EPOCH_MS - intoHourMs + 1000);
}

function discoveryOf(world: ServicesWorld, user: User, lan: Buffer[], found: UdpAddress[], port = 50_000) {
  return new LocalDiscovery({
    identity: user.identity,
    store: user.store,
    clock: world.net.clock,
    random: user.random,
    send: (message) => lan.push(message),
    port: () => port,
    onRequester: (endpoint) => found.push(endpoint),
  });
}

describe('friend requests on the LAN (BEP 14 announces)', () => {
  let world: ServicesWorld;
  let alice: User;
  let bob: User;
  let carol: User;

  before(async () => {
    world = await ServicesWorld.create('local-discovery');
    alice = await world.addUser('alice');
    bob = await world.addUser('bob');
    carol = await world.addUser('carol');
  });
  after(() => world.close());

  test("Alice's request reaches Bob's daemon on the LAN: he dials her back at the announce's source and port", () => {
    clearOfHourBoundary(world, 5 * 60_000);
    const lan: Buffer[] = [];
    const aliceSide = discoveryOf(world, alice, lan, [], ALICE_PORT);
    aliceSide.start();
    world.net.clock.advance(1);
    assert.equal(lan.length, 0, 'nothing to announce without a pending request');
    alice.store.requests.saveOutgoing(bob.pk, 'hi Bob');
    aliceSide.requestAdded();
    world.net.clock.advance(1);
    assert.equal(lan.length, 1);
    const announce = decodeLsdAnnounce(lan[0] as Buffer);
    assert.equal(announce?.port, ALICE_PORT);
    assert.deepEqual(announce?.infohashes, [
      requestTopic(bob.pk, Math.floor(world.net.clock.wallMs() / HOUR_EPOCH_MS)),
    ]);

    const foundByBob: UdpAddress[] = [];
    const bobSide = discoveryOf(world, bob, [], foundByBob);
    const foundByCarol: UdpAddress[] = [];
    const carolSide = discoveryOf(world, carol, [], foundByCarol);
    const from = { host: ALICE_LAN, port: 6771 };
    bobSide.handle(lan[0] as Buffer, from);
    carolSide.handle(lan[0] as Buffer, from);
    assert.deepEqual(foundByBob, [{ host: ALICE_LAN, port: ALICE_PORT }]);
    assert.deepEqual(foundByCarol, [], 'not her topic');
    // Heard again at once: not dialled again before redialMs.
    world.net.clock.advance(2000);
    bobSide.handle(lan[0] as Buffer, from);
    assert.equal(foundByBob.length, 1);
    world.net.clock.advance(LOCAL_DISCOVERY_TIMING.redialMs);
    bobSide.handle(lan[0] as Buffer, from);
    assert.equal(foundByBob.length, 2);
    aliceSide.close();
    bobSide.close();
    carolSide.close();
  });

  test('announces: at once on an add, every announceFastMs for fastForMs, then every announceSlowMs; none once acknowledged', () => {
    clearOfHourBoundary(world, 40 * 60_000);
    const lan: Buffer[] = [];
    let isAcknowledged = false;
    const side = new LocalDiscovery({
      identity: carol.identity,
      store: carol.store,
      clock: world.net.clock,
      random: carol.random,
      send: (message) => lan.push(message),
      port: () => 1234,
      needsAnnouncing: () => !isAcknowledged,
      onRequester: () => {},
    });
    side.start();
    carol.store.requests.saveOutgoing(alice.pk, 'hi Alice');
    side.requestAdded();
    world.net.clock.advance(1);
    assert.equal(lan.length, 1);
    world.net.clock.advance(LOCAL_DISCOVERY_TIMING.fastForMs);
    const fast = LOCAL_DISCOVERY_TIMING.fastForMs / LOCAL_DISCOVERY_TIMING.announceFastMs;
    assert.ok(lan.length >= fast && lan.length <= fast + 2, `fast announces: ${lan.length}`);
    const before = lan.length;
    world.net.clock.advance(3 * LOCAL_DISCOVERY_TIMING.announceSlowMs);
    assert.ok(lan.length - before >= 2 && lan.length - before <= 3, `slow announces: ${lan.length - before}`);
    isAcknowledged = true;
    const acknowledgedAt = lan.length;
    world.net.clock.advance(3 * LOCAL_DISCOVERY_TIMING.announceSlowMs);
    assert.ok(lan.length - acknowledgedAt <= 1, 'an acknowledged request is no longer announced');
    side.close();
  });

  test('a stranger on the LAN gets few dials: the hourly cap holds whatever it sends', () => {
    clearOfHourBoundary(world, 15 * 60_000);
    const found: UdpAddress[] = [];
    const bobSide = discoveryOf(world, bob, [], found);
    const hour = Math.floor(world.net.clock.wallMs() / HOUR_EPOCH_MS);
    let sent = 0;
    for (let i = 0; i < 500; i++) {
      world.net.clock.advance(1100);
      const message = encodeLsdAnnounce({ port: 1000 + i, infohashes: [requestTopic(bob.pk, hour)] });
      bobSide.handle(message, { host: `192.168.7.${20 + (i % 200)}`, port: 6771 });
      sent++;
    }
    assert.equal(sent, 500);
    assert.equal(found.length, LOCAL_DISCOVERY_TIMING.dialsPerHour, 'the hourly cap, reached and held');
    assert.ok(found.length >= 1);
    // Garbage never throws.
    bobSide.handle(Buffer.from('not an announce'), { host: '192.168.7.99', port: 6771 });
    bobSide.close();
  });
});
