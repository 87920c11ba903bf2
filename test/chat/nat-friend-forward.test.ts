/**
 * A mutual friend carries the punch note (punch-forwarding.ts): Bob has been online for minutes (his reads of
 * Alice's record are backed off), Alice arrives and writes to him; Carol, a friend of both with a session to each,
 * passes Alice's sealed note on, and Bob punches back at once. Without Carol, nothing reaches Bob for minutes.
 *
 *   carol (public host) ── sessions ── alice (port-restricted NAT), bob (port-restricted NAT)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NAT_KINDS } from '../../sim/nat.ts';
import { POLL_SCHEDULE } from '../../src/chat/rendezvous-schedule.ts';
import { NatWorld } from './nat-world.ts';

async function lateArrival(seed: string, hasCarol: boolean): Promise<number | undefined> {
  const world = await NatWorld.create(seed);
  try {
    const alice = await world.addUser('alice', world.nat(NAT_KINDS.portRestricted));
    const bob = await world.addUser('bob', world.nat(NAT_KINDS.portRestricted));
    world.befriend(alice, bob);
    // Carol's DHT node is no introducer: only her sessions can carry the note.
    const carol = hasCarol ? await world.addUser('carol', undefined, { canIntroduce: false }) : undefined;
    if (carol !== undefined) {
      world.befriend(alice, carol);
      world.befriend(bob, carol);
      await world.start(bob, carol);
    } else await world.start(bob);
    // Long enough that Bob's start burst is over and Alice's old record shows her gone.
    await world.sim.settle(POLL_SCHEDULE.startBurstMs + POLL_SCHEDULE.onlineWindowMs + 60_000, 100);
    await world.start(alice);
    if (hasCarol)
      await world.until(() => alice.node.isConnected('carol') && bob.node.isConnected('carol'), 30_000);
    else await world.sim.settle(5000, 20);
    assert.equal(alice.node.isConnected('bob'), false, 'not yet');
    await alice.node.send('bob', 'hello, are you there?');
    return await world
      .until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'), 8000)
      .catch(() => undefined);
  } finally {
    world.close();
  }
}

describe('a mutual friend passes the punch note on', { timeout: 300_000 }, () => {
  test('with Carol the session is up within seconds; without her, not within 8 s', async () => {
    const withCarol = await lateArrival('forward', true);
    assert.ok(withCarol !== undefined && withCarol <= 5000, `session after ${withCarol} ms`);
    assert.equal(await lateArrival('forward', false), undefined);
  });
});
