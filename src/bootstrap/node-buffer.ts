/**
 * The verified nodes of one address family, as compact entries (20-byte id, ip, port: 26 bytes for IPv4, 38 for
 * IPv6) in one binary buffer, handed out round-robin. At most one entry per IP (per IP and port for sources the
 * server keys that way). Writes go round the buffer overwriting the oldest entry.
 *
 * Like the reference, the ring starts small (99 entries) and doubles only when the write cursor comes round
 * again sooner than growIntervalMs after the last time: a quiet server keeps a small, fresh set instead of
 * handing out week-old nodes from a huge ring. Unlike the reference, the read cursor advances by the number of
 * nodes handed out (the reference moves it by one), so consecutive replies carry different nodes.
 *
 * The backing buffer is allocated zero-filled at full capacity: the OS maps pages lazily, so untouched capacity
 * costs address space, not resident memory.
 */
import { DhtchatError } from '../runtime/index.ts';
import { AddressIndex } from './address-index.ts';

export interface NodeBufferOptions {
  family: 4 | 6;
  /** Most entries ever held. */
  capacity: number;
  /** Whether an entry with the ip at bytes[ipOffset] is keyed by ip and port instead of ip alone. */
  isPortKeyed(bytes: Uint8Array, ipOffset: number): boolean;
  /** Seed of the uniqueness index's hash. */
  seed: number;
  /** The ring doubles when it wraps sooner than this after the previous wrap (default 15 minutes). */
  growIntervalMs?: number;
  /** Starting ring size (default 99, as the reference). */
  initialWindow?: number;
}

export const NODE_ID_BYTES = 20;

export class NodeBuffer {
  readonly family: 4 | 6;
  readonly ipLength: 4 | 16;
  /** Bytes per entry: 26 or 38. */
  readonly entryBytes: number;
  readonly capacity: number;
  readonly #store: Buffer;
  readonly #index: AddressIndex;
  readonly #isPortKeyed: (bytes: Uint8Array, ipOffset: number) => boolean;
  readonly #growIntervalMs: number;
  #window: number;
  #count = 0;
  #writeCursor = 0;
  #readCursor = 0;
  /** Set at the first insert, like the reference sets it at construction. */
  #lastWrapMs = Number.NaN;

  constructor(options: NodeBufferOptions) {
    if (!(options.capacity >= 1))
      throw new DhtchatError('BOOTSTRAP_BAD_OPTION', 'capacity must be at least 1');
    this.family = options.family;
    this.ipLength = options.family === 4 ? 4 : 16;
    this.entryBytes = NODE_ID_BYTES + this.ipLength + 2;
    this.capacity = Math.floor(options.capacity);
    this.#store = Buffer.alloc(this.capacity * this.entryBytes);
    this.#isPortKeyed = options.isPortKeyed;
    this.#growIntervalMs = options.growIntervalMs ?? 15 * 60_000;
    this.#window = Math.min(options.initialWindow ?? 99, this.capacity);
    this.#index = new AddressIndex({
      store: this.#store,
      recordBytes: this.entryBytes,
      keyOffset: NODE_ID_BYTES,
      keyLengthAt: (recordOffset) => this.#keyLength(this.#store, recordOffset + NODE_ID_BYTES),
      maxEntries: this.capacity,
      // Looked up only when a pong arrives (not per query): trade probe length for 2.7x less table memory.
      maxLoad: 0.8,
      seed: options.seed,
    });
  }

  /** Number of entries held. */
  get size(): number {
    return this.#count;
  }

  /** Resident-relevant bytes: the entries written so far plus the uniqueness index. */
  get usedBytes(): number {
    return this.#count * this.entryBytes + this.#index.tableBytes;
  }

  /** Key length of the address whose ip is at bytes[ipOffset]: the ip, or ip and port. */
  keyLength(bytes: Uint8Array, ipOffset: number): number {
    return this.#keyLength(bytes, ipOffset);
  }

  /** Whether an entry has this address (compact ip+port at addr[offset]) as its key. */
  hasAddress(addr: Uint8Array, offset: number): boolean {
    return this.#index.find(addr, offset, this.#keyLength(addr, offset)) >= 0;
  }

  /**
   * Adds the compact node entry at entry[offset] (id, ip, port). Returns false when its IP (or IP and port) is
   * already held.
   */
  insert(entry: Uint8Array, offset: number, nowMs: number): boolean {
    const ipOffset = offset + NODE_ID_BYTES;
    const keyLength = this.#keyLength(entry, ipOffset);
    if (this.#index.find(entry, ipOffset, keyLength) >= 0) return false;
    if (Number.isNaN(this.#lastWrapMs)) this.#lastWrapMs = nowMs;
    if (this.#writeCursor === this.#window) {
      if (nowMs - this.#lastWrapMs < this.#growIntervalMs) {
        this.#window = Math.min(this.#window * 2, this.capacity);
      }
      if (this.#writeCursor === this.#window) {
        this.#writeCursor = 0;
        this.#lastWrapMs = nowMs;
      }
    }
    const slot = this.#writeCursor;
    if (slot < this.#count) this.#index.remove(slot);
    else this.#count++;
    const base = slot * this.entryBytes;
    for (let k = 0; k < this.entryBytes; k++) this.#store[base + k] = entry[offset + k]!;
    this.#index.insert(slot, keyLength);
    this.#writeCursor++;
    return true;
  }

  /**
   * Copies up to count entries, round-robin from the read cursor, to out[pos]; returns how many it copied
   * (fewer only when the buffer holds fewer).
   */
  copyNodes(out: Buffer, pos: number, count: number): number {
    const n = Math.min(count, this.#count);
    if (n === 0) return 0;
    if (this.#readCursor >= this.#count) this.#readCursor = 0;
    const first = Math.min(n, this.#count - this.#readCursor);
    const start = this.#readCursor * this.entryBytes;
    // Buffer#copy (a memcpy behind one small view allocation) beats a JS byte loop from ~50 bytes on.
    this.#store.copy(out, pos, start, start + first * this.entryBytes);
    if (first < n) this.#store.copy(out, pos + first * this.entryBytes, 0, (n - first) * this.entryBytes);
    this.#readCursor = (this.#readCursor + n) % this.#count;
    return n;
  }

  /** The entries as one byte string (a view, not a copy), for persistence. */
  entries(): Buffer {
    return this.#store.subarray(0, this.#count * this.entryBytes);
  }

  #keyLength(bytes: Uint8Array, ipOffset: number): number {
    return this.#isPortKeyed(bytes, ipOffset) ? this.ipLength + 2 : this.ipLength;
  }
}
