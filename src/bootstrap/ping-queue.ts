/**
 * Requesters waiting for their delayed ping (ping-before-add), one family per queue. A FIFO ring of fixed-size
 * records (socket index byte, compact ip+port) with the time each was queued; every entry waits the same delay,
 * so queue order is due order. Each address (IP, or IP and port for port-keyed sources) is queued at most once.
 *
 * Admission falls linearly once the queue is more than half full (as in the reference): at size s between
 * capacity/2 and capacity, a request is refused with probability (s - capacity/2) / (capacity/2), decided by a
 * wrapping 8-bit counter rather than randomness, so queued pings spread evenly over time under load.
 */
import { DhtchatError } from '../runtime/index.ts';
import { AddressIndex } from './address-index.ts';

export const QueueAdmission = { inserted: 0, duplicate: 1, full: 2 } as const;
export type QueueAdmission = (typeof QueueAdmission)[keyof typeof QueueAdmission];

export interface PingQueueOptions {
  family: 4 | 6;
  capacity: number;
  /** How long an entry waits before it is due. */
  delayMs: number;
  isPortKeyed(bytes: Uint8Array, ipOffset: number): boolean;
  seed: number;
}

export class PingQueue {
  readonly addrLength: number;
  readonly recordBytes: number;
  readonly capacity: number;
  readonly #delayMs: number;
  readonly #store: Buffer;
  readonly #queuedAtMs: Float64Array;
  readonly #index: AddressIndex;
  readonly #isPortKeyed: (bytes: Uint8Array, ipOffset: number) => boolean;
  readonly #ipLength: number;
  #head = 0;
  #count = 0;
  #roundRobin = 0;

  constructor(options: PingQueueOptions) {
    if (!(options.capacity >= 1))
      throw new DhtchatError('BOOTSTRAP_BAD_OPTION', 'capacity must be at least 1');
    this.#ipLength = options.family === 4 ? 4 : 16;
    this.addrLength = this.#ipLength + 2;
    this.recordBytes = 1 + this.addrLength;
    this.capacity = Math.floor(options.capacity);
    this.#delayMs = options.delayMs;
    this.#isPortKeyed = options.isPortKeyed;
    this.#store = Buffer.alloc(this.capacity * this.recordBytes);
    this.#queuedAtMs = new Float64Array(this.capacity);
    this.#index = new AddressIndex({
      store: this.#store,
      recordBytes: this.recordBytes,
      keyOffset: 1,
      keyLengthAt: (recordOffset) => this.#keyLength(this.#store, recordOffset + 1),
      maxEntries: this.capacity,
      seed: options.seed,
    });
  }

  get size(): number {
    return this.#count;
  }

  /** The record store: the record of slot s is [socket index, compact address] at s * recordBytes. */
  get store(): Buffer {
    return this.#store;
  }

  /** Queues the compact address at addr[offset] to be pinged from socket socketIndex after the delay. */
  insert(addr: Uint8Array, offset: number, socketIndex: number, nowMs: number): QueueAdmission {
    const keyLength = this.#keyLength(addr, offset);
    if (this.#index.find(addr, offset, keyLength) >= 0) return QueueAdmission.duplicate;
    if (this.#count >= this.capacity) return QueueAdmission.full;
    const half = Math.floor(this.capacity / 2);
    if (this.#count > half) {
      this.#roundRobin = (this.#roundRobin + 1) & 0xff;
      if (this.#roundRobin < ((this.#count - half) * 256) / (this.capacity - half))
        return QueueAdmission.full;
    }
    const slot = (this.#head + this.#count) % this.capacity;
    const base = slot * this.recordBytes;
    this.#store[base] = socketIndex;
    for (let k = 0; k < this.addrLength; k++) this.#store[base + 1 + k] = addr[offset + k]!;
    this.#queuedAtMs[slot] = nowMs;
    this.#index.insert(slot, keyLength);
    this.#count++;
    return QueueAdmission.inserted;
  }

  /** When the oldest entry falls due, or undefined when empty. */
  nextDueMs(): number | undefined {
    return this.#count === 0 ? undefined : this.#queuedAtMs[this.#head]! + this.#delayMs;
  }

  /**
   * Removes the oldest entry if it is due and returns its slot (its record stays readable in `store` until the
   * next insert), or -1.
   */
  popDue(nowMs: number): number {
    if (this.#count === 0) return -1;
    const slot = this.#head;
    if (this.#queuedAtMs[slot]! + this.#delayMs > nowMs) return -1;
    this.#index.remove(slot);
    this.#head = (this.#head + 1) % this.capacity;
    this.#count--;
    return slot;
  }

  #keyLength(bytes: Uint8Array, ipOffset: number): number {
    return this.#isPortKeyed(bytes, ipOffset) ? this.#ipLength + 2 : this.#ipLength;
  }
}
