/**
 * The simulator's one queue of pending events: a binary min-heap ordered by (due time, scheduling order), so
 * ties fire in the order they were scheduled and a run replays exactly. Every node's timers and every packet in
 * flight live here: a hundred thousand DhtNodes cost one heap, not a hundred thousand timer structures.
 *
 * Cancelling is lazy (the entry is marked and skipped when it surfaces) because a KRPC timeout is cancelled by
 * almost every answer; when cancelled entries outnumber live ones the heap is rebuilt without them, so memory
 * stays proportional to what is really pending. test/sim/timer-heap.test.ts checks it against a naive twin.
 */

/** One pending callback; cancel() is idempotent. The heap hands these out as the Clock's Timer. */
export class HeapEntry {
  readonly dueMs: number;
  readonly order: number;
  fn: (() => void) | undefined;
  readonly #heap: TimerHeap;

  constructor(heap: TimerHeap, dueMs: number, order: number, fn: () => void) {
    this.#heap = heap;
    this.dueMs = dueMs;
    this.order = order;
    this.fn = fn;
  }

  cancel(): void {
    if (this.fn === undefined) return;
    this.fn = undefined;
    this.#heap.noteCancelled();
  }
}

function isBefore(a: HeapEntry, b: HeapEntry): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.order < b.order);
}

/** Below this many entries a rebuild is never worth it. */
const MIN_COMPACT_SIZE = 1024;

export class TimerHeap {
  #items: HeapEntry[] = [];
  #order = 0;
  #cancelled = 0;

  /** Entries not cancelled yet. */
  get liveCount(): number {
    return this.#items.length - this.#cancelled;
  }

  push(dueMs: number, fn: () => void): HeapEntry {
    const entry = new HeapEntry(this, dueMs, this.#order++, fn);
    this.#items.push(entry);
    this.#siftUp(this.#items.length - 1);
    return entry;
  }

  /** The due time of the earliest live entry, or undefined when none is left. */
  peekDueMs(): number | undefined {
    this.#dropCancelledTop();
    return this.#items[0]?.dueMs;
  }

  /** Removes and returns the earliest live entry's callback if it is due at or before limitMs. */
  popDue(limitMs: number): (() => void) | undefined {
    this.#dropCancelledTop();
    const top = this.#items[0];
    if (top === undefined || top.dueMs > limitMs) return undefined;
    this.#removeTop();
    const fn = top.fn;
    // Marked spent, so a late cancel() of a fired timer does not count as a cancelled entry.
    top.fn = undefined;
    return fn;
  }

  /** @internal called by HeapEntry.cancel() */
  noteCancelled(): void {
    this.#cancelled++;
    if (this.#items.length >= MIN_COMPACT_SIZE && this.#cancelled * 2 > this.#items.length) this.#compact();
  }

  #dropCancelledTop(): void {
    while (this.#items.length > 0 && this.#items[0]!.fn === undefined) {
      this.#removeTop();
      this.#cancelled--;
    }
  }

  #removeTop(): void {
    const last = this.#items.pop()!;
    if (this.#items.length === 0) return;
    this.#items[0] = last;
    this.#siftDown(0);
  }

  #compact(): void {
    this.#items = this.#items.filter((e) => e.fn !== undefined);
    this.#cancelled = 0;
    // Floyd's heap construction: sift down every inner node, last first.
    for (let i = (this.#items.length >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  #siftUp(index: number): void {
    const items = this.#items;
    const entry = items[index]!;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!isBefore(entry, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = entry;
  }

  #siftDown(index: number): void {
    const items = this.#items;
    const length = items.length;
    const entry = items[index]!;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && isBefore(items[right]!, items[left]!) ? right : left;
      const c = items[child]!;
      if (!isBefore(c, entry)) break;
      items[i] = c;
      i = child;
    }
    items[i] = entry;
  }
}
