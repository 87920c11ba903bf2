/**
 * Spare piece-sized buffers, reused instead of allocated per piece. A file moves through a daemon a piece at a
 * time (read from the disk and sent; gathered from the stream, hashed and written), and a fresh 256 KiB buffer
 * per piece is memory the kernel must fault in and zero and the garbage collector must account for: on loopback
 * that was a fifth of the sender's CPU (docs/BENCHMARKS.md "Files").
 *
 * Only buffers this pool handed out come back into it (give() ignores any other: a view into someone else's
 * buffer must never be written over), and a caller gives one back only once nothing reads it any more. It keeps
 * at most MAX_SPARE_BYTES (an idle daemon holds little), and nothing beyond what take() asked for is ever
 * visible to the taker.
 */

/** Below this, Node's own pooled allocation is cheaper than anything we would do. */
export const MIN_POOLED_BYTES = 64 * 1024;
const MAX_SPARE_BYTES = 2 * 1024 * 1024;

export class PieceBuffers {
  readonly #spare: ArrayBuffer[] = [];
  readonly #issued = new WeakSet<ArrayBuffer>();
  readonly #maxSpareBytes: number;
  #spareBytes = 0;

  constructor(maxSpareBytes: number = MAX_SPARE_BYTES) {
    this.#maxSpareBytes = maxSpareBytes;
  }

  /** Bytes held for reuse now. */
  get spareBytes(): number {
    return this.#spareBytes;
  }

  /** A buffer of exactly length bytes (uninitialized: the caller fills all of it). */
  take(length: number): Buffer {
    if (length < MIN_POOLED_BYTES) return Buffer.allocUnsafe(length);
    for (let i = this.#spare.length - 1; i >= 0; i--) {
      const spare = this.#spare[i] as ArrayBuffer;
      // Pieces of one file are all one size but the last: an exact fit wastes nothing.
      if (spare.byteLength !== length) continue;
      this.#spare.splice(i, 1);
      this.#spareBytes -= spare.byteLength;
      return Buffer.from(spare, 0, length);
    }
    const buffer = Buffer.allocUnsafeSlow(length);
    this.#issued.add(buffer.buffer as ArrayBuffer);
    return buffer;
  }

  /** Hands back a buffer from take() (or a view of one) that nothing reads any more; anything else is ignored. */
  give(buffer: Uint8Array): void {
    const backing = buffer.buffer as ArrayBuffer;
    if (!this.#issued.has(backing) || this.#spare.includes(backing)) return;
    if (backing.byteLength > this.#maxSpareBytes) return;
    // The oldest spares make room: they may be of a size no transfer asks for any more (a file's last piece).
    while (this.#spareBytes + backing.byteLength > this.#maxSpareBytes) {
      this.#spareBytes -= (this.#spare.shift() as ArrayBuffer).byteLength;
    }
    this.#spare.push(backing);
    this.#spareBytes += backing.byteLength;
  }
}

/** The process's pool: every file stream and download shares it (one daemon moves few files at once). */
export const pieceBuffers = new PieceBuffers();
