/** Bytes per second over the last couple of seconds, on the injected clock (progress events, `files`). */
import type { Clock } from '../../runtime/index.ts';

const SLOT_MS = 250;
const SLOTS = 8;

export class RateMeter {
  readonly #clock: Clock;
  readonly #bytes = new Array<number>(SLOTS).fill(0);
  #slot: number;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#slot = Math.floor(clock.monotonicMs() / SLOT_MS);
  }

  add(bytes: number): void {
    this.#advance();
    this.#bytes[this.#slot % SLOTS] = (this.#bytes[this.#slot % SLOTS] as number) + bytes;
  }

  /** The average over the last SLOTS × SLOT_MS (2 s), the current slot included. */
  bytesPerSec(): number {
    this.#advance();
    const total = this.#bytes.reduce((sum, b) => sum + b, 0);
    return Math.round((total * 1000) / (SLOTS * SLOT_MS));
  }

  #advance(): void {
    const slot = Math.floor(this.#clock.monotonicMs() / SLOT_MS);
    for (let s = Math.max(this.#slot + 1, slot - SLOTS + 1); s <= slot; s++) this.#bytes[s % SLOTS] = 0;
    this.#slot = Math.max(this.#slot, slot);
  }
}
