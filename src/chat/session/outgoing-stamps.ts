/**
 * The requester's side of request stamps (request-stamp.ts): one stamp per recipient we have a pending request
 * for, solved in the background before we dial, so the request frame goes out the moment a session is up (the
 * recipient gives a stranger only a few seconds to send it). Solves run one at a time, in slices with the
 * event loop free between them. A stamp names an hour and is good for that hour and the next: when the one we
 * hold is from the previous hour, it is still sent while the current hour's is solved.
 */
import type { Clock, Logger, Random } from '../../runtime/index.ts';
import { hourEpoch } from '../epoch.ts';
import { REQUEST_STAMP_BITS, type RequestStamp, STAMP_NONCE_BYTES, solveStamp } from '../request-stamp.ts';

export interface OutgoingStampsOptions {
  ownPublicKey: Buffer;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** Work per stamp; the product's REQUEST_STAMP_BITS unless a test or benchmark says otherwise. */
  bits?: number;
  /** A stamp for `peer` is ready (the caller dials). */
  onReady(peer: Buffer): void;
}

export class OutgoingStamps {
  readonly bits: number;
  readonly #opts: OutgoingStampsOptions;
  readonly #stamps = new Map<string, RequestStamp>();
  /** Recipients waiting for a solve, in order; the first is being solved. */
  readonly #queue: Buffer[] = [];
  #isSolving = false;
  #isClosed = false;
  /** Stamps solved so far (tests and benchmarks look at it). */
  solved = 0;

  constructor(opts: OutgoingStampsOptions) {
    this.#opts = opts;
    this.bits = opts.bits ?? REQUEST_STAMP_BITS;
  }

  /**
   * The stamp to send `peer` now: this hour's, else last hour's (still accepted); undefined when neither is
   * solved. Asks for this hour's solve whenever it is missing.
   */
  get(peer: Buffer): RequestStamp | undefined {
    const hour = hourEpoch(this.#opts.clock.wallMs());
    const stamp = this.#stamps.get(peer.toString('hex'));
    if (stamp?.hour !== hour) this.prepare(peer);
    return stamp !== undefined && (stamp.hour === hour || stamp.hour === hour - 1) ? stamp : undefined;
  }

  /** Queues a solve for this hour unless one is held or queued. */
  prepare(peer: Buffer): void {
    if (this.#isClosed) return;
    const hour = hourEpoch(this.#opts.clock.wallMs());
    if (this.#stamps.get(peer.toString('hex'))?.hour === hour) return;
    if (this.#queue.some((queued) => queued.equals(peer))) return;
    this.#queue.push(Buffer.from(peer));
    if (!this.#isSolving) void this.#drain();
  }

  /** The request is answered or withdrawn: no more stamps for it. */
  forget(peer: Buffer): void {
    this.#stamps.delete(peer.toString('hex'));
    const index = this.#queue.findIndex((queued) => queued.equals(peer));
    // Removing the head cancels its solve at the next slice (isCancelled below).
    if (index >= 0) this.#queue.splice(index, 1);
  }

  close(): void {
    this.#isClosed = true;
    this.#queue.length = 0;
  }

  async #drain(): Promise<void> {
    this.#isSolving = true;
    try {
      for (let peer = this.#queue[0]; peer !== undefined && !this.#isClosed; peer = this.#queue[0]) {
        const hour = hourEpoch(this.#opts.clock.wallMs());
        const startMs = this.#opts.clock.monotonicMs();
        const stamp = await solveStamp({ recipientPk: peer, requesterPk: this.#opts.ownPublicKey }, hour, {
          bits: this.bits,
          startNonce: this.#opts.random.bytes(STAMP_NONCE_BYTES),
          yieldNow: () => new Promise((resolve) => this.#opts.clock.setTimer(0, resolve)),
          isCancelled: () => this.#isClosed || this.#queue[0] !== peer,
        });
        if (this.#queue[0] === peer) this.#queue.shift();
        if (stamp === undefined || this.#isClosed) continue;
        this.solved++;
        this.#stamps.set(peer.toString('hex'), stamp);
        this.#opts.logger.debug(
          {
            peer: peer.toString('hex').slice(0, 8),
            bits: this.bits,
            ms: this.#opts.clock.monotonicMs() - startMs,
          },
          'request stamp solved',
        );
        try {
          this.#opts.onReady(peer);
        } catch (error) {
          this.#opts.logger.warn({ error: String(error) }, 'request stamp: onReady failed');
        }
      }
    } finally {
      this.#isSolving = false;
    }
  }
}
