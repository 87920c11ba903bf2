import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventScheduler } from '../../sim/event-scheduler.ts';
import { VIRTUAL_MONOTONIC_START_MS, VIRTUAL_WALL_START_MS } from '../../src/runtime/index.ts';

const HOUR_MS = 3_600_000;

test('promise continuations run before the next instant, at the time of the event that resolved them', async () => {
  const scheduler = new EventScheduler(0, 0);
  const seen: string[] = [];
  const wait = (ms: number): Promise<void> => new Promise((resolve) => scheduler.setTimer(ms, resolve));
  const flow = (async () => {
    await wait(10);
    await Promise.resolve();
    seen.push(`a@${scheduler.monotonicMs()}`);
    await wait(5);
    seen.push(`b@${scheduler.monotonicMs()}`);
  })();
  scheduler.setTimer(11, () => seen.push(`t@${scheduler.monotonicMs()}`));
  await scheduler.settle(flow, { maxWallMs: 10_000 });
  assert.deepEqual(seen, ['a@10', 't@11', 'b@15']);
});

test('run stops at untilMs, on an event limit, and when idle', async () => {
  const scheduler = new EventScheduler(0, 0);
  let count = 0;
  const tick = (): void => {
    count++;
    scheduler.setTimer(100, tick);
  };
  scheduler.setTimer(0, tick);
  assert.equal(await scheduler.run({ untilMs: 1_000 }), 'time');
  assert.equal(scheduler.monotonicMs(), 1_000);
  assert.equal(count, 11);
  assert.equal(await scheduler.run({ maxEvents: 5 }), 'event-limit');
  assert.equal(count, 16);
  const idle = new EventScheduler(0, 0);
  idle.setTimer(50, () => {});
  assert.equal(await idle.run({}), 'idle');
  assert.equal(idle.monotonicMs(), 50);
  assert.equal(await idle.runFor(1_000), 'time');
  assert.equal(idle.monotonicMs(), 1_050);
});

test('settle rejects when a limit comes first', async () => {
  const scheduler = new EventScheduler(0, 0);
  const never = new Promise<void>((resolve) => scheduler.setTimer(10_000, resolve));
  await assert.rejects(scheduler.settle(never, { untilMs: 500 }), /stopped \(time\)/);
  assert.equal(scheduler.monotonicMs(), 500);
});

test('delays are whole milliseconds, rounded up; cancelled timers never fire', async () => {
  const scheduler = new EventScheduler(0, 0);
  const fired: number[] = [];
  scheduler.setTimer(0.2, () => fired.push(scheduler.monotonicMs()));
  scheduler.setTimer(3, () => fired.push(-1)).cancel();
  await scheduler.run({});
  assert.deepEqual(fired, [1]);
  assert.equal(scheduler.pendingCount, 0);
});

test('the simulator clock has the same two origins and wall jump', async () => {
  const scheduler = new EventScheduler();
  assert.equal(scheduler.wallMs(), VIRTUAL_WALL_START_MS);
  assert.equal(scheduler.monotonicMs(), VIRTUAL_MONOTONIC_START_MS);
  const firedAt: number[] = [];
  scheduler.setTimer(1000, () => firedAt.push(scheduler.monotonicMs()));
  scheduler.jumpWall(-HOUR_MS);
  await scheduler.runFor(2000);
  assert.deepEqual(firedAt, [VIRTUAL_MONOTONIC_START_MS + 1000]);
  assert.equal(scheduler.wallMs(), VIRTUAL_WALL_START_MS - HOUR_MS + 2000);
});
