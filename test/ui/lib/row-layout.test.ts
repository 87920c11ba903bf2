/** The windowed list's arithmetic (ui/src/lib/row-layout.ts), against a naive twin that sums heights each time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RowLayout } from '../../../ui/src/lib/row-layout.ts';

test('offsets are prefix sums of estimates, then of measured heights; measuring the same height is no change', () => {
  const layout = new RowLayout();
  layout.setRows(['a', 'b', 'c'], () => 10);
  assert.equal(layout.totalHeight(), 30);
  assert.equal(layout.measure('b', 25), true);
  assert.equal(layout.measure('b', 25.2), false);
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => layout.offsetOf(i)),
    [0, 10, 35, 45],
  );
});

test('a measured height stays with its row when rows are added above it (an older page)', () => {
  const layout = new RowLayout();
  layout.setRows(['m1', 'm2'], () => 20);
  layout.measure('m1', 50);
  layout.setRows(['o1', 'o2', 'm1', 'm2'], () => 20);
  assert.equal(layout.indexOf('m1'), 2);
  assert.equal(layout.offsetOf(3), 20 + 20 + 50);
});

test('range() returns exactly the rows intersecting the window plus overscan, as a naive scan does', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 200 }),
      fc.integer({ min: 0, max: 20_000 }),
      fc.integer({ min: 1, max: 2000 }),
      fc.integer({ min: 0, max: 500 }),
      (heights, top, height, overscan) => {
        const layout = new RowLayout();
        layout.setRows(
          heights.map((_, i) => `r${i}`),
          (i) => heights[i] ?? 0,
        );
        const { start, end } = layout.range(top, height, overscan);
        // Naive: rows whose [y, y + h) meets [top - overscan, top + height + overscan], clamped to the rows.
        const lo = top - overscan;
        const hi = top + height + overscan;
        let y = 0;
        const hits: number[] = [];
        heights.forEach((h, i) => {
          if (y + h > lo && y <= hi) hits.push(i);
          y += h;
        });
        const total = y;
        if (hits.length === 0) {
          // Past either end: the nearest row is drawn (the list never draws nothing while it has rows).
          assert.equal(end - start, 1);
          assert.equal(start, lo >= total ? heights.length - 1 : 0);
          return;
        }
        assert.equal(start, hits[0]);
        assert.equal(end, (hits.at(-1) ?? 0) + 1);
      },
    ),
  );
});
