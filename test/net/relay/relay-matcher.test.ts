/**
 * RelayMatcher: matching by token and opposite role, replacement, expiry, and every cap a stranger runs into
 * (per host, per subnet, join rate, waiting halves, pairs, byte budget), each with the exact refusal.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type RelayJoin, RelayMatcher, RelayRefusal } from '../../../src/net/relay/index.ts';

const token = (n: number): Buffer => Buffer.alloc(32, n);
const join = (role: 0 | 1, ...tokens: number[]): RelayJoin => ({ role, tokens: tokens.map(token) });

describe('RelayMatcher', () => {
  test('two halves of opposite roles with one token are matched; the pair frees its places when it ends', () => {
    const m = new RelayMatcher();
    assert.deepEqual(m.join(1, '203.0.113.1', join(0, 7), 0), {
      kind: 'wait',
      waitMs: 20_000,
      replaced: undefined,
    });
    const matched = m.join(2, '198.51.100.2', join(1, 7), 10);
    assert.equal(matched.kind, 'match');
    assert.equal(matched.kind === 'match' && matched.partner, 1);
    assert.deepEqual(m.counts(), { waiting: 0, pairs: 1, hosts: 2, budgets: 1 });
    assert.equal(m.leave(2), 1, 'the partner is named so the server closes it');
    assert.deepEqual(m.counts(), { waiting: 0, pairs: 0, hosts: 0, budgets: 1 });
    assert.equal(m.leave(1), undefined);
  });

  test('a half near an epoch boundary matches on either of its two tokens', () => {
    const m = new RelayMatcher();
    m.join(1, '203.0.113.1', join(0, 7, 8), 0);
    assert.equal(m.join(2, '198.51.100.2', join(1, 8), 0).kind, 'match');
    assert.equal(m.counts().waiting, 0, 'the matched half left both token slots');
  });

  test('the same role never meets itself: a second half of that role replaces the first', () => {
    const m = new RelayMatcher();
    m.join(1, '203.0.113.1', join(0, 7), 0);
    assert.deepEqual(m.join(2, '203.0.113.1', join(0, 7), 5), { kind: 'wait', waitMs: 20_000, replaced: 1 });
    assert.equal(m.counts().waiting, 1);
    const matched = m.join(3, '198.51.100.2', join(1, 7), 10);
    assert.equal(matched.kind === 'match' && matched.partner, 2);
  });

  test('a token already paired is refused (no third party joins a pair)', () => {
    const m = new RelayMatcher();
    m.join(1, '203.0.113.1', join(0, 7), 0);
    m.join(2, '198.51.100.2', join(1, 7), 0);
    assert.deepEqual(m.join(3, '192.0.2.3', join(1, 7), 0), {
      kind: 'refuse',
      reason: RelayRefusal.tokenInUse,
    });
  });

  test('a waiting half expires after waitMs', () => {
    const m = new RelayMatcher({ waitMs: 1000 });
    m.join(1, '203.0.113.1', join(0, 7), 0);
    m.join(2, '203.0.113.1', join(0, 8), 500);
    assert.equal(m.nextDeadlineMs(), 1000);
    assert.deepEqual(m.expired(999), []);
    assert.deepEqual(m.expired(1000), [1]);
    m.leave(1);
    assert.equal(m.nextDeadlineMs(), 1500);
  });

  test('halves per host and per subnet are capped, waiting or paired', () => {
    const m = new RelayMatcher({ maxHalvesPerHost: 2, maxHalvesPerSubnet: 3, joinBurstPerHost: 100 });
    m.join(1, '203.0.113.1', join(0, 1), 0);
    m.join(2, '203.0.113.1', join(0, 2), 0);
    assert.deepEqual(m.join(3, '203.0.113.1', join(0, 3), 0), {
      kind: 'refuse',
      reason: RelayRefusal.sourceLimit,
    });
    m.join(4, '203.0.113.2', join(1, 1), 0); // pairs with 1: still counts for the subnet
    assert.deepEqual(m.join(5, '203.0.113.9', join(0, 5), 0), {
      kind: 'refuse',
      reason: RelayRefusal.sourceLimit,
    });
    assert.equal(m.join(6, '203.0.114.9', join(0, 5), 0).kind, 'wait', 'another /24 is not held back');
    // IPv6: the /64 is the subnet.
    const v6 = new RelayMatcher({ maxHalvesPerSubnet: 1 });
    v6.join(1, '2001:db8:0:1::1', join(0, 1), 0);
    assert.equal(v6.join(2, '2001:db8:0:1::2', join(0, 2), 0).kind, 'refuse');
    assert.equal(v6.join(3, '2001:db8:0:2::1', join(0, 3), 0).kind, 'wait');
  });

  test('joins per host are rate-limited (a source cannot churn halves)', () => {
    const m = new RelayMatcher({ joinsPerSecPerHost: 1, joinBurstPerHost: 3, maxHalvesPerHost: 100 });
    let refused = 0;
    for (let i = 0; i < 10; i++) {
      const decision = m.join(i, '203.0.113.1', join(0, i), 0);
      if (decision.kind === 'refuse') {
        assert.equal(decision.reason, RelayRefusal.sourceLimit);
        refused++;
        continue;
      }
      m.leave(i);
    }
    assert.equal(refused, 7);
    assert.equal(m.join(100, '203.0.113.1', join(0, 100), 1000).kind, 'wait', 'a second later: one more');
  });

  test('waiting halves and pairs in all are capped (busy)', () => {
    const m = new RelayMatcher({ maxWaitingHalves: 2, maxPairs: 1 });
    m.join(1, '192.0.2.1', join(0, 1), 0);
    m.join(2, '192.0.3.1', join(0, 2), 0);
    assert.deepEqual(m.join(3, '192.0.4.1', join(0, 3), 0), { kind: 'refuse', reason: RelayRefusal.busy });
    assert.equal(m.join(4, '192.0.5.1', join(1, 1), 0).kind, 'match');
    assert.deepEqual(m.join(5, '192.0.6.1', join(1, 2), 0), { kind: 'refuse', reason: RelayRefusal.busy });
  });

  test('a pair that spent its budget is refused again until the window turns', () => {
    const m = new RelayMatcher({ pairBudgetBytes: 1000, budgetWindowMs: 60_000 });
    m.join(1, '192.0.2.1', join(0, 7), 0);
    const matched = m.join(2, '192.0.3.1', join(1, 7), 0);
    assert.ok(matched.kind === 'match');
    assert.equal(m.charge(matched.pairId, 600, 10), true);
    assert.equal(m.charge(matched.pairId, 600, 20), false);
    m.leave(1);
    assert.deepEqual(m.join(3, '192.0.2.1', join(0, 7), 30), {
      kind: 'refuse',
      reason: RelayRefusal.budgetSpent,
    });
    assert.equal(m.join(4, '192.0.2.1', join(0, 7), 60_001).kind, 'wait');
  });

  test('budgets are bounded in number, the least recently used forgotten first', () => {
    const m = new RelayMatcher({ maxBudgets: 3, joinBurstPerHost: 1000, maxHalvesPerHost: 1000 });
    for (let i = 0; i < 10; i++) {
      m.join(2 * i, '192.0.2.1', join(0, i), i);
      m.join(2 * i + 1, '192.0.3.1', join(1, i), i);
      m.leave(2 * i);
    }
    assert.equal(m.counts().budgets, 3);
    assert.equal(m.counts().pairs, 0);
  });
});
