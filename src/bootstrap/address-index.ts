/**
 * A hash set of record slots keyed by address bytes that live in a caller's binary store (the node buffer, the
 * ping queue, the recent-requester ring). One Int32Array, open addressing with linear probing and backward-shift
 * deletion: no JS object per entry, so 10 million addresses cost 4 bytes per table slot instead of a Set entry.
 *
 * A key is the IP (4 or 16 bytes) or the IP and port (6 or 18 bytes) at keyOffset inside a record; the caller
 * says which on each call, and keyLengthAt() says it again for stored records when the table is rebuilt.
 * The hash is seeded per instance so remote senders cannot aim collisions at a known function.
 */

export interface AddressIndexOptions {
  /** The records' backing store; the record of slot s starts at s * recordBytes. */
  store: Uint8Array;
  recordBytes: number;
  /** Offset of the key inside a record. */
  keyOffset: number;
  /** Key length of the stored record at byte offset recordOffset (needed to rehash). */
  keyLengthAt(recordOffset: number): number;
  /** Most entries the index will ever hold (the table never grows beyond 2 × this, rounded up to a power of 2). */
  maxEntries: number;
  /** 32-bit seed for the hash. */
  seed: number;
}

const MIN_TABLE = 64;

export class AddressIndex {
  readonly #store: Uint8Array;
  readonly #recordBytes: number;
  readonly #keyOffset: number;
  readonly #keyLengthAt: (recordOffset: number) => number;
  readonly #maxTable: number;
  readonly #seed: number;
  /** slot + 1, or 0 for empty. */
  #table: Int32Array;
  #mask: number;
  #count = 0;

  constructor(options: AddressIndexOptions) {
    this.#store = options.store;
    this.#recordBytes = options.recordBytes;
    this.#keyOffset = options.keyOffset;
    this.#keyLengthAt = options.keyLengthAt;
    this.#seed = options.seed | 0;
    let maxTable = MIN_TABLE;
    while (maxTable < options.maxEntries * 2 && maxTable < 1 << 30) maxTable *= 2;
    this.#maxTable = maxTable;
    this.#table = new Int32Array(MIN_TABLE);
    this.#mask = MIN_TABLE - 1;
  }

  get size(): number {
    return this.#count;
  }

  /** Bytes held by the table itself. */
  get tableBytes(): number {
    return this.#table.byteLength;
  }

  /** The slot whose record key equals key[offset .. offset+length], or -1. */
  find(key: Uint8Array, offset: number, length: number): number {
    const table = this.#table;
    const mask = this.#mask;
    let i = this.#hash(key, offset, length) & mask;
    for (;;) {
      const entry = table[i]!;
      if (entry === 0) return -1;
      if (this.#matches(entry - 1, key, offset, length)) return entry - 1;
      i = (i + 1) & mask;
    }
  }

  /** Adds slot (whose record already holds its key, of the given length). The key must not be present. */
  insert(slot: number, keyLength: number): void {
    if ((this.#count + 1) * 4 > this.#table.length * 3 && this.#table.length < this.#maxTable) this.#grow();
    const recordOffset = slot * this.#recordBytes;
    this.#place(slot, this.#hash(this.#store, recordOffset + this.#keyOffset, keyLength));
    this.#count++;
  }

  /** Removes slot (keyed by its stored record); no-op when absent. */
  remove(slot: number): void {
    const table = this.#table;
    const mask = this.#mask;
    const recordOffset = slot * this.#recordBytes;
    const keyLength = this.#keyLengthAt(recordOffset);
    let i = this.#hash(this.#store, recordOffset + this.#keyOffset, keyLength) & mask;
    for (;;) {
      const entry = table[i]!;
      if (entry === 0) return;
      if (entry === slot + 1) break;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: pull later entries of the probe run into the hole so lookups never stop early.
    let hole = i;
    let j = (i + 1) & mask;
    for (;;) {
      const entry = table[j]!;
      if (entry === 0) break;
      const entryOffset = (entry - 1) * this.#recordBytes;
      const home =
        this.#hash(this.#store, entryOffset + this.#keyOffset, this.#keyLengthAt(entryOffset)) & mask;
      // Move the entry when its home is not cyclically within (hole, j].
      const isHomeBetween = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!isHomeBetween) {
        table[hole] = entry;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    table[hole] = 0;
    this.#count--;
  }

  clear(): void {
    this.#table = new Int32Array(MIN_TABLE);
    this.#mask = MIN_TABLE - 1;
    this.#count = 0;
  }

  #place(slot: number, hash: number): void {
    const table = this.#table;
    const mask = this.#mask;
    let i = hash & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = slot + 1;
  }

  #grow(): void {
    const old = this.#table;
    this.#table = new Int32Array(old.length * 2);
    this.#mask = this.#table.length - 1;
    for (let i = 0; i < old.length; i++) {
      const entry = old[i]!;
      if (entry === 0) continue;
      const recordOffset = (entry - 1) * this.#recordBytes;
      this.#place(
        entry - 1,
        this.#hash(this.#store, recordOffset + this.#keyOffset, this.#keyLengthAt(recordOffset)),
      );
    }
  }

  #matches(slot: number, key: Uint8Array, offset: number, length: number): boolean {
    const recordOffset = slot * this.#recordBytes;
    if (this.#keyLengthAt(recordOffset) !== length) return false;
    const store = this.#store;
    const start = recordOffset + this.#keyOffset;
    for (let k = 0; k < length; k++) if (store[start + k] !== key[offset + k]) return false;
    return true;
  }

  /** Seeded multiply-xorshift hash over the key bytes (keys are 4 to 18 bytes). */
  #hash(bytes: Uint8Array, offset: number, length: number): number {
    let h = this.#seed ^ length;
    let k = 0;
    for (; k + 4 <= length; k += 4) {
      const word =
        (bytes[offset + k]! << 24) |
        (bytes[offset + k + 1]! << 16) |
        (bytes[offset + k + 2]! << 8) |
        bytes[offset + k + 3]!;
      h = Math.imul(h ^ word, 0x9e3779b1);
      h ^= h >>> 15;
    }
    for (; k < length; k++) {
      h = Math.imul(h ^ bytes[offset + k]!, 0x85ebca6b);
      h ^= h >>> 13;
    }
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    return (h ^ (h >>> 16)) >>> 0;
  }
}
