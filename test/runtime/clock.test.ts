/** The Clock seam: two readings with different origins, timers on monotonic time, wall time that can jump. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ManualClock,
  systemClock,
  VIRTUAL_MONOTONIC_START_MS,
  VIRTUAL_WALL_START_MS,
} from '../../src/runtime/index.ts';

const HOUR_MS = 3_600_000;

describe('ManualClock', () => {
  test('the two readings start far apart and advance together', () => {
    const clock = new ManualClock();
    assert.equal(clock.wallMs(), VIRTUAL_WALL_START_MS);
    assert.equal(clock.monotonicMs(), VIRTUAL_MONOTONIC_START_MS);
    assert.ok(clock.wallMs() - clock.monotonicMs() > 1_000_000_000_000, 'mixing them is off by decades');
    clock.advance(1234);
    assert.equal(clock.wallMs(), VIRTUAL_WALL_START_MS + 1234);
    assert.equal(clock.monotonicMs(), VIRTUAL_MONOTONIC_START_MS + 1234);
    const custom = new ManualClock(5_000, 7);
    assert.deepEqual([custom.wallMs(), custom.monotonicMs()], [5_000, 7]);
  });

  for (const deltaMs of [HOUR_MS, -HOUR_MS]) {
    test(`a wall jump of ${deltaMs / HOUR_MS} h moves wall time only: no timer fires early or late`, () => {
      const clock = new ManualClock();
      const firedAt: number[] = [];
      clock.setTimer(1000, () => firedAt.push(clock.monotonicMs()));
      clock.setTimer(2 * HOUR_MS, () => firedAt.push(clock.monotonicMs()));
      clock.advance(400);
      const monoBefore = clock.monotonicMs();
      clock.jumpWall(deltaMs);
      assert.equal(clock.monotonicMs(), monoBefore);
      assert.equal(clock.wallMs(), VIRTUAL_WALL_START_MS + 400 + deltaMs);
      assert.deepEqual(firedAt, [], 'a jump fires nothing, even a timer a forward jump passes');
      clock.advance(600);
      assert.deepEqual(
        firedAt,
        [VIRTUAL_MONOTONIC_START_MS + 1000],
        'due 1000 ms after it was set, as planned',
      );
      clock.advance(2 * HOUR_MS);
      assert.deepEqual(firedAt, [
        VIRTUAL_MONOTONIC_START_MS + 1000,
        VIRTUAL_MONOTONIC_START_MS + 2 * HOUR_MS,
      ]);
      assert.equal(
        clock.wallMs() - clock.monotonicMs(),
        VIRTUAL_WALL_START_MS - VIRTUAL_MONOTONIC_START_MS + deltaMs,
      );
    });
  }
});

test('systemClock: wall time is Unix ms; monotonic time never goes back', () => {
  const before = Date.now();
  const wallMs = systemClock.wallMs();
  assert.ok(wallMs >= before && wallMs <= Date.now());
  let last = systemClock.monotonicMs();
  for (let i = 0; i < 1000; i++) {
    const now = systemClock.monotonicMs();
    assert.ok(now >= last);
    last = now;
  }
  // Its origin is the process start's wall time: "0 means never" stays long ago from the first moment on.
  const sinceStartMs = last - performance.timeOrigin;
  assert.ok(sinceStartMs >= 0 && sinceStartMs <= performance.now() + 1, `${sinceStartMs} ms since the start`);
  assert.ok(last - 0 > 24 * 3600_000, 'a default of 0 reads as long ago');
});
