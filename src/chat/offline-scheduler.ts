/**
 * When a friend's messages leave the outbox for the DHT. A message that finds no session waits for one; if
 * none is up after the wait, the mailbox seals and puts the outbox (state `stored`). The wait is OFFLINE_AFTER_MS
 * when the friend may still answer a dial (just seen online, or we just started), OFFLINE_WHEN_AWAY_MS when they
 * are away or offline (a dial to their last endpoints has had its chance), none when no direct path can form
 * (both NATs randomise: the DHT is the path, issue 11 §7). Whichever path delivers first wins: the receiver
 * dedupes by id.
 */
import type { Clock, Logger, Timer } from '../runtime/index.ts';

export const OFFLINE_AFTER_MS = 8000;
export const OFFLINE_WHEN_AWAY_MS = 2000;

export interface OfflineSchedulerOptions {
  clock: Clock;
  logger: Logger;
  /** Default OFFLINE_AFTER_MS; the away wait is never longer. */
  afterMs?: number;
  isOnline(peer: Buffer): boolean;
  hasSession(peer: Buffer): boolean;
  /** No direct path can form (both NATs randomise, punch-plan.ts): the DHT at once, no wait. */
  isPathless?(peer: Buffer): boolean;
  /** Seals and puts the friend's outbox (OfflineMailbox.storeFor). */
  store(peer: Buffer): Promise<unknown>;
}

export class OfflineScheduler {
  readonly #opts: OfflineSchedulerOptions;
  readonly #timers = new Map<string, Timer>();
  #isClosed = false;

  constructor(opts: OfflineSchedulerOptions) {
    this.#opts = opts;
  }

  /** Starts the wait unless one is running; isPatient: the long wait whatever the friend's presence. */
  schedule(peer: Buffer, isPatient: boolean): void {
    const hex = peer.toString('hex');
    if (this.#isClosed || this.#timers.has(hex)) return;
    const afterMs = this.#opts.afterMs ?? OFFLINE_AFTER_MS;
    const delayMs =
      this.#opts.isPathless?.(peer) === true
        ? 0
        : isPatient || this.#opts.isOnline(peer)
          ? afterMs
          : Math.min(afterMs, OFFLINE_WHEN_AWAY_MS);
    const timer = this.#opts.clock.setTimer(delayMs, () => {
      this.#timers.delete(hex);
      if (this.#isClosed || this.#opts.hasSession(peer)) return;
      this.#opts
        .store(peer)
        .catch((error) => this.#opts.logger.warn({ error: String(error) }, 'offline store failed'));
    });
    this.#timers.set(hex, timer);
  }

  /** A session came up (or the wait is to start over). */
  cancel(peer: Buffer): void {
    const hex = peer.toString('hex');
    this.#timers.get(hex)?.cancel();
    this.#timers.delete(hex);
  }

  close(): void {
    this.#isClosed = true;
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
  }
}
