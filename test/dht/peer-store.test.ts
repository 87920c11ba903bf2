import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateBloomSize } from '../../src/dht/bloom.ts';
import { BEP51_MAX_SAMPLES, PEER_TTL_MS } from '../../src/dht/constants.ts';
import { PeerStore } from '../../src/dht/peer-store.ts';
import { SeededRandom } from '../../src/runtime/index.ts';

const ih = (n: number) => Buffer.alloc(20, n);
const random = new SeededRandom('peer-store');
const opts = (maxCount = 100, noSeed = false, nowMs = 0) => ({ maxCount, noSeed, nowMs, random });

test('announce and get peers by family', () => {
  const store = new PeerStore();
  assert.equal(store.announce(ih(1), { host: '1.2.3.4', port: 1000 }, false, 0), 'stored');
  assert.equal(store.announce(ih(1), { host: '1.2.3.4', port: 1000 }, true, 0), 'updated');
  assert.equal(store.announce(ih(1), { host: '2001:db8::1', port: 1000 }, false, 0), 'stored');
  assert.deepEqual(store.getPeers(ih(1), 4, opts()), [{ host: '1.2.3.4', port: 1000 }]);
  assert.deepEqual(store.getPeers(ih(1), 6, opts()), [{ host: '2001:db8::1', port: 1000 }]);
  assert.deepEqual(store.getPeers(ih(2), 4, opts()), []);
  assert.deepEqual(store.getPeers(ih(1), 4, opts(100, true)), [], 'the v4 peer became a seed');
  assert.equal(store.peerCount, 2);
  assert.equal(store.infoHashCount, 1);
});

test('getPeers returns at most maxCount, a uniform-ish sample of all', () => {
  const store = new PeerStore();
  for (let i = 0; i < 200; i++) store.announce(ih(1), { host: `1.2.${i}.4`, port: 1 }, false, 0);
  const seen = new Set<string>();
  for (let round = 0; round < 50; round++) {
    const peers = store.getPeers(ih(1), 4, opts(20));
    assert.equal(peers.length, 20);
    assert.equal(new Set(peers.map((p) => p.host)).size, 20, 'no duplicates');
    for (const p of peers) seen.add(p.host);
  }
  assert.ok(seen.size > 180, `every peer gets handed out (${seen.size})`);
});

test('peers expire after the TTL; empty swarms disappear', () => {
  const store = new PeerStore();
  store.announce(ih(1), { host: '1.2.3.4', port: 1 }, false, 0);
  store.announce(ih(1), { host: '1.2.3.5', port: 1 }, false, PEER_TTL_MS / 2);
  assert.equal(store.getPeers(ih(1), 4, opts(100, false, PEER_TTL_MS)).length, 1);
  store.purge(PEER_TTL_MS + PEER_TTL_MS / 2);
  assert.equal(store.peerCount, 0);
  assert.equal(store.infoHashCount, 0);
  assert.equal(store.has(ih(1), PEER_TTL_MS * 2), false);
});

test('a full swarm refuses newcomers and says so for the token decision', () => {
  const store = new PeerStore({ maxPeersPerInfoHash: 3 });
  for (let i = 0; i < 3; i++) store.announce(ih(1), { host: `1.2.3.${i}`, port: 1 }, false, 0);
  assert.equal(store.announce(ih(1), { host: '9.9.9.9', port: 1 }, false, 0), 'full');
  assert.equal(store.isFullFor(ih(1), '9.9.9.9', 0), true);
  assert.equal(store.isFullFor(ih(1), '1.2.3.0', 0), false, 'a member may re-announce');
  assert.equal(store.isFullFor(ih(1), '2001:db8::1', 0), false, 'the v6 list is separate');
  assert.equal(store.announce(ih(1), { host: '1.2.3.0', port: 1 }, true, 0), 'updated');
  assert.equal(store.isFullFor(ih(2), '9.9.9.9', 0), false);
});

