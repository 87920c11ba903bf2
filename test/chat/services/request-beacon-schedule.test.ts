/**
 * When the request beacon reads our request topic (issue 13 §4), on a ManualClock with a fake DHT that counts
 * lookups: once a minute (get_peers for this hour and the last) always; the quick re-reads of the last poll's
 * closest nodes every quickPollMs only within quickPollForMs of expectRequests(), which polls at once when it
 * opens the window and only extends an open one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOUR_EPOCH_MS } from '../../../src/chat/epoch.ts';
import type { Identity } from '../../../src/chat/identity.ts';
import { REQUEST_BEACON_TIMING, RequestBeacon } from '../../../src/chat/request-beacon.ts';
import type { ChatStore } from '../../../src/chat/store/chat-store.ts';
import type { DhtNode, NodeInfo } from '../../../src/dht/index.ts';
import { ManualClock, SeededRandom } from '../../../src/runtime/index.ts';

const { pollEveryMs, quickPollMs, quickPollForMs } = REQUEST_BEACON_TIMING;
const CLOSEST = [1, 2, 3, 4].map((i) => ({
  id: Buffer.alloc(20, i),
  address: { host: `10.0.0.${i}`, port: 6881 },
})) as unknown as NodeInfo[];

/** Counts full polls (getPeers) and quick re-reads (getPeersFrom); finds nothing. */
class CountingDht {
  lookups = 0;
  quickReads = 0;
  getPeers(): Promise<{ peers: []; closest: NodeInfo[] }> {
    this.lookups++;
    return Promise.resolve({ peers: [], closest: CLOSEST });
  }
  getPeersFrom(): Promise<[]> {
    this.quickReads++;
    return Promise.resolve([]);
  }
  announcePeer(): Promise<{ stored: number }> {
    return Promise.resolve({ stored: 0 });
  }
  externalAddress(): undefined {
    return undefined;
  }
}

function setUp() {
  // A minute into an hour: the 30-odd minutes below stay in one hour (quick re-reads ask this hour's nodes).
  const clock = new ManualClock(Math.ceil(1_700_000_000_000 / HOUR_EPOCH_MS) * HOUR_EPOCH_MS + 60_000);
  const dht = new CountingDht();
  const store = {
    requests: { list: () => [], takeRateSlot: () => ({ isAllowed: true }), noteOutgoingAttempt: () => {} },
  } as unknown as ChatStore;
  const beacon = new RequestBeacon({
    identity: { publicKey: Buffer.alloc(32, 0x0b) } as Identity,
    store,
    dht: dht as unknown as DhtNode,
    clock,
    random: new SeededRandom('request-beacon-schedule'),
    port: () => 6881,
    onRequester: () => {},
  });
  return { clock, dht, beacon };
}

/** Advances in 1 s steps, letting the fake lookups (promises) settle between them. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  for (let spentMs = 0; spentMs < ms; spentMs += 1000) {
    clock.advance(Math.min(1000, ms - spentMs));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('left alone, the beacon polls once a minute and never re-reads quickly', async () => {
  const { clock, dht, beacon } = setUp();
  beacon.start();
  await advance(clock, 10 * pollEveryMs);
  assert.equal(beacon.isExpectingRequests(), false);
  assert.equal(dht.quickReads, 0);
  // Two get_peers a poll (this hour and the last): at start, then every minute.
  assert.equal(dht.lookups, 2 * 11);
  beacon.close();
});

test('expectRequests polls at once, re-reads every quickPollMs for quickPollForMs, then stops', async () => {
  const { clock, dht, beacon } = setUp();
  beacon.start();
  await advance(clock, 30_000);
  const lookupsBefore = dht.lookups;
  beacon.expectRequests();
  assert.equal(dht.lookups, lookupsBefore + 2, 'a full poll as the window opens');
  await advance(clock, pollEveryMs);
  const perMinute = pollEveryMs / quickPollMs - 1; // the quick re-reads between two full polls
  assert.ok(dht.quickReads >= perMinute - 1 && dht.quickReads <= perMinute, `${dht.quickReads} in a minute`);

  await advance(clock, quickPollForMs - pollEveryMs);
  assert.equal(beacon.isExpectingRequests(), false);
  const quickInWindow = dht.quickReads;
  const fullMinutes = quickPollForMs / pollEveryMs;
  assert.ok(quickInWindow >= (fullMinutes - 1) * perMinute, `${quickInWindow} quick re-reads in the window`);
  assert.ok(quickInWindow <= fullMinutes * perMinute, `${quickInWindow} quick re-reads in the window`);
  const lookupsAtEnd = dht.lookups;
  await advance(clock, 10 * pollEveryMs);
  assert.equal(dht.quickReads, quickInWindow, 'no quick re-read once the window has closed');
  assert.equal(dht.lookups, lookupsAtEnd + 2 * 10, 'the minute polls go on');
  beacon.close();
});

test('expectRequests on an open window only extends it', async () => {
  const { clock, dht, beacon } = setUp();
  beacon.start();
  beacon.expectRequests();
  await advance(clock, quickPollForMs - pollEveryMs);
  const lookups = dht.lookups;
  beacon.expectRequests();
  assert.equal(dht.lookups, lookups, 'no extra poll');
  await advance(clock, 2 * pollEveryMs);
  assert.equal(beacon.isExpectingRequests(), true, 'still open past the first window');
  const quickReads = dht.quickReads;
  await advance(clock, pollEveryMs);
  assert.ok(dht.quickReads > quickReads);
  beacon.close();
});

test('asked before start, or while offline: the quick re-reads run once started and online', async () => {
  const { clock, dht, beacon } = setUp();
  beacon.expectRequests();
  await advance(clock, pollEveryMs);
  assert.equal(dht.lookups + dht.quickReads, 0, 'nothing before start');
  beacon.start();
  await advance(clock, pollEveryMs);
  assert.ok(dht.quickReads > 0);

  beacon.setOnline(false);
  const quickReads = dht.quickReads;
  beacon.expectRequests();
  await advance(clock, pollEveryMs);
  assert.equal(dht.quickReads, quickReads, 'offline: no reads');
  beacon.setOnline(true);
  await advance(clock, pollEveryMs);
  assert.ok(dht.quickReads > quickReads, 'online again within the window: quick re-reads resume');
  beacon.close();
});
