import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BEP44_ITEM_LIFETIME_MS } from '../../src/dht/constants.ts';
import { ItemStore, type StoredItem } from '../../src/dht/item-store.ts';

function immutable(n: number): StoredItem {
  const vBytes = Buffer.from(`1:${n % 10}`);
  return { kind: 'immutable', target: Buffer.alloc(20, n), v: Buffer.from(String(n % 10)), vBytes };
}

test('put then get; mutable replaces in place', () => {
  const store = new ItemStore();
  store.put(immutable(1), 0);
  assert.equal(store.get(Buffer.alloc(20, 1), 0)?.kind, 'immutable');
  assert.equal(store.get(Buffer.alloc(20, 2), 0), undefined);
  const target = Buffer.alloc(20, 9);
  const base = {
    kind: 'mutable' as const,
    target,
    v: 1,
    vBytes: Buffer.from('i1e'),
    k: Buffer.alloc(32),
    sig: Buffer.alloc(64),
  };
  store.put({ ...base, seq: 1 }, 0);
  store.put({ ...base, seq: 2 }, 0);
  const got = store.get(target, 0);
  assert.equal(got?.kind === 'mutable' ? got.seq : -1, 2);
  assert.equal(store.size, 2);
  assert.deepEqual(store.counts(), { immutable: 1, mutable: 1 });
});

test('items expire 2 hours after their last put; touch restarts the clock', () => {
  const store = new ItemStore();
  store.put(immutable(1), 0);
  store.put(immutable(2), 0);
  assert.equal(store.touch(Buffer.alloc(20, 2), BEP44_ITEM_LIFETIME_MS - 1), true);
  assert.equal(store.get(Buffer.alloc(20, 1), BEP44_ITEM_LIFETIME_MS - 1)?.kind, 'immutable');
  assert.equal(store.get(Buffer.alloc(20, 1), BEP44_ITEM_LIFETIME_MS), undefined);
  assert.equal(store.get(Buffer.alloc(20, 2), BEP44_ITEM_LIFETIME_MS)?.kind, 'immutable');
  assert.equal(store.purge(2 * BEP44_ITEM_LIFETIME_MS), 1);
  assert.equal(store.size, 0);
  assert.equal(store.touch(Buffer.alloc(20, 2), 0), false);
});

test('bounded: the least recently put item is evicted', () => {
  const store = new ItemStore({ maxItems: 3 });
  for (let i = 1; i <= 3; i++) store.put(immutable(i), i);
  store.touch(Buffer.alloc(20, 1), 10); // 1 becomes the most recent
  store.put(immutable(4), 11);
  assert.equal(store.size, 3);
  assert.equal(store.get(Buffer.alloc(20, 2), 11), undefined, '2 was the oldest');
  assert.ok(store.get(Buffer.alloc(20, 1), 11));
  assert.equal(store.evictedCount, 1);
  for (let i = 0; i < 10_000; i++) store.put(immutable(i % 250), 12 + i);
  assert.equal(store.size, 3);
});
