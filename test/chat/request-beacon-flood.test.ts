/**
 * The request beacon against a filled topic (issue 10 §3, DHT side): what a poll dials when one network has
 * announced hundreds of endpoints on our request topic next to a few real requesters. The DHT is a stub that
 * returns a fixed peer list, so this is about the beacon's choice alone.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { identityFromSeed } from '../../src/chat/identity.ts';
import { REQUEST_BEACON_TIMING, RequestBeacon } from '../../src/chat/request-beacon.ts';
import type { DhtNode } from '../../src/dht/index.ts';
import { SeededRandom, type UdpAddress } from '../../src/runtime/index.ts';
import { type Harness, makeHarness } from './store/store-harness.ts';

let harnesses: Harness[] = [];
afterEach(() => {
  for (const h of harnesses) h.cleanup();
  harnesses = [];
});

/** 300 endpoints from one /24 (the topic's capacity at one storage node), with real requesters among them. */
function filledTopic(real: UdpAddress[]): UdpAddress[] {
  const flood = Array.from({ length: 300 }, (_, i) => ({
    host: `198.51.100.${1 + (i % 250)}`,
    port: 20_000 + i,
  }));
  return [...flood.slice(0, 150), ...real, ...flood.slice(150)];
}

function beacon(peers: UdpAddress[], seed: string) {
  const h = makeHarness(seed);
  harnesses.push(h);
  const dht = {
    getPeers: async () => ({ peers }),
    announcePeer: async () => ({ stored: 0 }),
    externalAddress: () => undefined,
  } as unknown as DhtNode;
  const dialled: UdpAddress[] = [];
  const b = new RequestBeacon({
    identity: identityFromSeed(Buffer.alloc(32, 7)),
    store: h.store,
    dht,
    clock: h.clock,
    random: new SeededRandom(seed),
    port: () => 7000,
    onRequester: (endpoint) => dialled.push(endpoint),
  });
  return { beacon: b, dialled, clock: h.clock };
}

describe('request beacon on a topic one network filled', () => {
  test('every poll dials the real requesters wherever they are in the list, and the flooding network once', async () => {
    const real = [
      { host: '203.0.113.5', port: 7000 },
      { host: '192.0.2.77', port: 41_000 },
    ];
    for (let run = 0; run < 20; run++) {
      const { beacon: b, dialled } = beacon(filledTopic(real), `flood-${run}`);
      const first = await b.pollNow();
      assert.ok(first.length <= REQUEST_BEACON_TIMING.maxPerPoll);
      for (const r of real)
        assert.ok(
          first.some((a) => a.host === r.host),
          `run ${run}: ${r.host} dialled`,
        );
      assert.equal(first.filter((a) => a.host.startsWith('198.51.100.')).length, 1);
      assert.deepEqual(dialled, first);
      b.close();
    }
  });

  test('an hour of polls: the flooding network gets one dial a poll and ~4 an hour; a late requester still gets in', async () => {
    const peers = filledTopic([]);
    const { beacon: b, dialled, clock } = beacon(peers, 'flood-hour');
    for (let minute = 0; minute < 59; minute++) {
      assert.ok((await b.pollNow()).length <= 1);
      clock.advance(REQUEST_BEACON_TIMING.pollEveryMs);
    }
    // Burst 4, then one per 15 minutes: 7 in 59 minutes, far from the hourly 60.
    assert.ok(dialled.length >= 4 && dialled.length <= 8, `${dialled.length} dials`);
    const late = { host: '203.0.113.9', port: 7000 };
    peers.splice(123, 0, late);
    assert.ok((await b.pollNow()).some((a) => a.host === late.host));
    b.close();
  });

  test('endpoints not seen this hour go before ones reported more than 10 minutes ago', async () => {
    const old = Array.from({ length: 10 }, (_, i) => ({ host: `10.${i}.0.1`, port: 7000 }));
    const { beacon: b, clock } = beacon(old, 'tiers');
    assert.equal((await b.pollNow()).length, REQUEST_BEACON_TIMING.maxPerPoll);
    clock.advance(REQUEST_BEACON_TIMING.repeatAfterMs);
    // Now two new requesters appear next to the ten already seen: both new ones are in the next poll.
    const newcomers = [
      { host: '10.20.0.1', port: 7000 },
      { host: '10.21.0.1', port: 7000 },
    ];
    old.push(...newcomers);
    const next = await b.pollNow();
    for (const n of newcomers) assert.ok(next.some((a) => a.host === n.host));
    b.close();
  });
});
