/** When the outbox goes to the DHT: 8 s while the friend may answer a dial, 2 s once they are away. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  OFFLINE_AFTER_MS,
  OFFLINE_WHEN_AWAY_MS,
  OfflineScheduler,
} from '../../src/chat/offline-scheduler.ts';
import { ManualClock, nullLogger } from '../../src/runtime/index.ts';

function setup() {
  const clock = new ManualClock();
  const t0 = clock.monotonicMs();
  const online = new Set<number>();
  const sessions = new Set<number>();
  const pathless = new Set<number>();
  const stored: [number, number][] = [];
  const scheduler = new OfflineScheduler({
    clock,
    logger: nullLogger,
    isOnline: (peer) => online.has(peer[0]!),
    hasSession: (peer) => sessions.has(peer[0]!),
    isPathless: (peer) => pathless.has(peer[0]!),
    store: async (peer) => void stored.push([peer[0]!, clock.monotonicMs() - t0]),
  });
  return { clock, online, sessions, pathless, stored, scheduler };
}

test('a friend no direct path can reach (both NATs randomise): the DHT at once, even when patient', () => {
  const { clock, online, pathless, stored, scheduler } = setup();
  online.add(4);
  pathless.add(4);
  scheduler.schedule(Buffer.of(4), true);
  clock.advance(0);
  assert.deepEqual(stored, [[4, 0]]);
});

test('away friends wait OFFLINE_WHEN_AWAY_MS; online ones and patient waits OFFLINE_AFTER_MS', () => {
  const { clock, online, stored, scheduler } = setup();
  online.add(2);
  scheduler.schedule(Buffer.of(1), false);
  scheduler.schedule(Buffer.of(2), false);
  scheduler.schedule(Buffer.of(3), true);
  scheduler.schedule(Buffer.of(1), true); // already waiting: no second timer
  clock.advance(OFFLINE_AFTER_MS);
  assert.deepEqual(stored, [
    [1, OFFLINE_WHEN_AWAY_MS],
    [2, OFFLINE_AFTER_MS],
    [3, OFFLINE_AFTER_MS],
  ]);
});

test('a session that came up, a cancel, or close() stores nothing; cancel then schedule starts over', () => {
  const { clock, sessions, stored, scheduler } = setup();
  sessions.add(1);
  scheduler.schedule(Buffer.of(1), false);
  scheduler.schedule(Buffer.of(2), true);
  clock.advance(1000);
  scheduler.cancel(Buffer.of(2));
  scheduler.schedule(Buffer.of(2), false);
  clock.advance(OFFLINE_WHEN_AWAY_MS);
  assert.deepEqual(stored, [[2, 1000 + OFFLINE_WHEN_AWAY_MS]]);
  scheduler.schedule(Buffer.of(3), false);
  scheduler.close();
  scheduler.schedule(Buffer.of(4), false);
  clock.advance(OFFLINE_AFTER_MS);
  assert.equal(stored.length, 1);
});
