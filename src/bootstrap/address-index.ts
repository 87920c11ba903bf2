/**
 * A hash set of record slots keyed by address bytes that live in a caller's binary store (the node buffer, the
 * ping queue, the recent-requester ring). One Int32Array, open addressing with linear probing and backward-shift
 * deletion: no JS object per entry, so 10 million addresses cost 4 bytes per table slot instead of a Set entry.
 *
 * A key is the IP (4 or 16 bytes) or the IP and port (6 or 18 bytes) at keyOffset inside a record; the caller
 * says which on each call, and keyLengthAt() says it again for stored records when the table is rebuilt.
 * The hash is seeded per instance so remote senders cannot aim collisions at a known function.
 *
 * The table grows by doubling up to a fixed largest size, maxEntries / maxLoad (not a power of two: slots are
 * the hash modulo the size), so a node buffer of 10 M entries at load 0.8 costs 50 MB of table, not the 134 MB
 * of the next power of two above 2 × 10 M.
 */

export interface AddressIndexOptions {
  /** The records' backing store; the record of slot s starts at s * recordBytes. */
  store: Uint8Array;
  recordBytes: number;
  /** Offset of the key inside a record. */
  keyOffset: number;
  /** Key length of the stored record at byte offset recordOffset (needed to rehash). */
  keyLengthAt(recordOffset: number): number;
  /** Most entries the index will ever hold. */
  maxEntries: number;
  /** Highest load of the full-size table (default 0.5; 0.8 where memory matters more than probe length). */
  maxLoad?: number;
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
  #count = 0;

  constructor(options: AddressIndexOptions) {
    this.#store = options.store;
    this.#recordBytes = options.recordBytes;
    this.#keyOffset = options.keyOffset;
    this.#keyLengthAt = options.keyLengthAt;
    this.#seed = options.seed | 0;
    const maxLoad = Math.min(0.9, Math.max(0.1, options.maxLoad ?? 0.5));
    this.#maxTable = Math.max(MIN_TABLE, Math.min(2 ** 30, Math.ceil(options.maxEntries / maxLoad)));
    this.#table = new Int32Array(MIN_TABLE);
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
    const size = table.length;
    let i = this.#hash(key, offset, length) % size;
    for (;;) {
      const entry = table[i]!;
      if (entry === 0) return -1;
      if (this.#matches(entry - 1, key, offset, length)) return entry - 1;
      i = i + 1 === size ? 0 : i + 1;
    }
  }

  /** Adds slot (whose record already holds its key, of the given length). The key must not be present. */
  insert(slot: number, keyLength: number): void {
    if ((this.#count + 1) * 4 > this.#table.length * 3 && this.#table.length < this.#maxTable) this.#grow();
    if (this.#count >= this.#table.length - 1) throw new RangeError('AddressIndex is full');
    const recordOffset = slot * this.#recordBytes;
    this.#place(slot, this.#hash(this.#store, recordOffset + this.#keyOffset, keyLength));
    this.#count++;
  }

  /** Removes slot (keyed by its stored record); no-op when absent. */
  remove(slot: number): void {
    const table = this.#table;
    const size = table.length;
    const recordOffset = slot * this.#recordBytes;
    const keyLength = this.#keyLengthAt(recordOffset);
    let i = this.#hash(this.#store, recordOffset + this.#keyOffset, keyLength) % size;
    for (;;) {
      const entry = table[i]!;
      if (entry === 0) return;
      if (entry === slot + 1) break;
      i = i + 1 === size ? 0 : i + 1;
    }
    // Backward-shift deletion: pull later entries of the probe run into the hole so lookups never stop early.
    let hole = i;
    let j = i + 1 === size ? 0 : i + 1;
    for (;;) {
      const entry = table[j]!;
      if (entry === 0) break;
      const entryOffset = (entry - 1) * this.#recordBytes;
      const home =
        this.#hash(this.#store, entryOffset + this.#keyOffset, this.#keyLengthAt(entryOffset)) % size;
      // Move the entry when its home is not cyclically within (hole, j].
      const isHomeBetween = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!isHomeBetween) {
        table[hole] = entry;
        hole = j;
      }
      j = j + 1 === size ? 0 : j + 1;
    }
    table[hole] = 0;
    this.#count--;
  }

  clear(): void {
    this.#table = new Int32Array(MIN_TABLE);
    this.#count = 0;
  }

  #place(slot: number, hash: number): void {
    const table = this.#table;
    const size = table.length;
    let i = hash % size;
    while (table[i] !== 0) i = i + 1 === size ? 0 : i + 1;
    table[i] = slot + 1;
  }

  #grow(): void {
    const old = this.#table;
    this.#table = new Int32Array(Math.min(old.length * 2, this.#maxTable));
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
