import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChurnModel } from '../../sim/churn-model.ts';
import { gammaFunction } from '../../sim/distributions.ts';
import { SimRandom } from '../../sim/sim-random.ts';

const WINDOW_MS = 15 * 60_000;

test('sessions have the mean the churn level asks for (window / level)', () => {
  const model = new ChurnModel({ level: 0.2, sessionShape: 0.5, windowMs: WINDOW_MS });
  assert.equal(model.meanSessionMs, WINDOW_MS / 0.2);
  const random = new SimRandom('sessions');
  let sum = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) sum += model.sessionMs(random);
  const relativeError = Math.abs(sum / n / model.meanSessionMs - 1);
  assert.ok(relativeError < 0.05, `mean off by ${relativeError}`);
});

test('residual lifetimes have the renewal-theory mean E[L²] / 2E[L] (so the population starts stationary)', () => {
  const shape = 0.5;
  const model = new ChurnModel({ level: 0.4, sessionShape: shape, windowMs: WINDOW_MS });
  const lambda = model.scaleMs;
  const expected = (lambda * gammaFunction(1 + 2 / shape)) / (2 * gammaFunction(1 + 1 / shape));
  const random = new SimRandom('residuals');
  let sum = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) sum += model.residualMs(random);
  const relativeError = Math.abs(sum / n / expected - 1);
  assert.ok(relativeError < 0.06, `residual mean off by ${relativeError}`);
});

test('no churn: nobody leaves', () => {
  const model = new ChurnModel({ level: 0, sessionShape: 0.5 });
  const random = new SimRandom('none');
  assert.equal(model.isActive, false);
  assert.equal(model.sessionMs(random), Number.POSITIVE_INFINITY);
  assert.equal(model.residualMs(random), Number.POSITIVE_INFINITY);
  assert.throws(() => new ChurnModel({ level: 1, sessionShape: 0.5 }), RangeError);
});

test('the Lanczos gamma function matches known values', () => {
  assert.ok(Math.abs(gammaFunction(5) - 24) < 1e-9);
  assert.ok(Math.abs(gammaFunction(0.5) - Math.sqrt(Math.PI)) < 1e-12);
  assert.ok(Math.abs(gammaFunction(3) - 2) < 1e-12);
});
