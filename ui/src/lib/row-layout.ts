/**
 * The arithmetic of a windowed list whose rows have different heights (messages of one line or fifty): each row
 * has an estimated height until it was drawn once and measured; offsets are prefix sums of those heights; the rows
 * to draw are found by binary search over the offsets. Only the rows near the viewport exist in the DOM, so a
 * conversation of 10,000 messages costs what one screenful costs.
 *
 * Measured heights are kept by row key, so they survive rows being added above (older pages) or below (new
 * messages). No DOM here: components/message-list.tsx drives it.
 */

export interface RowRange {
  readonly start: number;
  /** One past the last row to draw. */
  readonly end: number;
}

export class RowLayout {
  #keys: readonly string[] = [];
  #estimates: readonly number[] = [];
  readonly #measured = new Map<string, number>();
  #offsets = new Float64Array(1);
  #isDirty = false;

  /** The rows, in order, with a height guess for each (used until it is measured). */
  setRows(keys: readonly string[], estimate: (index: number) => number): void {
    this.#keys = keys;
    this.#estimates = keys.map((_, i) => estimate(i));
    this.#isDirty = true;
  }

  get count(): number {
    return this.#keys.length;
  }

  keyAt(index: number): string | undefined {
    return this.#keys[index];
  }

  indexOf(key: string): number {
    return this.#keys.indexOf(key);
  }

  /** Records a row's drawn height; true when it differs from what the layout assumed. */
  measure(key: string, height: number): boolean {
    const before = this.#measured.get(key);
    if (before !== undefined && Math.abs(before - height) < 0.5) return false;
    this.#measured.set(key, height);
    this.#isDirty = true;
    return true;
  }

  /** The top of row `index` (index === count gives the total height). */
  offsetOf(index: number): number {
    return this.#prefix()[Math.max(0, Math.min(index, this.#keys.length))] ?? 0;
  }

  totalHeight(): number {
    return this.offsetOf(this.#keys.length);
  }

  /** The rows that intersect [top - overscan, top + height + overscan]. */
  range(top: number, height: number, overscanPx: number): RowRange {
    const n = this.#keys.length;
    if (n === 0) return { start: 0, end: 0 };
    const start = Math.max(0, this.#rowAt(top - overscanPx));
    const end = Math.min(n, this.#rowAt(top + height + overscanPx) + 1);
    return { start, end };
  }

  /** The index of the row containing y (clamped to the rows). */
  #rowAt(y: number): number {
    const offsets = this.#prefix();
    let lo = 0;
    let hi = this.#keys.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((offsets[mid] ?? 0) <= y) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  #prefix(): Float64Array {
    if (!this.#isDirty) return this.#offsets;
    const n = this.#keys.length;
    const offsets = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) {
      const key = this.#keys[i] ?? '';
      offsets[i + 1] = (offsets[i] ?? 0) + (this.#measured.get(key) ?? this.#estimates[i] ?? 0);
    }
    this.#offsets = offsets;
    this.#isDirty = false;
    return offsets;
  }
}
