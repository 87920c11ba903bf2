import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { NODE_QUESTIONABLE_MS, PING_RETRY_MS, REPLACEMENT_CACHE_SIZE } from '../../src/dht/constants.ts';
import type { NodeInfo } from '../../src/dht/dht-types.ts';
import { commonPrefixBits, randomIdWithPrefix } from '../../src/dht/node-id.ts';
import { RoutingTable } from '../../src/dht/routing-table.ts';
import { ManualClock, SeededRandom } from '../../src/runtime/index.ts';

const OWN = Buffer.from('a5'.repeat(20), 'hex');

/** An id sharing exactly `bits` leading bits with OWN (bit `bits` flipped), rest from `tail`. */
function idAt(bits: number, tail: Buffer): Buffer {
  const prefix = Buffer.from(OWN);
  if (bits < 160) prefix[bits >> 3] = (prefix[bits >> 3] ?? 0) ^ (0x80 >> (bits & 7));
  const id = Buffer.from(tail);
  const full = Math.min(bits + 1, 160);
  for (let i = 0; i < full >> 3; i++) id[i] = prefix[i] ?? 0;
  const rest = full & 7;
  if (rest > 0) {
    const mask = (0xff << (8 - rest)) & 0xff;
    id[full >> 3] = ((prefix[full >> 3] ?? 0) & mask) | ((id[full >> 3] ?? 0) & ~mask & 0xff);
  }
  return id;
}

/** A host in its own /24 for each i. */
const hostOf = (i: number): string => `${1 + ((i >> 16) & 127)}.${(i >> 8) & 255}.${i & 255}.9`;
const node = (id: Buffer, i: number, port = 6881): NodeInfo => ({ id, address: { host: hostOf(i), port } });

/** Splits the table so buckets 0 and 1 exist and are empty: 9 confirmed nodes deeper down. */
function presplit(t: RoutingTable): void {
  for (let i = 0; i < 9; i++) t.nodeSeen(node(idAt(2 + i, Buffer.alloc(20, i)), 1000 + i));
}

function table(clock = new ManualClock(), relaxed = false): RoutingTable {
  return new RoutingTable({ ownId: OWN, clock, isRelaxed: () => relaxed, family: 4 });
}

/** The deliberately naive twin: sort every stored node by XOR distance, take n. */
function naiveClosest(all: NodeInfo[], target: Buffer, n: number): string[] {
  const dist = (id: Buffer) => Buffer.from(id.map((b, i) => b ^ (target[i] ?? 0)));
  return [...all]
    .sort((a, b) => Buffer.compare(dist(a.id), dist(b.id)))
    .slice(0, n)
    .map((x) => x.id.toString('hex'));
}

const arbNodes = fc.array(
  fc.record({ bits: fc.integer({ min: 0, max: 24 }), tail: fc.uint8Array({ minLength: 20, maxLength: 20 }) }),
  { maxLength: 300 },
);

