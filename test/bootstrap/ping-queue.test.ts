import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PingQueue, QueueAdmission } from '../../src/bootstrap/ping-queue.ts';
import { RecentRequesters } from '../../src/bootstrap/recent-requesters.ts';

const addr = (i: number, port = 1): Buffer =>
  Buffer.from([9, (i >> 16) & 255, (i >> 8) & 255, i & 255, port >> 8, port & 255]);

describe('PingQueue', () => {
  test('queues each IP once and releases entries in order after the delay', () => {
    const queue = new PingQueue({ family: 4, capacity: 10, delayMs: 100, isPortKeyed: () => false, seed: 3 });
    assert.equal(queue.insert(addr(1), 0, 0, 0), QueueAdmission.inserted);
    assert.equal(queue.insert(addr(1, 2), 0, 0, 5), QueueAdmission.duplicate);
    assert.equal(queue.insert(addr(2), 0, 1, 10), QueueAdmission.inserted);
    assert.equal(queue.nextDueMs(), 100);
    assert.equal(queue.popDue(99), -1);
    const slot = queue.popDue(100);
    assert.ok(slot >= 0);
    assert.deepEqual([...queue.store.subarray(slot * 7 + 1, slot * 7 + 7)], [...addr(1)]);
    assert.equal(queue.popDue(105), -1);
    const second = queue.popDue(110);
    assert.equal(queue.store[second * 7], 1, 'socket index kept');
    assert.equal(queue.size, 0);
    assert.equal(queue.insert(addr(1), 0, 0, 200), QueueAdmission.inserted, 'free to queue again');
  });

  test('admission falls linearly once half full and never exceeds capacity', () => {
    const capacity = 1000;
    const queue = new PingQueue({ family: 4, capacity, delayMs: 1e9, isPortKeyed: () => false, seed: 3 });
    let accepted = 0;
    let refusedBeforeHalf = 0;
    for (let i = 0; i < 20000; i++) {
      const r = queue.insert(addr(i), 0, 0, 0);
      if (r === QueueAdmission.inserted) accepted++;
      else if (queue.size < capacity / 2) refusedBeforeHalf++;
    }
    assert.equal(refusedBeforeHalf, 0);
    assert.ok(queue.size <= capacity);
    assert.equal(queue.size, accepted);
    assert.ok(queue.size > capacity * 0.9, `filled to ${queue.size}`);
  });
});

describe('RecentRequesters', () => {
  test('a key repeats within the window, not after; the ring forgets the oldest when full', () => {
    const recent = new RecentRequesters({ capacity: 3, windowMs: 100, seed: 1 });
    const k = (i: number): Buffer => Buffer.from([1, 2, 3, i]);
    assert.equal(recent.isRepeat(k(1), 0, 4, 0), false);
    assert.equal(recent.isRepeat(k(1), 0, 4, 50), true);
    assert.equal(recent.isRepeat(k(1), 0, 4, 150), false, 'window expired');
    assert.equal(recent.isRepeat(k(1), 0, 4, 160), true);
    recent.isRepeat(k(2), 0, 4, 160);
    recent.isRepeat(k(3), 0, 4, 160);
    recent.isRepeat(k(4), 0, 4, 160);
    assert.equal(recent.size, 3);
    assert.equal(recent.isRepeat(k(1), 0, 4, 161), false, 'evicted as the oldest');
  });
});
