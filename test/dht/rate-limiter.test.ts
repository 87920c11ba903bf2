import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../../src/dht/rate-limiter.ts';

test('a burst is allowed, then the rate', () => {
  const r = new RateLimiter({ ratePerSec: 10, burst: 5 });
  for (let i = 0; i < 5; i++) assert.equal(r.allow('a', 0), true);
  assert.equal(r.allow('a', 0), false);
  assert.equal(r.allow('a', 99), false, '0.99 tokens earned');
  assert.equal(r.allow('a', 100), true, 'one token after 100 ms');
  assert.equal(r.allow('a', 100), false);
  assert.equal(r.droppedCount, 3);
  // Refill is capped at the burst.
  for (let i = 0; i < 5; i++) assert.equal(r.allow('a', 1_000_000), true);
  assert.equal(r.allow('a', 1_000_000), false);
});

test('sources are independent', () => {
  const r = new RateLimiter({ ratePerSec: 1, burst: 1 });
  assert.equal(r.allow('a', 0), true);
  assert.equal(r.allow('a', 0), false);
  assert.equal(r.allow('b', 0), true);
});

test('tracked sources are bounded; the quietest is forgotten first', () => {
  const r = new RateLimiter({ ratePerSec: 1, burst: 1, maxSources: 3 });
  r.allow('a', 0);
  r.allow('b', 0);
  r.allow('c', 0);
  r.allow('a', 0); // a is refused but now the most recent
  r.allow('d', 0); // evicts b
  assert.equal(r.trackedSources, 3);
  assert.equal(r.allow('a', 0), false, 'a is still tracked and still empty');
  assert.equal(r.allow('b', 0), true, 'b was forgotten, starts with a full bucket');
  for (let i = 0; i < 100_000; i++) r.allow(`s${i}`, i);
  assert.equal(r.trackedSources, 3);
});

test('a clock going backwards earns no tokens', () => {
  const r = new RateLimiter({ ratePerSec: 1000, burst: 1 });
  assert.equal(r.allow('a', 1000), true);
  assert.equal(r.allow('a', 0), false);
  assert.equal(r.allow('a', 999), false);
  assert.equal(r.allow('a', 1001), true);
});