test('one IP gets at most maxPortsPerIp entries per swarm unless relaxed', () => {
  const strict = new PeerStore({ maxPortsPerIp: 2 });
  for (let port = 1; port <= 10; port++) strict.announce(ih(1), { host: '1.2.3.4', port }, false, 0);
  assert.equal(strict.getPeers(ih(1), 4, opts()).length, 2);
  const relaxed = new PeerStore({ maxPortsPerIp: 2, isRelaxedHost: (h) => h === '127.0.0.1' });
  for (let port = 1; port <= 10; port++) relaxed.announce(ih(1), { host: '127.0.0.1', port }, false, 0);
  assert.equal(relaxed.getPeers(ih(1), 4, opts()).length, 10);
});

test('info-hashes and total peers are bounded', () => {
  const store = new PeerStore({ maxInfoHashes: 10, maxPeersTotal: 25 });
  for (let i = 0; i < 1000; i++)
    store.announce(ih(i % 256), { host: `1.2.${i % 250}.${i % 7}`, port: 1 }, false, i);
  assert.ok(store.infoHashCount <= 10);
  assert.ok(store.peerCount <= 25);
  // The count matches what is really stored.
  let counted = 0;
  for (let n = 0; n < 256; n++) counted += store.getPeers(ih(n), 4, opts(1000, false, 1000)).length;
  assert.equal(counted, store.peerCount);
  // The most recently announced info-hash survives.
  assert.equal(store.has(ih(999 % 256), 1000), true);
});

test('the total bound never loses track when the only swarm is trimmed', () => {
  const store = new PeerStore({ maxPeersTotal: 1 });
  store.announce(ih(1), { host: '1.1.1.1', port: 1 }, false, 0);
  store.announce(ih(1), { host: '1.1.1.2', port: 1 }, false, 0);
  assert.equal(store.peerCount, 1);
  assert.deepEqual(store.getPeers(ih(1), 4, opts()), [{ host: '1.1.1.2', port: 1 }]);
});

test('scrape: BEP 33 filters of the family, seeds and downloaders apart', () => {
  const store = new PeerStore();
  assert.equal(store.scrape(ih(1), 4, 0), undefined);
  for (let i = 0; i < 30; i++) store.announce(ih(1), { host: `1.2.3.${i}`, port: 1 }, i < 10, 0);
  store.announce(ih(1), { host: '1.2.3.0', port: 2 }, true, 0); // same IP, other port: still one IP
  const s = store.scrape(ih(1), 4, 0)!;
  assert.equal(s.bfsd.length, 256);
  assert.equal(Math.round(estimateBloomSize(s.bfsd)), 10);
  assert.equal(Math.round(estimateBloomSize(s.bfpe)), 20);
  const v6 = store.scrape(ih(1), 6, 0)!;
  assert.ok(estimateBloomSize(v6.bfsd) < 1, 'an empty filter (BEP 33 caps c at m - 1, so ~0.5)');
});

test('BEP 51 samples: at most 20, reused within the interval, num counts all', () => {
  const store = new PeerStore({ sampleIntervalSec: 60 });
  assert.deepEqual(store.sampleInfoHashes(0, random).samples, []);
  for (let i = 0; i < 5; i++) store.announce(ih(i), { host: '1.1.1.1', port: 1 }, false, 0);
  const small = store.sampleInfoHashes(0, random);
  assert.equal(small.samples.length, 5, 'a sample smaller than the store is redrawn');
  for (let i = 5; i < 100; i++) store.announce(ih(i), { host: '1.1.1.1', port: 1 }, false, 0);
  const first = store.sampleInfoHashes(1, random);
  assert.equal(first.samples.length, BEP51_MAX_SAMPLES);
  assert.equal(first.num, 100);
  assert.equal(first.intervalSec, 60);
  assert.equal(new Set(first.samples.map((s) => s.toString('hex'))).size, BEP51_MAX_SAMPLES);
  assert.deepEqual(
    store.sampleInfoHashes(59_000, random).samples,
    first.samples,
    'same sample within interval',
  );
  assert.notDeepEqual(store.sampleInfoHashes(61_001, random).samples, first.samples, 'redrawn after it');
});
