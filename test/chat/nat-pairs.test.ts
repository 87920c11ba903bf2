/**
 * Two friends behind simulated NATs of each kind, on an Internet whose DHT nodes do not speak dhtchat (as the
 * real, libtorrent DHT): no introducer, no third dhtchat node. What connects them is record-coordinated punching
 * (punch-coordinator.ts) and, when nothing direct can work, the DHT path with fast polls (issue 11 §2, §7).
 * Both daemons start together; Alice sends at once; times are virtual (test/chat/nat-world.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NAT_KINDS, type NatBehaviour } from '../../sim/nat.ts';
import { NatWorld, type NatUser } from './nat-world.ts';

type Kind = keyof typeof NAT_KINDS | 'public';

interface Outcome {
  readonly world: NatWorld;
  readonly alice: NatUser;
  readonly bob: NatUser;
  /** Virtual ms from both ready to Alice's message delivered (acknowledged). */
  readonly deliveredMs: number;
  /** The `path` events Alice emitted about Bob, in order. */
  readonly alicePaths: (string | null)[];
}

async function pair(seed: string, kindA: Kind, kindB: Kind, maxMs: number): Promise<Outcome> {
  const world = await NatWorld.create(seed);
  const natOf = (kind: Kind) => (kind === 'public' ? undefined : world.nat(NAT_KINDS[kind] as NatBehaviour));
  const alice = await world.addUser('alice', natOf(kindA));
  const bob = await world.addUser('bob', natOf(kindB));
  world.befriend(alice, bob);
  const alicePaths: (string | null)[] = [];
  alice.node.on('path', (e) => {
    if (e.code === bob.node.code) alicePaths.push(e.path);
  });
  await world.start(alice, bob);
  const sent = await alice.node.send('bob', 'hello through the NATs');
  const deliveredMs = await world.until(
    () => alice.node.messages('bob').find((m) => m.id === sent.id)?.state === 'delivered',
    maxMs,
  );
  assert.equal(bob.node.messages('alice').filter((m) => m.text === 'hello through the NATs').length, 1);
  return { world, alice, bob, deliveredMs, alicePaths };
}

describe('record-coordinated punching, no introducers (simulated NATs)', { timeout: 300_000 }, () => {
  for (const [a, b, path] of [
    ['portRestricted', 'portRestricted', 'punched'],
    ['fullCone', 'symmetric', 'punched'],
    ['public', 'portRestricted', 'direct'],
  ] as const) {
    test(`${a} × ${b}: a session forms within seconds; the next message goes over it`, async () => {
      const { world, alice, bob, deliveredMs, alicePaths } = await pair(`pair-${a}-${b}`, a, b, 30_000);
      try {
        // The first message may race through the DHT (sealed after 2 s without a session): either way once.
        assert.ok(deliveredMs <= 10_000, `delivered after ${deliveredMs} ms`);
        await world.until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'), 10_000);
        const next = await alice.node.send('bob', 'second');
        await world.until(
          () => alice.node.messages('bob').find((m) => m.id === next.id)?.state === 'delivered',
          5000,
        );
        const second = bob.store.messages
          .list(alice.publicKey, { limit: 10 })
          .find((m) => m.text === 'second');
        assert.equal(second?.via, 'session', 'over the session, not the DHT');
        // The path is read from the friend's record (its NAT mapping): the one published once DHT nodes had
        // told it, which each reads at its next poll.
        await world.until(
          () => alice.node.pathOf('bob') === path && bob.node.pathOf('alice') === path,
          60_000,
        );
        // What the client was told follows: the last path event is the path now (a session labelled direct
        // before the friend's record was read becomes punched when it is).
        assert.equal(alicePaths.at(-1), path, `path events: ${alicePaths.join(', ')}`);
      } finally {
        world.close();
      }
    });
  }
});

