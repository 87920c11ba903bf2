/**
 * Dialling the sources of one download (file-transfers.ts): a friend's transfer has one, a group's one per
 * member. Per source at most one dial at a time; a source that could not be reached, or whose stream ended, is
 * dialled again after REDIAL_MS (1 s doubling to 30 s), from 1 s again once it has served us. Whether a source
 * is wanted now (no stream yet, not banned, a session up) is the owner's call: `open` answers undefined.
 */
import type { Clock, Logger, Timer } from '../../runtime/index.ts';
import type { FileStream } from './file-stream.ts';

export const REDIAL_MS = [1000, 2000, 4000, 8000, 16_000, 30_000];

export interface SourceDialsOptions {
  clock: Clock;
  logger: Logger;
  /** Dials peer's file channel now; undefined: not now (the owner says when to try again). */
  open(peer: Buffer): Promise<FileStream> | undefined;
  /** A dialled stream is up: the owner attaches it to the download, or closes it. */
  onStream(peer: Buffer, stream: FileStream): void;
}

interface SourceDial {
  isBusy: boolean;
  attempts: number;
  retryTimer: Timer | undefined;
}

export class SourceDials {
  readonly #opts: SourceDialsOptions;
  readonly #dials = new Map<string, SourceDial>();
  #isClosed = false;

  constructor(opts: SourceDialsOptions) {
    this.#opts = opts;
  }

  /** Dials peer now unless a dial to it is under way (a pending retry is dialled early). */
  dial(peer: Buffer): void {
    if (this.#isClosed) return;
    const dial = this.#dialOf(peer);
    if (dial.isBusy) return;
    const dialing = this.#opts.open(peer);
    if (dialing === undefined) return;
    dial.isBusy = true;
    dial.retryTimer?.cancel();
    dial.retryTimer = undefined;
    dialing.then(
      (stream) => {
        dial.isBusy = false;
        if (this.#isClosed) stream.close();
        else this.#opts.onStream(peer, stream);
      },
      (error: unknown) => {
        dial.isBusy = false;
        this.#opts.logger.debug({ error: String(error) }, 'file: dialling a source failed');
        this.later(peer, false);
      },
    );
  }

  /** Dials peer again after its back-off; hasServed: it served us, so the back-off starts over. */
  later(peer: Buffer, hasServed: boolean): void {
    if (this.#isClosed) return;
    const dial = this.#dialOf(peer);
    if (hasServed) dial.attempts = 0;
    const delayMs = REDIAL_MS[Math.min(dial.attempts, REDIAL_MS.length - 1)] as number;
    dial.attempts++;
    dial.retryTimer?.cancel();
    dial.retryTimer = this.#opts.clock.setTimer(delayMs, () => {
      dial.retryTimer = undefined;
      this.dial(peer);
    });
  }

  close(): void {
    this.#isClosed = true;
    for (const dial of this.#dials.values()) dial.retryTimer?.cancel();
  }

  #dialOf(peer: Buffer): SourceDial {
    const key = peer.toString('hex');
    let dial = this.#dials.get(key);
    if (dial === undefined) {
      dial = { isBusy: false, attempts: 0, retryTimer: undefined };
      this.#dials.set(key, dial);
    }
    return dial;
  }
}
