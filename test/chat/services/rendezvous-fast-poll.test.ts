/**
 * The fast record poll (rendezvous-schedule.ts) on a 12-node in-memory DHT under virtual time: a friend alive but
 * unreachable is read every ~2.5 s by a cheap read of its record's holders (3 queries), sees our changes within
 * one interval, gets our record again every heartbeat; the budget holds with many such friends; a friend gone
 * quiet falls back to the back-off schedule. Away from midnight, so one day epoch is read (two near a boundary).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DAY_EPOCH_MS } from '../../../src/chat/epoch.ts';
import { HOLDER_RULES } from '../../../src/chat/rendezvous-holders.ts';
import { fastPollIntervalMs, POLL_SCHEDULE } from '../../../src/chat/rendezvous-schedule.ts';
import { ServicesWorld, type User } from './services-harness.ts';

/** Queries a node sent while fn ran. */
async function queriesDuring(user: User, fn: () => Promise<void>): Promise<number> {
  const before = user.sim.node.stats().rpc.sent;
  await fn();
  return user.sim.node.stats().rpc.sent - before;
}

describe('fast polls of friends alive but unreachable', () => {
  let world: ServicesWorld;
  let alice: User;
  let bob: User;

  before(async () => {
    world = await ServicesWorld.create('fast-poll', 12);
    const { clock } = world.net;
    clock.advance(DAY_EPOCH_MS / 2 - (clock.wallMs() % DAY_EPOCH_MS) + DAY_EPOCH_MS); // noon, one epoch to read
    alice = await world.addUser('alice');
    bob = await world.addUser('bob');
    world.befriend(alice, bob);
    await world.net.run(Promise.all([alice.rendezvous.start(), bob.rendezvous.start()]));
  });
  after(() => world.close());

  test('Bob reads Alice every ~2.5 s at 3 queries a read, and sees her new record within one interval', async () => {
    const { net } = world;
    // Both started at once: each one's first read came before the other's put, but the start burst reads
    // every friend fast, and finds the fresh record within seconds.
    await net.settle(10_000, 20);
    assert.ok(bob.rendezvous.isAlive(alice.pk), 'her record was just published: alive');
    const minute = await queriesDuring(bob, () => net.settle(60_000, 20));
    const reads = 60_000 / POLL_SCHEDULE.fastPollMs;
    // Bob also republishes his own record to Alice (heartbeat, a put to ≤ 8 holders) once that minute.
    assert.ok(minute >= reads * HOLDER_RULES.readNodes * 0.8, `${minute} queries`);
    assert.ok(minute <= reads * HOLDER_RULES.readNodes * 1.15 + 8 + 40, `${minute} queries`);

    let seenAtMs: number | undefined;
    bob.rendezvous.onRecord((pk, record, info) => {
      if (pk.equals(alice.pk) && info.isNew && record.wantSinceMs !== undefined)
        seenAtMs ??= net.clock.monotonicMs();
    });
    const startMs = net.clock.monotonicMs();
    await net.run(alice.rendezvous.wantSession(bob.pk));
    await net.until(() => seenAtMs !== undefined, 10_000);
    const latencyMs = (seenAtMs ?? Infinity) - startMs;
    assert.ok(latencyMs <= fastPollIntervalMs(1) * 1.1 + 500, `seen after ${latencyMs} ms`);
  });

  test('each side republishes to the other every heartbeat while neither has a session', async () => {
    const { net } = world;
    const seqs: number[] = [];
    bob.rendezvous.onRecord((pk, _r, info) => {
      if (pk.equals(alice.pk) && info.isNew) seqs.push(info.seq);
    });
    await net.settle(3 * POLL_SCHEDULE.heartbeatMs + 5_000, 20);
    assert.ok(seqs.length >= 3, `Alice's record changed ${seqs.length} times in 3 heartbeats`);
    assert.ok(bob.rendezvous.isAlive(alice.pk) && alice.rendezvous.isAlive(bob.pk), 'both still alive');
  });

  test('a friend gone quiet leaves the fast schedule after the online window', async () => {
    const { net } = world;
    world.goAway(alice);
    await net.settle(POLL_SCHEDULE.onlineWindowMs + 10_000, 50);
    assert.equal(bob.rendezvous.isAlive(alice.pk), false);
    assert.equal(bob.rendezvous.fastFriendCount(), 0);
    // Back-off: at most a few reads (and one full search) a minute from here.
    const minute = await queriesDuring(bob, () => net.settle(60_000, 50));
    assert.ok(minute <= 60, `${minute} queries in a minute of back-off`);
  });
});

describe('the fast-poll budget', () => {
  test('with 10 alive friends the interval stretches: fast reads stay within maxFastQueriesPerMin', async () => {
    const world = await ServicesWorld.create('fast-poll-budget', 12);
    try {
      const { clock } = world.net;
      clock.advance(DAY_EPOCH_MS / 2 - (clock.wallMs() % DAY_EPOCH_MS) + DAY_EPOCH_MS);
      const me = await world.addUser('me');
      const friends: User[] = [];
      for (let i = 0; i < 10; i++) {
        const f = await world.addUser(`friend${i}`);
        world.befriend(me, f);
        friends.push(f);
      }
      // The friends publish their records (alive), but none reads ours: only our reads are measured.
      await world.net.run(Promise.all(friends.map((f) => f.rendezvous.publishNow(me.pk))));
      await world.net.run(me.rendezvous.start());
      assert.equal(me.rendezvous.fastFriendCount(), 10);
      assert.equal(fastPollIntervalMs(10), 5000);
      await world.net.settle(20_000, 20);
      // Our heartbeats (a put to each friend once a minute) come on top: counted apart by the puts' size.
      const minute = await queriesDuring(me, () => world.net.settle(60_000, 20));
      const heartbeatQueries = 10 * 8;
      assert.ok(
        minute <= POLL_SCHEDULE.maxFastQueriesPerMin * 1.15 + heartbeatQueries + 2 * 40,
        `${minute} queries in a minute`,
      );
      assert.ok(minute >= POLL_SCHEDULE.maxFastQueriesPerMin * 0.7, `${minute} queries: still polling`);
    } finally {
      world.close();
    }
  });
});
