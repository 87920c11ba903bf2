import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayEpoch } from '../../../src/net/port-mapping/gateway-epoch.ts';

test('an epoch that keeps pace with our clock is the same gateway', () => {
  const epoch = new GatewayEpoch();
  assert.equal(epoch.note(1000, 0), false);
  assert.equal(epoch.note(1300, 300_000), false);
  // Clocks drift: within 2 s + 1/16 either way is fine.
  assert.equal(epoch.note(1300 + 3600 + 200, 300_000 + 3_600_000), false);
  assert.equal(epoch.note(5100 + 3600 - 200, 3_900_000 + 3_600_000), false);
});

test('an epoch that ran backwards by more than a second, or fell behind, is a restarted gateway (RFC 6887 §8.5)', () => {
  const backwards = new GatewayEpoch();
  backwards.note(1000, 0);
  assert.equal(backwards.note(998, 1000), true);
  const behind = new GatewayEpoch();
  behind.note(3, 0);
  // 300 s later by our clock, but only 200 s by the gateway's: it restarted 200 s ago.
  assert.equal(behind.note(200, 300_000), true);
  const ahead = new GatewayEpoch();
  ahead.note(100, 0);
  assert.equal(ahead.note(500, 100_000), true, 'a gateway clock 4x ours is not the same state either');
});

test('a second late or early on the first answers is not a restart', () => {
  const epoch = new GatewayEpoch();
  epoch.note(10, 0);
  assert.equal(epoch.note(9, 10), false, 'one second back is rounding');
  assert.equal(epoch.note(12, 2010), false);
});
