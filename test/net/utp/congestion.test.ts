/** Unit tier: LEDBAT arithmetic, the base-delay history and the BEP 29 RTT/timeout formulas. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DelayHistory } from '../../../src/net/utp/congestion/delay-history.ts';
import { Ledbat } from '../../../src/net/utp/congestion/ledbat.ts';
import { RttEstimator } from '../../../src/net/utp/rtt.ts';

const ledbat = () =>
  new Ledbat({
    initialWindowBytes: 4000,
    minWindowBytes: 150,
    maxWindowBytes: 1_000_000,
    targetDelayUs: 100_000,
  });

describe('LEDBAT', () => {
  test('slow start adds the acked bytes while the delay is under target', () => {
    const l = ledbat();
    l.onAck(2000, 4000, 0, true);
    assert.equal(l.windowBytes, 6000);
    assert.ok(l.isSlowStart);
  });

  test('a delay at the target ends slow start by halving; above it the window shrinks in proportion', () => {
    const l = ledbat();
    for (let i = 0; i < 20; i++) l.onAck(4000, 4000, 0, true);
    const grown = l.windowBytes;
    l.onAck(4000, grown, 100_000, true);
    assert.equal(l.isSlowStart, false);
    assert.equal(l.windowBytes, grown / 2);
    // off_target = -target: gain = 3000 * (-1) * (acked / in flight) = -3000 for a whole window acked.
    l.onAck(grown / 2, grown / 2, 200_000, true);
    assert.equal(l.windowBytes, grown / 2 - 3000);
  });

  test('below target and out of slow start, the window grows by at most 3000 bytes per window acked', () => {
    const l = ledbat();
    l.onLoss(); // leaves slow start: window 2000
    assert.equal(l.windowBytes, 2000);
    l.onAck(2000, 2000, 50_000, true); // half the target: +1500
    assert.equal(l.windowBytes, 3500);
    l.onAck(3500, 3500, 50_000, false); // not using the window: no growth
    assert.equal(l.windowBytes, 3500);
  });

  test('loss halves the window (never under the minimum); a timeout drops it to the given packet size', () => {
    const l = ledbat();
    l.onLoss();
    assert.equal(l.windowBytes, 2000);
    for (let i = 0; i < 10; i++) l.onLoss();
    assert.equal(l.windowBytes, 150);
    l.onTimeout(2840);
    assert.equal(l.windowBytes, 2840);
    assert.ok(l.isSlowStart);
  });
});

describe('base delay history', () => {
  test('queuing delay is the sample over the minimum, across the 32-bit wrap', () => {
    const h = new DelayHistory();
    assert.equal(h.addSample(0xffff_fff0, 0), 0);
    assert.equal(h.addSample(0x0000_0010, 10), 0x20, 'wrapped sample is 32 µs later, not 4 billion earlier');
    assert.equal(h.addSample(0xffff_ffe0, 20), 0, 'a lower sample becomes the base');
    assert.equal(h.addSample(0xffff_fff0, 30), 0x10);
  });

  test('an old minimum ages out after two minutes', () => {
    const h = new DelayHistory();
    h.addSample(1000, 0);
    h.addSample(5000, 30_000);
    assert.equal(h.addSample(5000, 61_000), 4000);
    assert.equal(h.addSample(5000, 100_000), 4000, 'the sample of t=0 is inside the last two minutes');
    assert.equal(h.addSample(5000, 122_000), 0, 'over two minutes old: only 5000-sample buckets remain');
  });
});

describe('RTT and timeout (BEP 29 "timeouts")', () => {
  test('1000 ms before any sample; never under 500 ms; rtt and rtt_var follow the BEP formulas', () => {
    const r = new RttEstimator(500, 3000);
    assert.equal(r.timeoutMs(0), 1000);
    r.addSample(100); // first sample: rtt = 100, rtt_var = 50
    assert.equal(r.timeoutMs(0), 500);
    r.addSample(900); // delta = -800: rtt_var += (800 - 50) / 4 = 237.5; rtt += 800 / 8 = 200
    assert.equal(r.rttMs, 200);
    assert.equal(r.timeoutMs(0), 200 + 237.5 * 4);
    assert.equal(r.minRttMs, 100);
  });

  test('consecutive timeouts double it up to the ceiling, which an RTT-derived timeout may exceed', () => {
    const r = new RttEstimator(500, 3000);
    r.addSample(100);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((n) => r.timeoutMs(n)),
      [500, 1000, 2000, 3000, 3000],
    );
    const slow = new RttEstimator(500, 3000);
    slow.addSample(4000);
    assert.equal(slow.timeoutMs(3), 4000 + 2000 * 4);
  });
});
