/**
 * The session manager across a friend's restart, on a MemoryNetwork + ManualClock: the restart lands within the
 * simultaneous-open window of the old session, which the side that stayed up still holds (the friend was killed:
 * no FIN). The old session is probed instead of kept blindly; a peer that closes every session is not redialled
 * in a hot loop.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { PROBE_TIMEOUT_MS, SIMULTANEOUS_WINDOW_MS } from '../../../src/chat/session/session-manager.ts';
import type { UdpAddress } from '../../../src/runtime/index.ts';
import { ChatSim, type ChatUser, startFriends } from './chat-harness.ts';

let sims: ChatSim[] = [];
afterEach(() => {
  for (const s of sims) s.close();
  sims = [];
});

async function friends(seed: string): Promise<{ sim: ChatSim; alice: ChatUser; bob: ChatUser }> {
  const sim = new ChatSim(seed);
  sims.push(sim);
  return { sim, ...(await startFriends(sim)) };
}

/** Counts the uTP connections a user opens (every dial is one). */
function countDials(user: ChatUser): { count: number } {
  const counter = { count: 0 };
  const connect = user.utp.connect.bind(user.utp);
  user.utp.connect = (address: UdpAddress) => {
    counter.count++;
    return connect(address);
  };
  return counter;
}

/** Bob is killed right after the friendship's session came up, and restarted (optionally on a new address). */
async function killAndRestartBob(sim: ChatSim, bob: ChatUser, newAddress?: UdpAddress): Promise<number> {
  // A kill says nothing to the peers: the closing sessions' resets are lost (stop() is synchronous).
  sim.sim.network.link.lossRate = 1;
  sim.stop(bob);
  sim.sim.network.link.lossRate = 0;
  if (newAddress !== undefined) (bob as { address: UdpAddress }).address = newAddress;
  await sim.restart(bob);
  await bob.node.start();
  return sim.clock.monotonicMs();
}

describe('session manager: restarts within the simultaneous-open window', { timeout: 60_000 }, () => {
  test('friend back on a new address (the old one silent): the old session is probed and replaced; messages both ways flow', async (t) => {
    const { sim, alice, bob } = await friends('restart-new-address');
    const aliceDials = countDials(alice);
    await killAndRestartBob(sim, bob, { host: '10.1.0.22', port: 7000 });
    const toBob = await alice.node.send('bob', 'sent while Alice still holds the old session');
    const toAlice = await bob.node.send('alice', 'sent right after the restart');
    const tookMs = await sim.until(
      () =>
        alice.node.sessionInfo('bob')?.remote.host === '10.1.0.22' &&
        bob.node.isConnected('alice') &&
        alice.node.messages('bob').find((m) => m.id === toBob.id)?.state === 'delivered' &&
        bob.node.messages('alice').find((m) => m.id === toAlice.id)?.state === 'delivered',
      SIMULTANEOUS_WINDOW_MS,
      10,
    );
    t.diagnostic(`reconnected and both messages delivered ${tookMs} ms (virtual) after the restart`);
    // The probe's timeout, not the window (10 s), bounds it: the old session had to stay silent that long.
    assert.ok(tookMs >= PROBE_TIMEOUT_MS && tookMs <= PROBE_TIMEOUT_MS + 1000, `took ${tookMs} ms`);
    assert.equal(aliceDials.count, 0, 'Alice did not need to dial: Bob came to her');
    assert.equal(alice.node.contacts()[0]?.presence, 'online');
    // It holds: no flapping back to the dead session, no redial storm.
    const bobDials = countDials(bob);
    await sim.sim.settle(60_000, 100);
    assert.ok(alice.node.isConnected('bob') && bob.node.isConnected('alice'));
    assert.equal(alice.node.sessionInfo('bob')?.remote.host, '10.1.0.22');
    assert.equal(bobDials.count + aliceDials.count, 0);
    const texts = bob.node.messages('alice').map((m) => m.text);
    assert.equal(texts.filter((x) => x === 'sent while Alice still holds the old session').length, 1);
  });

  test('friend back on the same address: the old session is reset by the new process, reconnect within 1 s', async (t) => {
    const { sim, alice, bob } = await friends('restart-same-address');
    await killAndRestartBob(sim, bob);
    const toBob = await alice.node.send('bob', 'right after the restart');
    const tookMs = await sim.until(
      () =>
        bob.node.isConnected('alice') &&
        alice.node.messages('bob').find((m) => m.id === toBob.id)?.state === 'delivered',
      5000,
      10,
    );
    t.diagnostic(`reconnected and delivered ${tookMs} ms (virtual) after the restart`);
    assert.ok(tookMs < 1000, `took ${tookMs} ms`);
    assert.deepEqual(
      bob.node.messages('alice').map((m) => m.text),
      ['right after the restart'],
    );
  });

  test('a friend who closes every session at once (blocked us) is redialled with back-off, not in a loop', async () => {
    const { sim, alice, bob } = await friends('refused');
    bob.node.block('alice');
    const dials = countDials(alice);
    await sim.sim.settle(60_000, 50);
    // Back-off 0, 2, 4, 8, 16, 30 s (±20 %): a handful in a minute, where a hot loop makes thousands.
    assert.ok(dials.count >= 2 && dials.count <= 8, `${dials.count} dials in 60 s`);
    assert.equal(alice.node.isConnected('bob'), false);
  });
});
