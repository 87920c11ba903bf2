/** IntroducerKeeper with a fake DHT on a ManualClock: probing, keep-alive, replacement, observed endpoint. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { INTRODUCER_TIMING, IntroducerKeeper } from '../../src/chat/introducer-keeper.ts';
import { ManualClock, SeededRandom, type UdpAddress } from '../../src/runtime/index.ts';

const ME = { host: '10.200.0.2', port: 40001 };

function fakeDht(
  nodes: number,
  speaksExtension: (port: number) => boolean,
  seenAs: (introducerPort: number) => UdpAddress = () => ME,
) {
  const alive = new Set<number>(Array.from({ length: nodes }, (_, i) => i + 1));
  const pings: number[] = [];
  const forwards: Array<{ introducer: number; to: UdpAddress; bytes: number }> = [];
  return {
    alive,
    pings,
    forwards,
    dht: {
      ping: async (a: UdpAddress) => {
        pings.push(a.port);
        if (!alive.has(a.port)) throw new Error('timeout');
        return { id: Buffer.alloc(20), address: a, yourAddress: seenAs(a.port) };
      },
      forwardNote: async (introducer: UdpAddress, to: UdpAddress, note: Buffer) => {
        forwards.push({ introducer: introducer.port, to, bytes: note.length });
        if (!alive.has(introducer.port) || !speaksExtension(introducer.port)) throw new Error('204');
        return { yourAddress: seenAs(introducer.port) };
      },
      answeringNodes: (count: number) =>
        [...alive]
          .slice(0, count)
          .map((port) => ({ id: Buffer.alloc(20), address: { host: '10.200.0.1', port } })),
    },
  };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('introducer keeper', () => {
  test('keeps only nodes that forwarded an empty note to us, learns our endpoint, tells once', async () => {
    const clock = new ManualClock();
    const fake = fakeDht(10, (port) => port % 2 === 0);
    let changes = 0;
    const keeper = new IntroducerKeeper({
      dht: fake.dht,
      clock,
      random: new SeededRandom('k1'),
      onChange: () => changes++,
    });
    keeper.start();
    await flush();
    for (let i = 0; i < 5 && keeper.introducers().length < INTRODUCER_TIMING.count; i++) {
      clock.advance(INTRODUCER_TIMING.keepaliveMs);
      await flush();
    }
    const kept = keeper.introducers().map((a) => a.port);
    assert.equal(kept.length, INTRODUCER_TIMING.count);
    assert.ok(
      kept.every((p) => p % 2 === 0),
      kept.join(','),
    );
    assert.deepEqual(keeper.observedEndpoint(), ME);
    assert.ok(
      fake.forwards.every((f) => f.bytes === 0 && f.to.port === ME.port),
      'probes are empty notes to ourselves',
    );
    assert.ok(changes >= 1);
    keeper.close();
  });

  test('pings introducers every ~25 s and replaces one that stopped answering', async () => {
    const clock = new ManualClock();
    const fake = fakeDht(6, () => true);
    const keeper = new IntroducerKeeper({ dht: fake.dht, clock, random: new SeededRandom('k2') });
    keeper.start();
    await flush();
    assert.equal(keeper.introducers().length, INTRODUCER_TIMING.count);
    const first = keeper.introducers()[0]!.port;
    fake.pings.length = 0;
    clock.advance(INTRODUCER_TIMING.keepaliveMs * 1.1);
    await flush();
    assert.deepEqual(new Set(fake.pings), new Set(keeper.introducers().map((a) => a.port)));
    fake.alive.delete(first);
    for (let i = 0; i < INTRODUCER_TIMING.maxFailures + 2; i++) {
      clock.advance(INTRODUCER_TIMING.keepaliveMs * 1.1);
      await flush();
    }
    const now = keeper.introducers().map((a) => a.port);
    assert.equal(now.length, INTRODUCER_TIMING.count);
    assert.ok(!now.includes(first), `${first} still kept: ${now.join(',')}`);
    keeper.close();
    fake.pings.length = 0;
    clock.advance(INTRODUCER_TIMING.keepaliveMs * 4);
    await flush();
    assert.equal(fake.pings.length, 0, 'closed: no more pings');
  });

  test('with no dhtchat nodes around, probing backs off to the keep-alive period', async () => {
    const clock = new ManualClock();
    const fake = fakeDht(40, () => false);
    const keeper = new IntroducerKeeper({ dht: fake.dht, clock, random: new SeededRandom('k3') });
    keeper.start();
    for (let i = 0; i < 60; i++) {
      clock.advance(5000);
      await flush();
    }
    // 300 s: at most one round of probesPerTick every keepaliveMs once backed off, plus the first rounds.
    assert.ok(fake.forwards.length <= 60, `${fake.forwards.length} probes`);
    assert.equal(keeper.introducers().length, 0);
    keeper.close();
  });

  test('behind a symmetric NAT (another port per introducer) the observed endpoint does not flap', async () => {
    const clock = new ManualClock();
    const fake = fakeDht(
      6,
      () => true,
      (port) => ({ host: ME.host, port: 50_000 + port }),
    );
    let changes = 0;
    const keeper = new IntroducerKeeper({
      dht: fake.dht,
      clock,
      random: new SeededRandom('k4'),
      onChange: () => changes++,
    });
    keeper.start();
    await flush();
    const first = keeper.observedEndpoint();
    assert.equal(first?.host, ME.host);
    const changesAfterFill = changes;
    for (let i = 0; i < 10; i++) {
      clock.advance(INTRODUCER_TIMING.keepaliveMs * 1.1);
      await flush();
    }
    assert.deepEqual(keeper.observedEndpoint(), first);
    assert.equal(changes, changesAfterFill, 'no republish every keep-alive');
    keeper.close();
  });
});
