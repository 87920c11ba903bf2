/**
 * Who asked recently: the bounded set behind the "3 nodes for a repeat IP" rule. A ring of fixed-size records
 * (key length byte, key of up to 18 bytes) with the time each key was first seen; a key counts as a repeat for
 * windowMs after that (the reference clears its whole set every 10 minutes and stops adding at 4 M entries).
 * When the ring is full the oldest key falls out, so memory is fixed and a flood of spoofed sources only
 * shortens how long genuine repeaters are remembered.
 */
import { DhtchatError } from '../runtime/index.ts';
import { AddressIndex } from './address-index.ts';

const KEY_ROOM = 18;
const RECORD_BYTES = 1 + KEY_ROOM;

export class RecentRequesters {
  readonly capacity: number;
  readonly #windowMs: number;
  readonly #store: Buffer;
  readonly #seenAtMs: Float64Array;
  readonly #index: AddressIndex;
  #head = 0;
  #count = 0;

  constructor(options: { capacity: number; windowMs: number; seed: number }) {
    if (!(options.capacity >= 1))
      throw new DhtchatError('BOOTSTRAP_BAD_OPTION', 'capacity must be at least 1');
    this.capacity = Math.floor(options.capacity);
    this.#windowMs = options.windowMs;
    this.#store = Buffer.alloc(this.capacity * RECORD_BYTES);
    this.#seenAtMs = new Float64Array(this.capacity);
    this.#index = new AddressIndex({
      store: this.#store,
      recordBytes: RECORD_BYTES,
      keyOffset: 1,
      keyLengthAt: (recordOffset) => this.#store[recordOffset]!,
      maxEntries: this.capacity,
      seed: options.seed,
    });
  }

  get size(): number {
    return this.#count;
  }

  /**
   * Notes a request from key[offset .. offset+length) and says whether the same key asked within the window
   * before it.
   */
  isRepeat(key: Uint8Array, offset: number, length: number, nowMs: number): boolean {
    const slot = this.#index.find(key, offset, length);
    if (slot >= 0) {
      if (nowMs - this.#seenAtMs[slot]! < this.#windowMs) return true;
      // Expired: start a new window for it.
      this.#seenAtMs[slot] = nowMs;
      return false;
    }
    if (this.#count === this.capacity) {
      this.#index.remove(this.#head);
      this.#head = (this.#head + 1) % this.capacity;
      this.#count--;
    }
    const newSlot = (this.#head + this.#count) % this.capacity;
    const base = newSlot * RECORD_BYTES;
    this.#store[base] = length;
    for (let k = 0; k < length; k++) this.#store[base + 1 + k] = key[offset + k]!;
    this.#seenAtMs[newSlot] = nowMs;
    this.#index.insert(newSlot, length);
    this.#count++;
    return false;
  }
}
