/**
 * Friends' typing indicators as a user should see them: a friend is typing from their `typing` frame until they
 * say they stopped, a message from them arrives, their session ends, or TYPING_STALE_MS pass without a fresh
 * frame (a client that keeps typing re-sends every few seconds, as Signal's does; a crashed one must not leave
 * "typing…" on screen forever). Reports only changes.
 */
import type { Clock, Timer } from '../runtime/index.ts';

export const TYPING_STALE_MS = 15_000;

export class TypingTracker {
  readonly #clock: Clock;
  readonly #onChange: (peer: Buffer, isTyping: boolean) => void;
  readonly #typing = new Map<string, { peer: Buffer; timer: Timer }>();

  constructor(clock: Clock, onChange: (peer: Buffer, isTyping: boolean) => void) {
    this.#clock = clock;
    this.#onChange = onChange;
  }

  /** A typing frame from peer. */
  onFrame(peer: Buffer, isTyping: boolean): void {
    if (!isTyping) {
      this.stop(peer);
      return;
    }
    const key = peer.toString('hex');
    const current = this.#typing.get(key);
    current?.timer.cancel();
    const timer = this.#clock.setTimer(TYPING_STALE_MS, () => this.stop(peer));
    this.#typing.set(key, { peer, timer });
    if (current === undefined) this.#onChange(peer, true);
  }

  /** The peer stopped typing (said so, sent the message, went away, or went quiet). */
  stop(peer: Buffer): void {
    const key = peer.toString('hex');
    const current = this.#typing.get(key);
    if (current === undefined) return;
    current.timer.cancel();
    this.#typing.delete(key);
    this.#onChange(peer, false);
  }

  isTyping(peer: Buffer): boolean {
    return this.#typing.has(peer.toString('hex'));
  }

  close(): void {
    for (const { timer } of this.#typing.values()) timer.cancel();
    this.#typing.clear();
  }
}
