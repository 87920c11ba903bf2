/**
 * The last few requesters whose ids are BEP 42-valid for their address, kept as compact entries to top up
 * replies while the node buffer holds fewer nodes than a reply needs (a fresh server). The reference fills with
 * its last 16 requesters whatever their ids; we only ever hand out BEP 42-valid ones, and never an address that
 * is already in the buffer (the reply would list it twice).
 */

export class FillerNodes {
  readonly entryBytes: number;
  readonly #capacity: number;
  readonly #store: Buffer;
  readonly #ipLength: number;
  #count = 0;
  #next = 0;

  constructor(family: 4 | 6, capacity = 16) {
    this.#ipLength = family === 4 ? 4 : 16;
    this.entryBytes = 20 + this.#ipLength + 2;
    this.#capacity = capacity;
    this.#store = Buffer.alloc(capacity * this.entryBytes);
  }

  get size(): number {
    return this.#count;
  }

  /** Adds the compact entry at entry[offset], replacing an entry with the same ip and port if there is one. */
  add(entry: Uint8Array, offset: number): void {
    let slot = this.#find(entry, offset + 20);
    if (slot < 0) {
      slot = this.#next;
      this.#next = (this.#next + 1) % this.#capacity;
      if (this.#count < this.#capacity) this.#count++;
    }
    const base = slot * this.entryBytes;
    for (let k = 0; k < this.entryBytes; k++) this.#store[base + k] = entry[offset + k]!;
  }

  /**
   * Copies up to max entries for which isExcluded(store, ipOffset) is false to out[pos] (or only counts them
   * when out is undefined); returns how many.
   */
  copy(
    out: Buffer | undefined,
    pos: number,
    max: number,
    isExcluded: (bytes: Uint8Array, ipOffset: number) => boolean,
  ): number {
    let copied = 0;
    for (let slot = 0; slot < this.#count && copied < max; slot++) {
      const base = slot * this.entryBytes;
      if (isExcluded(this.#store, base + 20)) continue;
      if (out !== undefined) {
        const at = pos + copied * this.entryBytes;
        for (let k = 0; k < this.entryBytes; k++) out[at + k] = this.#store[base + k]!;
      }
      copied++;
    }
    return copied;
  }

  #find(entry: Uint8Array, addrOffset: number): number {
    const addrLength = this.#ipLength + 2;
    outer: for (let slot = 0; slot < this.#count; slot++) {
      const base = slot * this.entryBytes + 20;
      for (let k = 0; k < addrLength; k++)
        if (this.#store[base + k] !== entry[addrOffset + k]) continue outer;
      return slot;
    }
    return -1;
  }
}