describe('when only the DHT is left (symmetric × symmetric)', { timeout: 300_000 }, () => {
  test('messages flow both ways and are acknowledged within 10 s, with no session', async () => {
    const world = await NatWorld.create('dht-only');
    try {
      const alice = await world.addUser('alice', world.nat(NAT_KINDS.symmetric));
      const bob = await world.addUser('bob', world.nat(NAT_KINDS.symmetric));
      world.befriend(alice, bob);
      await world.start(alice, bob);
      const latencies: number[] = [];
      // Three rounds, a minute apart: the fast polls must not back off while both are alive.
      for (let round = 0; round < 3; round++) {
        const startMs = world.sim.clock.monotonicMs();
        const a = await alice.node.send('bob', `from alice ${round}`);
        const b = await bob.node.send('alice', `from bob ${round}`);
        const isDelivered = (u: NatUser, peer: string, id: string) =>
          u.node.messages(peer).find((m) => m.id === id)?.state === 'delivered';
        await world.until(() => isDelivered(alice, 'bob', a.id) && isDelivered(bob, 'alice', b.id), 20_000);
        latencies.push(world.sim.clock.monotonicMs() - startMs);
        assert.equal(alice.node.isConnected('bob'), false, 'no direct path between two symmetric NATs');
        assert.equal(alice.node.pathOf('bob'), 'dht');
        await world.sim.settle(60_000, 50);
      }
      for (const [u, peer, prefix] of [
        [bob, 'alice', 'from alice'],
        [alice, 'bob', 'from bob'],
      ] as const) {
        const texts = u.node
          .messages(peer)
          .map((m) => m.text)
          .filter((t) => t.startsWith(prefix));
        assert.deepEqual(
          texts,
          [0, 1, 2].map((i) => `${prefix} ${i}`),
          'each once, in order',
        );
      }
      // Sent and acknowledged both ways: the slower of the two directions, per round.
      assert.ok(Math.max(...latencies) <= 10_000, `rounds took ${latencies.join(', ')} ms`);
    } finally {
      world.close();
    }
  });
});

describe('the birthday technique: port-restricted × symmetric', { timeout: 300_000 }, () => {
  /** Seconds to a session for one seed, or undefined when none came within maxMs. */
  async function run(seed: string, hasBirthday: boolean, maxMs: number) {
    const world = await NatWorld.create(seed);
    try {
      const alice = await world.addUser('alice', world.nat(NAT_KINDS.portRestricted), { hasBirthday });
      const bob = await world.addUser('bob', world.nat(NAT_KINDS.symmetric), { hasBirthday });
      world.befriend(alice, bob);
      await world.start(alice, bob);
      await alice.node.send('bob', 'across a randomising NAT');
      const ms = await world
        .until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'), maxMs)
        .catch(() => undefined);
      if (ms !== undefined) assert.equal(bob.node.pathOf('alice'), 'punched');
      return ms;
    } finally {
      world.close();
    }
  }

  test('sessions form (three seeds); without the technique, none does', async () => {
    const times = [];
    for (const seed of ['birthday-1', 'birthday-2', 'birthday-3']) times.push(await run(seed, true, 30_000));
    assert.ok(
      times.every((t) => t !== undefined),
      `sessions after ${times.join(', ')} ms`,
    );
    assert.equal(await run('birthday-1', false, 60_000), undefined, 'plain punching cannot guess the port');
  });
});

describe('two users behind one NAT (LAN endpoints)', { timeout: 300_000 }, () => {
  for (const hairpin of [false, true]) {
    test(`hairpin ${hairpin ? 'on' : 'off'}: a session over the LAN, path direct`, async () => {
      const world = await NatWorld.create(`same-nat-${hairpin}`);
      try {
        const router = world.nat({ ...NAT_KINDS.portRestricted, hairpin });
        const alice = await world.addUser('alice', router);
        const bob = await world.addUser('bob', router);
        world.befriend(alice, bob);
        await world.start(alice, bob);
        await world.until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'), 15_000);
        const remote = alice.node.sessionInfo('bob')?.remote;
        assert.ok(remote?.host.startsWith('192.168.'), `over the LAN: ${remote?.host}`);
        assert.equal(alice.node.pathOf('bob'), 'direct');
      } finally {
        world.close();
      }
    });
  }
});
