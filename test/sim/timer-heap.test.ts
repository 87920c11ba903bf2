import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimRandom } from '../../sim/sim-random.ts';
import { TimerHeap } from '../../sim/timer-heap.ts';

/** The naive twin: a list scanned for the earliest (due, order) entry. */
class NaiveQueue {
  items: Array<{ dueMs: number; order: number; label: number; isCancelled: boolean }> = [];
  #order = 0;
  push(dueMs: number, label: number): { cancel(): void } {
    const item = { dueMs, order: this.#order++, label, isCancelled: false };
    this.items.push(item);
    return { cancel: () => (item.isCancelled = true) };
  }
  pop(): number | undefined {
    let best: (typeof this.items)[number] | undefined;
    for (const i of this.items) {
      if (i.isCancelled) continue;
      if (best === undefined || i.dueMs < best.dueMs || (i.dueMs === best.dueMs && i.order < best.order))
        best = i;
    }
    if (best === undefined) return undefined;
    best.isCancelled = true;
    return best.label;
  }
}

test('the heap fires in the same order as its naive twin, with cancels and compaction', () => {
  const random = new SimRandom('timer-heap');
  const heap = new TimerHeap();
  const naive = new NaiveQueue();
  const fired: number[] = [];
  const handles: Array<[{ cancel(): void }, { cancel(): void }]> = [];
  const expected: number[] = [];
  for (let label = 0; label < 5000; label++) {
    // Few distinct due times: many ties, which must fire in scheduling order.
    const dueMs = random.int(200);
    handles.push([heap.push(dueMs, () => fired.push(label)), naive.push(dueMs, label)]);
    if (random.chance(0.6)) {
      const [a, b] = handles[random.int(handles.length)]!;
      a.cancel();
      b.cancel();
    }
  }
  for (let fn = heap.popDue(Number.POSITIVE_INFINITY); fn !== undefined; fn = heap.popDue(Infinity)) fn();
  for (let label = naive.pop(); label !== undefined; label = naive.pop()) expected.push(label);
  assert.ok(expected.length > 1000);
  assert.deepEqual(fired, expected);
  assert.equal(heap.liveCount, 0);
});

test('popDue leaves entries due later than the limit in place', () => {
  const heap = new TimerHeap();
  heap.push(10, () => {});
  heap.push(5, () => {});
  assert.equal(heap.peekDueMs(), 5);
  assert.notEqual(heap.popDue(7), undefined);
  assert.equal(heap.popDue(7), undefined);
  assert.equal(heap.liveCount, 1);
});

test('a late cancel of a fired entry does not count as cancelled', () => {
  const heap = new TimerHeap();
  const entry = heap.push(1, () => {});
  heap.push(2, () => {});
  heap.popDue(1)?.();
  entry.cancel();
  assert.equal(heap.liveCount, 1);
});
