import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INTERNET_LATENCY, LatencyModel } from '../../sim/latency-model.ts';
import { SimRandom } from '../../sim/sim-random.ts';

test('site-pair RTTs are symmetric, stable and log-normal with the fitted median and spread', () => {
  const model = new LatencyModel(INTERNET_LATENCY, 'latency');
  const logs: number[] = [];
  for (let a = 0; a < 200; a++) {
    for (let b = a + 1; b < a + 51; b++) {
      const rtt = model.rttMs(a, b);
      assert.equal(rtt, model.rttMs(b, a));
      logs.push(Math.log(rtt));
    }
  }
  const mu = logs.reduce((s, v) => s + v, 0) / logs.length;
  const sigma = Math.sqrt(logs.reduce((s, v) => s + (v - mu) ** 2, 0) / logs.length);
  assert.ok(Math.abs(Math.exp(mu) - INTERNET_LATENCY.rttMedianMs) < 5, `median ${Math.exp(mu)}`);
  assert.ok(Math.abs(sigma - INTERNET_LATENCY.rttSigma) < 0.03, `sigma ${sigma}`);
  assert.equal(new LatencyModel(INTERNET_LATENCY, 'latency').rttMs(3, 7), model.rttMs(3, 7));
  assert.notEqual(new LatencyModel(INTERNET_LATENCY, 'other seed').rttMs(3, 7), model.rttMs(3, 7));
  assert.equal(model.rttMs(9, 9), INTERNET_LATENCY.minRttMs);
});

test('one-way delays are half the RTT plus bounded jitter; the loss rate is as configured', () => {
  const model = new LatencyModel({ ...INTERNET_LATENCY, lossRate: 0.05 }, 'loss');
  const random = new SimRandom('loss');
  const half = model.rttMs(1, 2) / 2;
  let lost = 0;
  const trials = 20_000;
  for (let i = 0; i < trials; i++) {
    const d = model.oneWayMs(1, 2, random);
    if (d === undefined) {
      lost++;
      continue;
    }
    assert.ok(d >= half && d <= half * (1 + INTERNET_LATENCY.jitterFraction));
  }
  assert.ok(Math.abs(lost / trials - 0.05) < 0.01, `loss ${lost / trials}`);
});
