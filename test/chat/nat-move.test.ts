/**
 * A user moves to another NAT (issue 11 §9) while in session with a friend behind a port-restricted NAT, on an
 * Internet with no introducers (test/chat/nat-world.ts). Her socket stays (RoamingTransport); the daemon notices
 * through its interface watch (networkChanged) or, without it, through the DHT's reports of a new public
 * address. Measured in virtual time: from noticing to the session being back; messages she queued meanwhile
 * arrive once, in order.
 *
 *   before:  alice 192.168.1.x ── NAT 10.200.1.1 ──┐
 *                                                    Internet ── NAT 10.200.2.1 ── bob
 *   after:   alice 192.168.3.x ── NAT 10.200.3.1 ──┘
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NAT_KINDS } from '../../sim/nat.ts';
import { NatWorld } from './nat-world.ts';

async function inSession(seed: string) {
  const world = await NatWorld.create(seed);
  const alice = await world.addUser('alice', world.nat(NAT_KINDS.portRestricted));
  const bob = await world.addUser('bob', world.nat(NAT_KINDS.portRestricted));
  const cafe = world.nat(NAT_KINDS.portRestricted);
  world.befriend(alice, bob);
  await world.start(alice, bob);
  await world.until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'), 30_000);
  await world.sim.settle(20_000, 20); // settled: polls back off, the session is idle
  return { world, alice, bob, cafe };
}

describe('moves (simulated NATs, no introducers)', { timeout: 300_000 }, () => {
  test('told by the interface watch: back in session within 5 s; queued messages arrive once, in order', async () => {
    const { world, alice, bob, cafe } = await inSession('move-told');
    try {
      world.moveTo(alice, cafe);
      const queued: { id: string }[] = [];
      for (const text of ['one', 'two', 'three']) queued.push(await alice.node.send('bob', text));
      await world.sim.settle(1000, 20); // the interface watch polls
      alice.node.networkChanged();
      const noticedMs = world.sim.clock.monotonicMs();
      await world.until(() => {
        const session = bob.node.sessionInfo('alice');
        return session?.remote.host === cafe.publicHost && alice.node.isConnected('bob');
      }, 30_000);
      const backMs = world.sim.clock.monotonicMs() - noticedMs;
      await world.until(
        () =>
          queued.every((q) => alice.node.messages('bob').find((m) => m.id === q.id)?.state === 'delivered'),
        30_000,
      );
      const texts = bob.node.messages('alice').map((m) => m.text);
      assert.deepEqual(texts, ['one', 'two', 'three'], 'each once, in order');
      assert.ok(backMs <= 5000, `back in session ${backMs} ms after noticing`);
    } finally {
      world.close();
    }
  });

  test('noticed by the DHT alone: a new public address in the nodes’ answers; back in session', async () => {
    const { world, alice, bob, cafe } = await inSession('move-dht');
    try {
      const movedAtMs = world.sim.clock.monotonicMs();
      world.moveTo(alice, cafe);
      await alice.node.send('bob', 'after the move');
      await world.until(() => bob.node.sessionInfo('alice')?.remote.host === cafe.publicHost, 60_000);
      const backMs = world.sim.clock.monotonicMs() - movedAtMs;
      await world.until(
        () => alice.node.messages('bob')[0]?.state === 'delivered' && alice.node.isConnected('bob'),
        30_000,
      );
      assert.deepEqual(
        bob.node.messages('alice').map((m) => m.text),
        ['after the move'],
      );
      assert.ok(backMs <= 30_000, `back in session ${backMs} ms after the move`);
    } finally {
      world.close();
    }
  });
});
