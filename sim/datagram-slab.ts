/**
 * Copies of datagrams in flight, carved out of large private slabs. Each copy needs memory the sender cannot
 * touch any more; a fresh ArrayBuffer per datagram (allocUnsafeSlow) was 5 % of a 10,000-node run's CPU, and
 * Node's shared 8 KB pool (Buffer.from) mixes packets with whatever else the process allocates. A packet lives
 * for its flight and its handling, and the nodes copy what they keep (routing-table ids: routing-table.ts), so a
 * slab is garbage soon after it is full.
 */
const SLAB_BYTES = 256 * 1024;

export class DatagramSlab {
  #slab = new ArrayBuffer(SLAB_BYTES);
  #used = 0;

  /** A copy of bytes in memory nothing else writes to. */
  copy(bytes: Uint8Array): Buffer {
    const length = bytes.length;
    if (length > SLAB_BYTES / 8) return Buffer.from(bytes);
    if (this.#used + length > SLAB_BYTES) {
      this.#slab = new ArrayBuffer(SLAB_BYTES);
      this.#used = 0;
    }
    const copy = Buffer.from(this.#slab, this.#used, length);
    copy.set(bytes);
    // 8-byte alignment, as Node's own pool keeps.
    this.#used += (length + 7) & ~7;
    return copy;
  }
}