describe('routing table vs naive twin (fast-check)', () => {
  test('buckets hold min(K, nodes at that prefix length); closest() equals brute force over the table', () => {
    fc.assert(
      fc.property(
        arbNodes,
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.integer({ min: 0, max: 26 }),
        (specs, targetBytes, targetBits) => {
          const t = table();
          const inserted = new Map<string, Buffer>();
          specs.forEach((s, i) => {
            const id = idAt(s.bits, Buffer.from(s.tail));
            t.nodeSeen(node(id, i));
            inserted.set(id.toString('hex'), id);
          });
          const sizes = t.bucketSizes();
          const last = sizes.length - 1;
          const counts = new Array<number>(sizes.length).fill(0);
          for (const id of inserted.values()) {
            const c = Math.min(commonPrefixBits(OWN, id), last);
            counts[c] = (counts[c] ?? 0) + 1;
          }
          sizes.forEach((size, j) => {
            assert.equal(size, Math.min(8, counts[j] ?? 0), `bucket ${j}`);
          });
          const all = t.all();
          assert.equal(all.length, t.size());
          for (const target of [Buffer.from(targetBytes), OWN, idAt(targetBits, Buffer.from(targetBytes))]) {
            for (const n of [1, 8, 20, 60]) {
              const got = t.closest(target, n).map((x) => x.id.toString('hex'));
              assert.deepEqual(got, naiveClosest(all, target, n));
            }
          }
          // The node nearest our own id is never lost to a bucket without room for it (Kademlia's invariant):
          // the table's nearest shares as many bits with us as the nearest of everything inserted.
          if (inserted.size > 0) {
            const best = Math.max(...[...inserted.values()].map((id) => commonPrefixBits(OWN, id)));
            const first = t.closest(OWN, 1)[0];
            assert.ok(first !== undefined);
            assert.equal(commonPrefixBits(OWN, first.id), best);
          }
        },
      ),
      { numRuns: 150, seed: 20261125 },
    );
  });

  test('closest() matches brute force under mixed seen/heard/queried/failed operations', () => {
    const op = fc.record({
      kind: fc.constantFrom('seen', 'heard', 'queried', 'failed', 'tick'),
      who: fc.integer({ min: 0, max: 120 }),
      bits: fc.integer({ min: 0, max: 12 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const clock = new ManualClock();
        const t = table(clock);
        for (const o of ops) {
          const id = idAt(o.bits, Buffer.alloc(20, o.who));
          const n = node(id, o.who);
          if (o.kind === 'seen') t.nodeSeen(n);
          else if (o.kind === 'heard') t.heardAbout(n);
          else if (o.kind === 'queried') t.nodeQueried(n);
          else if (o.kind === 'failed') t.nodeFailed(n.address);
          else clock.advance(60_000);
        }
        const all = t.all();
        const ids = all.map((x) => x.id.toString('hex'));
        assert.equal(new Set(ids).size, ids.length, 'no duplicate ids');
        assert.equal(new Set(all.map((x) => x.address.host)).size, all.length, 'one entry per IP');
        assert.ok(!ids.includes(OWN.toString('hex')));
        assert.ok(t.bucketSizes().every((s) => s <= 8));
        for (const target of [OWN, idAt(3, Buffer.alloc(20, 7))]) {
          assert.deepEqual(
            t.closest(target, 8).map((x) => x.id.toString('hex')),
            naiveClosest(all, target, 8),
          );
        }
      }),
      { numRuns: 150, seed: 7 },
    );
  });
});

describe('routing table rules', () => {
  const r = new SeededRandom('rt');

  test('never stores our own id, wrong family, or port 0', () => {
    const t = table();
    t.nodeSeen({ id: OWN, address: { host: '1.2.3.4', port: 1 } });
    t.nodeSeen({ id: r.bytes(20), address: { host: '::1', port: 1 } });
    t.nodeSeen({ id: r.bytes(20), address: { host: '1.2.3.5', port: 0 } });
    t.nodeSeen({ id: r.bytes(19), address: { host: '1.2.3.6', port: 1 } });
    assert.equal(t.size(), 0);
  });

  test('one entry per IP; at most 2 of one /24 per bucket; relaxed hosts key by ip:port', () => {
    const t = table();
    presplit(t);
    const base = t.size();
    t.nodeSeen({ id: idAt(0, r.bytes(20)), address: { host: '9.9.9.1', port: 1000 } });
    t.nodeSeen({ id: idAt(0, r.bytes(20)), address: { host: '9.9.9.1', port: 1001 } });
    assert.equal(t.size() - base, 1, 'same IP, other port: refused while the first is good');
    t.nodeSeen({ id: idAt(0, r.bytes(20)), address: { host: '9.9.9.2', port: 1000 } });
    t.nodeSeen({ id: idAt(0, r.bytes(20)), address: { host: '9.9.9.3', port: 1000 } });
    assert.equal(t.size() - base, 2, 'third of a /24 in one bucket refused');
    t.nodeSeen({ id: idAt(1, r.bytes(20)), address: { host: '9.9.9.3', port: 1000 } });
    assert.equal(t.size() - base, 3, 'another bucket may take it');

    const relaxed = table(new ManualClock(), true);
    for (let p = 1; p <= 6; p++)
      relaxed.nodeSeen({ id: idAt(0, r.bytes(20)), address: { host: '127.0.0.1', port: p } });
    assert.equal(relaxed.size(), 6);
  });

  test('IPv6: at most 2 of one /64 per bucket; IPv4 contacts are refused by a v6 table', () => {
    const t = new RoutingTable({ ownId: OWN, clock: new ManualClock(), isRelaxed: () => false, family: 6 });
    for (const host of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff::3', '2001:db8:1:3::1']) {
      t.nodeSeen({ id: idAt(0, r.bytes(20)), address: { host, port: 1 } });
    }
    t.nodeSeen({ id: idAt(0, r.bytes(20)), address: { host: '1.1.1.1', port: 1 } });
    assert.deepEqual(
      t.all().map((n) => n.address.host),
      ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:3::1'],
    );
  });

  test('same address with a new id: an answer replaces the entry, hearsay does not', () => {
    const t = table();
    const a = { host: '5.5.5.5', port: 7 };
    const first = idAt(2, r.bytes(20));
    const second = idAt(5, r.bytes(20));
    t.nodeSeen({ id: first, address: a });
    t.heardAbout({ id: second, address: a });
    t.nodeQueried({ id: second, address: a });
    assert.deepEqual(
      t.all().map((n) => n.id),
      [first],
    );
    t.nodeSeen({ id: second, address: a });
    assert.deepEqual(
      t.all().map((n) => n.id),
      [second],
    );
    // The same id claimed from another address is ignored while the original is healthy.
    t.nodeSeen({ id: second, address: { host: '6.6.6.6', port: 7 } });
    assert.deepEqual(
      t.all().map((n) => n.address.host),
      ['5.5.5.5'],
    );
  });

  test('good → questionable after 15 min; nodeQueried keeps it good; pings handed out once per retry period', () => {
    const clock = new ManualClock();
    const t = table(clock);
    const a = node(idAt(0, r.bytes(20)), 1);
    const b = node(idAt(0, r.bytes(20)), 2);
    t.nodeSeen(a);
    t.nodeSeen(b);
    assert.equal(t.summary().good, 2);
    assert.deepEqual(t.questionableToPing(clock.monotonicMs(), 10), []);
    clock.advance(NODE_QUESTIONABLE_MS - 1000);
    t.nodeQueried(b);
    clock.advance(2000);
    assert.equal(t.summary().good, 1, 'b queried us recently: still good');
    const ping = t.questionableToPing(clock.monotonicMs(), 10);
    assert.deepEqual(
      ping.map((n) => n.id),
      [a.id],
    );
    assert.deepEqual(t.questionableToPing(clock.monotonicMs(), 10), [], 'not again right away');
    clock.advance(PING_RETRY_MS);
    assert.equal(t.questionableToPing(clock.monotonicMs(), 10).length, 1);
    t.nodeSeen(a);
    assert.equal(t.summary().good, 2);
  });

  test('a full bucket caches newcomers; two failures evict a node and promote the best replacement', () => {
    const clock = new ManualClock();
    const t = table(clock);
    // Fill bucket 0 (ids differing in the first bit: never split) with 8, then 3 more into the cache.
    const live = Array.from({ length: 8 }, (_, i) => node(idAt(0, r.bytes(20)), i));
    for (const n of live) t.nodeSeen(n);
    // Bucket 1 needs a node so bucket 0 is not the last one (and so cannot split).
    t.nodeSeen(node(idAt(1, r.bytes(20)), 50));
    const spare = Array.from({ length: 3 }, (_, i) => node(idAt(0, r.bytes(20)), 100 + i));
    t.heardAbout(spare[0]!);
    t.nodeSeen(spare[1]!);
    t.heardAbout(spare[2]!);
    assert.equal(t.bucketSizes()[0], 8);
    assert.equal(t.summary().replacements, 3);
    const victim = live[3]!;
    t.nodeFailed(victim.address);
    assert.ok(
      t.all().some((n) => n.id.equals(victim.id)),
      'one failure: questionable, kept',
    );
    t.nodeFailed(victim.address);
    const ids = t.all().map((n) => n.id.toString('hex'));
    assert.ok(!ids.includes(victim.id.toString('hex')), 'two failures: bad, evicted');
    assert.ok(ids.includes(spare[1]!.id.toString('hex')), 'the confirmed replacement was promoted');
    assert.equal(t.bucketSizes()[0], 8);
  });

  test('the replacement cache is bounded; a never-answered node is evicted on its first failure', () => {
    const t = table();
    t.nodeSeen(node(idAt(1, r.bytes(20)), 500));
    for (let i = 0; i < 40; i++) t.heardAbout(node(idAt(0, r.bytes(20)), i));
    assert.equal(t.bucketSizes()[0], 8);
    assert.equal(t.summary().replacements, REPLACEMENT_CACHE_SIZE);
    const unconfirmed = t.all().find((n) => commonPrefixBits(OWN, n.id) === 0)!;
    t.nodeFailed(unconfirmed.address);
    assert.ok(!t.all().some((n) => n.id.equals(unconfirmed.id)));
    assert.equal(t.bucketSizes()[0], 8, 'refilled from the cache');
  });

  test('a confirmed node displaces a never-answered live one; confirmedOnly hides unconfirmed', () => {
    const t = table();
    presplit(t);
    const heard = Array.from({ length: 8 }, (_, i) => node(idAt(0, r.bytes(20)), i));
    for (const n of heard) t.heardAbout(n);
    assert.equal(t.closest(OWN, 20, { confirmedOnly: true }).length, 9);
    assert.equal(t.closest(OWN, 20).length, 17);
    const good = node(idAt(0, r.bytes(20)), 99);
    t.nodeSeen(good);
    assert.ok(t.all().some((n) => n.id.equals(good.id)));
    assert.equal(t.bucketSizes()[0], 8);
  });

  test('a cached node that answers is promoted into room', () => {
    const t = table();
    t.nodeSeen(node(idAt(1, r.bytes(20)), 500));
    const live = Array.from({ length: 8 }, (_, i) => node(idAt(0, r.bytes(20)), i));
    for (const n of live) t.nodeSeen(n);
    const cached = node(idAt(0, r.bytes(20)), 77);
    t.heardAbout(cached);
    assert.ok(!t.all().some((n) => n.id.equals(cached.id)));
    assert.ok(
      t.questionableToPing(Date.now(), 10).some((n) => n.id.equals(cached.id)),
      'unconfirmed cache entry gets pinged',
    );
    t.nodeFailed(live[0]!.address);
    t.nodeFailed(live[0]!.address);
    assert.ok(t.all().some((n) => n.id.equals(cached.id)));
  });

  test('bucketsToRefresh: random targets inside each bucket idle 15 min, stalest first, once per period', () => {
    const clock = new ManualClock();
    const t = table(clock);
    const random = new SeededRandom('refresh');
    for (let i = 0; i < 60; i++) t.nodeSeen(node(idAt(i % 6, random.bytes(20)), i));
    const buckets = t.bucketSizes().length;
    assert.ok(buckets > 1);
    assert.deepEqual(t.bucketsToRefresh(clock.monotonicMs(), random, Infinity), []);
    clock.advance(NODE_QUESTIONABLE_MS);
    const targets = t.bucketsToRefresh(clock.monotonicMs(), random, Infinity);
    assert.equal(targets.length, buckets);
    const prefixes = targets.map((target) => commonPrefixBits(OWN, target));
    for (let i = 0; i < buckets - 1; i++) assert.ok(prefixes.includes(i), `bucket ${i} has a target`);
    assert.ok(
      prefixes.some((p) => p >= buckets - 1),
      'the last bucket too',
    );
    assert.deepEqual(t.bucketsToRefresh(clock.monotonicMs(), random, Infinity), [], 'asked once per period');
  });

  test('bucketsToRefresh by default hands out one bucket per call until all are done', () => {
    const clock = new ManualClock();
    const t = table(clock);
    const random = new SeededRandom('refresh1');
    for (let i = 0; i < 60; i++) t.nodeSeen(node(idAt(i % 6, random.bytes(20)), i));
    const buckets = t.bucketSizes().length;
    clock.advance(NODE_QUESTIONABLE_MS);
    const seen = new Set<number>();
    for (let i = 0; i < buckets; i++) {
      const one = t.bucketsToRefresh(clock.monotonicMs(), random);
      assert.equal(one.length, 1);
      seen.add(Math.min(commonPrefixBits(OWN, one[0]!), buckets - 1));
      clock.advance(5_000);
    }
    assert.equal(seen.size, buckets);
    assert.deepEqual(t.bucketsToRefresh(clock.monotonicMs(), random), []);
  });

  test('setOwnId rebuilds around the new id and drops an entry equal to it', () => {
    const t = table();
    const random = new SeededRandom('rekey');
    const nodes = Array.from({ length: 100 }, (_, i) => node(randomIdWithPrefix(OWN, i % 10, random), i));
    for (const n of nodes) t.nodeSeen(n);
    const newId = nodes[5]!.id;
    t.setOwnId(newId);
    assert.ok(t.ownId.equals(newId));
    const all = t.all();
    assert.ok(!all.some((n) => n.id.equals(newId)));
    assert.deepEqual(
      t.closest(newId, 8).map((x) => x.id.toString('hex')),
      naiveClosest(all, newId, 8),
    );
    assert.ok(all.length >= 8);
  });
});
