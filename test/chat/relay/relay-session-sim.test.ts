/**
 * Sessions through relays, on virtual time (relay-sim.ts): two friends behind symmetric NATs, a small DHT of
 * plain nodes and volunteer relays announced on it.
 *   - they find a relay on the DHT, both rank the same one first, and meet there: a session, messages both ways,
 *     the path shown as `relayed`, the relay sees only ciphertext;
 *   - the relay dies (kill -9): both move to the next one within seconds, and messages sent meanwhile arrive
 *     once;
 *   - a direct path opens while messages are in flight on the relay: the session moves to it and every message
 *     arrives exactly once, in order.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addressKey } from '../../../src/runtime/index.ts';
import { type NatUser, RelaySim } from './relay-sim.ts';

function texts(user: NatUser, friend: string): string[] {
  return user.node
    .messages(friend)
    .filter((m) => m.from !== user.node.code)
    .map((m) => m.text);
}

function isDirect(path: string | null | undefined): boolean {
  return path === 'direct' || path === 'punched' || path === 'mapped';
}

function allDelivered(user: NatUser, friend: string): boolean {
  return user.node
    .messages(friend)
    .filter((m) => m.from === user.node.code)
    .every((m) => m.state === 'delivered' || m.state === 'read');
}

async function twoFriendsAndRelays(seed: string, relayCount: number) {
  const rs = new RelaySim(seed);
  await rs.startDht(12);
  for (let i = 0; i < relayCount; i++) await rs.addRelay(`10.9.1.${i + 1}`);
  const alice = rs.user('alice', 1, 'symmetric');
  const bob = rs.user('bob', 2, 'symmetric');
  rs.befriend(alice, bob);
  return { rs, alice, bob };
}

describe('relayed sessions (virtual time, symmetric NATs)', { timeout: 180_000 }, () => {
  test('two friends behind symmetric NATs meet at a relay found on the DHT; messages both ways', async () => {
    const { rs, alice, bob } = await twoFriendsAndRelays('relay-meet', 1);
    try {
      const paths: Array<string | null> = [];
      alice.node.on('path', (e) => paths.push(e.path));
      const startMs = rs.clock.monotonicMs();
      await rs.start(alice, bob);
      await rs.until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'), 30_000);
      const tookMs = rs.clock.monotonicMs() - startMs;
      assert.ok(tookMs < 10_000, `session through the relay after ${tookMs} ms`);
      assert.equal(alice.node.sessionInfo('bob')?.path, 'relayed');
      assert.equal(
        addressKey(alice.node.sessionInfo('bob')?.remote ?? { host: '', port: 0 }),
        '10.9.1.1:6881',
      );
      assert.equal(alice.node.contacts()[0]?.path, 'relayed');
      assert.equal(bob.node.pathOf('alice'), 'relayed');
      assert.deepEqual(paths, ['relayed'], 'one path event');
      assert.ok(alice.nat.dropped + bob.nat.dropped > 0, 'the NATs did drop direct dials');
      await alice.node.send('bob', 'hello through the relay');
      await bob.node.send('alice', 'and back');
      await rs.until(() => allDelivered(alice, 'bob') && allDelivered(bob, 'alice'), 10_000);
      assert.deepEqual(texts(bob, 'alice'), ['hello through the relay']);
      assert.deepEqual(texts(alice, 'bob'), ['and back']);
      const stats = rs.relays[0]?.host.stats();
      assert.equal(stats?.pairs, 1);
      assert.ok((stats?.bytesRelayed ?? 0) > 0);
    } finally {
      await rs.close();
    }
  });

  test("a friend who comes later is met within the other side's record poll (at most 5 min)", async () => {
    const { rs, alice, bob } = await twoFriendsAndRelays('relay-later', 1);
    try {
      await rs.start(bob);
      // Bob has been online a while: his start window is over, his poll of Alice's record backed off.
      await rs.sim.settle(7 * 60_000, 50);
      assert.equal(rs.relays[0]?.host.stats().waiting, 0, 'nobody waits at the relay');
      const startMs = rs.clock.monotonicMs();
      await rs.start(alice);
      await rs.until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'), 6 * 60_000, 50);
      const tookMs = rs.clock.monotonicMs() - startMs;
      assert.ok(tookMs <= 5.5 * 60_000, `met after ${tookMs} ms`);
      assert.equal(alice.node.pathOf('bob'), 'relayed');
    } finally {
      await rs.close();
    }
  });

  test('the relay dies: both move to the next one within seconds; messages sent meanwhile arrive once', async () => {
    const { rs, alice, bob } = await twoFriendsAndRelays('relay-dies', 2);
    try {
      await rs.start(alice, bob);
      await rs.until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'), 30_000);
      const first = alice.node.sessionInfo('bob')?.remote;
      assert.ok(first !== undefined);
      assert.equal(
        addressKey(bob.node.sessionInfo('alice')?.remote ?? first),
        addressKey(first),
        'same relay',
      );
      const dying = rs.relays.find((r) => addressKey(r.address) === addressKey(first));
      assert.ok(dying !== undefined);
      dying.kill();
      const killedMs = rs.clock.monotonicMs();
      for (let i = 0; i < 5; i++) await alice.node.send('bob', `during the outage ${i}`);
      await rs.until(
        () =>
          alice.node.sessionInfo('bob')?.remote.host === rs.relays.find((r) => r !== dying)?.address.host &&
          bob.node.isConnected('alice'),
        60_000,
      );
      const movedMs = rs.clock.monotonicMs() - killedMs;
      // Noticed within the relayed keepalive (dead after 15 s of silence), then a join at the next relay.
      assert.ok(movedMs < 25_000, `on the next relay ${movedMs} ms after the kill`);
      await rs.until(() => allDelivered(alice, 'bob'), 20_000);
      assert.deepEqual(
        texts(bob, 'alice'),
        [0, 1, 2, 3, 4].map((i) => `during the outage ${i}`),
      );
    } finally {
      await rs.close();
    }
  });

  test('a direct path opens with messages in flight: the session moves to it, none lost, none twice', async () => {
    const { rs, alice, bob } = await twoFriendsAndRelays('relay-upgrade', 1);
    try {
      await rs.start(alice, bob);
      const paths: Array<string | null> = [];
      alice.node.on('path', (e) => paths.push(e.path));
      await rs.until(
        () => alice.node.sessionInfo('bob')?.path === 'relayed' && bob.node.isConnected('alice'),
        30_000,
      );
      const sent: string[] = [];
      for (let i = 0; i < 40; i++) {
        sent.push(`in flight ${i}`);
        await alice.node.send('bob', `in flight ${i}`);
        await bob.node.send('alice', `reply ${i}`);
        if (i === 15) {
          // Bob's NAT opens (a mapping, or a punch that worked) and Alice learns where: she dials him directly.
          bob.nat.open();
          alice.node.addEndpoints('bob', [bob.nat.openEndpoint]);
        }
        await rs.sim.settle(5, 5);
      }
      // Direct, or `punched` (path.ts reads a session between two NATs as one), never relayed.
      await rs.until(
        () => isDirect(alice.node.sessionInfo('bob')?.path) && isDirect(bob.node.pathOf('alice')),
        30_000,
      );
      assert.ok(isDirect(paths.at(-1)), `the path event says so: ${paths.at(-1)}`);
      await rs.until(() => allDelivered(alice, 'bob') && allDelivered(bob, 'alice'), 30_000);
      assert.deepEqual(texts(bob, 'alice'), sent, 'every message once, in order');
      assert.deepEqual(
        texts(alice, 'bob'),
        sent.map((_, i) => `reply ${i}`),
      );
      await rs.until(() => rs.relays[0]?.host.stats().pairs === 0, 30_000);
    } finally {
      await rs.close();
    }
  });
});
