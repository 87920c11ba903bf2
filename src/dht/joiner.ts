/**
 * Joining the DHT, and joining again when it is lost (BEP 5 leaves both to the implementation).
 *
 * An attempt: take the bootstrap contacts (a fixed list, or the app's resolver, called again at every attempt so
 * router names are looked up anew: DNS lives in the app, never here), then look up our own id in every family,
 * asking the bootstrap contacts as well as the table. It succeeds when any node answered (one that may enter the
 * routing table: BEP 42).
 *
 *   idle ──start──▶ joining ──any answer──▶ joined ──lost / address changed──▶ joining …
 *                      │  ▲
 *          no answer ──┘  └── retry timer: 1 s, 2 s, 4 s … JOIN_RETRY_MAX_MS (state "waiting")
 *
 * - Waiting, the retry doubles up to 16 s: a network that comes back is noticed within 16 s plus one attempt —
 *   or at the next maintenance tick, when another query of ours (a chat lookup) was answered meanwhile.
 * - Joined, the DHT is lost when nothing answered any of our queries for LOST_AFTER_SILENT_MS while at least
 *   LOST_AFTER_TIMEOUTS of them timed out (one silent node cannot trigger it, a working network answers
 *   something), or when the routing table emptied. A node with nothing to do would send no query and never
 *   notice, so once silent for LIVENESS_PROBE_AFTER_MS it pings a few table nodes per maintenance tick.
 * - A confirmed change of our external address (and the BEP 42 re-key it may bring) makes us join again, so
 *   the nodes near our id learn where we are now. Mid-attempt, it asks that attempt for one more self-lookup.
 * - Joined with a small table (below MIN_HEALTHY_TABLE_SIZE), a quiet attempt every REBOOTSTRAP_MS.
 * Every outcome is reported to onEvent (the daemon logs it and tells the user); time comes from the Clock.
 */
import type { Timer } from '../runtime/index.ts';
import {
  JOIN_RESOLVE_TIMEOUT_MS,
  JOIN_RETRY_FIRST_MS,
  JOIN_RETRY_MAX_MS,
  LIVENESS_PROBE_AFTER_MS,
  LIVENESS_PROBES_PER_TICK,
  LOST_AFTER_SILENT_MS,
  LOST_AFTER_TIMEOUTS,
  MIN_HEALTHY_TABLE_SIZE,
  REBOOTSTRAP_MS,
} from './constants.ts';
import type { UdpAddress } from './dht-types.ts';
import { findNodeLookup } from './lookups/find-node.ts';
import type { NodeCore } from './node-core.ts';

/** Bootstrap contacts: IP addresses, or a function the node calls at every join attempt (re-resolving names). */
export type BootstrapSource = readonly UdpAddress[] | (() => Promise<readonly UdpAddress[]>);

export type JoinEvent =
  /** An attempt reached the DHT; isRejoin: not the first attempt (one failed before, or the DHT was lost). */
  | { readonly kind: 'joined'; readonly nodes: number; readonly isRejoin: boolean }
  /** An attempt reached nobody; the next one starts in retryInMs. attempt counts failures in a row from 1. */
  | {
      readonly kind: 'join_failed';
      readonly reason: string;
      readonly retryInMs: number;
      readonly attempt: number;
    }
  /** Joined, the DHT was lost (or our address changed): an attempt starts now. */
  | { readonly kind: 'rejoining'; readonly reason: string };

export type JoinState = 'idle' | 'joining' | 'joined' | 'waiting';

export interface JoinerOptions {
  bootstrap: BootstrapSource;
  onEvent(event: JoinEvent): void;
}

export class Joiner {
  readonly #core: NodeCore;
  readonly #resolve: (() => Promise<readonly UdpAddress[]>) | undefined;
  readonly #onEvent: (event: JoinEvent) => void;
  #state: JoinState = 'idle';
  #attempt: Promise<void> | undefined;
  #quietRun: Promise<void> | undefined;
  #retryTimer: Timer | undefined;
  /** Failed attempts in a row. */
  #failures = 0;
  #hasAttempted = false;
  #isFollowUpWanted = false;
  #lastLookupMs = Number.NEGATIVE_INFINITY;
  #waitingSinceMs = 0;
  #isStopped = false;

  constructor(core: NodeCore, opts: JoinerOptions) {
    this.#core = core;
    this.#onEvent = opts.onEvent;
    if (typeof opts.bootstrap === 'function') this.#resolve = opts.bootstrap;
    else core.bootstrapContacts = opts.bootstrap;
  }

  get state(): JoinState {
    return this.#state;
  }

  /** The first attempt; resolves when it ended (whatever its outcome: failures are retried on their own). */
  start(): Promise<void> {
    if (this.#isStopped) return Promise.resolve();
    return this.#runAttempt();
  }

  stop(): void {
    this.#isStopped = true;
    this.#retryTimer?.cancel();
    this.#retryTimer = undefined;
  }

  /** Something says our place in the DHT is stale (our external address changed): join again. */
  requestRejoin(reason: string): void {
    if (this.#isStopped) return;
    switch (this.#state) {
      case 'idle':
        return; // Not started: the first attempt will use what we know by then.
      case 'joining':
        this.#isFollowUpWanted = true;
        return;
      case 'waiting':
        void this.#runAttempt();
        return;
      case 'joined':
        this.#rejoinNow(reason);
    }
  }

  /** From the maintenance tick: is the DHT still there (or back), and is the table big enough? */
  onTick(nowMs: number, tableSize: number): void {
    if (this.#isStopped) return;
    const core = this.#core;
    if (this.#state === 'waiting' && core.lastAnswerMs > this.#waitingSinceMs) {
      void this.#runAttempt(); // Something answered us: no need to wait out the back-off.
      return;
    }
    if (this.#state !== 'joined') return;
    const silentMs = nowMs - core.lastAnswerMs;
    const lostBecause =
      tableSize === 0
        ? 'every node left the routing table'
        : silentMs >= LOST_AFTER_SILENT_MS && core.timeoutsSinceAnswer >= LOST_AFTER_TIMEOUTS
          ? `no DHT node answered for ${Math.round(silentMs / 1000)} s`
          : undefined;
    if (lostBecause !== undefined) {
      this.#rejoinNow(lostBecause);
      return;
    }
    if (silentMs >= LIVENESS_PROBE_AFTER_MS) this.#probe();
    const isSmall = tableSize < MIN_HEALTHY_TABLE_SIZE * core.opts.families.length;
    if (isSmall && this.#quietRun === undefined && nowMs - this.#lastLookupMs >= REBOOTSTRAP_MS) {
      this.#quietRun = this.#refreshContacts()
        .then(() => this.#lookupSelf())
        .then(() => {
          this.#quietRun = undefined;
        });
    }
  }

  #rejoinNow(reason: string): void {
    this.#onEvent({ kind: 'rejoining', reason });
    void this.#runAttempt();
  }

  #runAttempt(): Promise<void> {
    if (this.#attempt !== undefined) return this.#attempt;
    this.#retryTimer?.cancel();
    this.#retryTimer = undefined;
    this.#state = 'joining';
    const run = this.#attemptOnce().finally(() => {
      this.#attempt = undefined;
    });
    this.#attempt = run;
    return run;
  }

  async #attemptOnce(): Promise<void> {
    const resolveProblem = await this.#refreshContacts();
    if (this.#isStopped) return;
    this.#isFollowUpWanted = false;
    let isAnswered = await this.#lookupSelf();
    // Our id or address changed during that lookup: once more, so the nodes near the new id know us.
    if (isAnswered && this.#isFollowUpWanted && !this.#isStopped) {
      this.#isFollowUpWanted = false;
      isAnswered = (await this.#lookupSelf()) || isAnswered;
    }
    if (this.#isStopped) return;
    const isRejoin = this.#hasAttempted;
    this.#hasAttempted = true;
    // Answers from nodes that may not enter the table (BEP 42) leave us nobody to ask next time: not joined.
    if (isAnswered && this.#tableSize() > 0) {
      this.#failures = 0;
      this.#state = 'joined';
      this.#onEvent({ kind: 'joined', nodes: this.#tableSize(), isRejoin });
      return;
    }
    this.#failures++;
    const retryInMs = Math.min(JOIN_RETRY_FIRST_MS * 2 ** (this.#failures - 1), JOIN_RETRY_MAX_MS);
    this.#state = 'waiting';
    this.#waitingSinceMs = this.#core.opts.clock.monotonicMs();
    this.#retryTimer = this.#core.opts.clock.setTimer(retryInMs, () => {
      this.#retryTimer = undefined;
      void this.#runAttempt();
    });
    const reason = this.#failureReason(resolveProblem, isAnswered);
    this.#onEvent({ kind: 'join_failed', reason, retryInMs, attempt: this.#failures });
  }

  /**
   * Asks the resolver for the contacts again; returns why it failed (the previous contacts stay: the routers'
   * addresses rarely change, and a network whose DNS is down may still reach them).
   */
  async #refreshContacts(): Promise<string | undefined> {
    const resolve = this.#resolve;
    if (resolve === undefined) return undefined;
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.#core.opts.clock.setTimer(JOIN_RESOLVE_TIMEOUT_MS, () =>
        reject(new Error(`the router names did not resolve within ${JOIN_RESOLVE_TIMEOUT_MS / 1000} s`)),
      );
    });
    try {
      const contacts = await Promise.race([resolve(), timeout]);
      this.#core.bootstrapContacts = contacts;
      return contacts.length === 0 ? 'no router address' : undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      timer?.cancel();
    }
  }

  /**
   * Looks up our own id in every family, bootstrap contacts included; true when any node answered. Slow nodes do
   * not hold it open once k answered: a restarted node's saved table often lists a neighbour that has since gone,
   * and everything waiting for the join would wait out its timeout (the query still runs to its end, so the
   * table learns whether that node is alive).
   */
  async #lookupSelf(): Promise<boolean> {
    const core = this.#core;
    this.#lastLookupMs = core.opts.clock.monotonicMs();
    const answered = await Promise.all(
      core.opts.families.map((family) =>
        findNodeLookup(
          {
            ...core.lookupContext(family),
            canSkipSlow: true,
            seeds: (target) => core.seeds(target, family, true),
          },
          core.id,
        ).then(
          () => true,
          (err: unknown) => {
            core.opts.logger.debug({ err, family }, 'join lookup reached nobody');
            return false;
          },
        ),
      ),
    );
    return answered.includes(true);
  }

  /** Pings a few table nodes (the answer or timeout reaches lastAnswerMs / timeoutsSinceAnswer via the core). */
  #probe(): void {
    const core = this.#core;
    for (const table of core.opts.tables.values()) {
      for (const node of table.closest(core.opts.random.bytes(20), LIVENESS_PROBES_PER_TICK)) {
        core.rpc.query(node.address, { method: 'ping' }).catch(() => {});
      }
    }
  }

  #failureReason(resolveProblem: string | undefined, isAnswered: boolean): string {
    if (isAnswered) return 'nodes answered, but none of them may enter the routing table (BEP 42)';
    const routers = this.#core.bootstrapContacts.length;
    const known = this.#tableSize();
    if (routers === 0 && known === 0)
      return resolveProblem ?? 'no bootstrap address and no known node to ask';
    const asked = [
      ...(routers === 0 ? [] : [`${routers} bootstrap address${routers === 1 ? '' : 'es'}`]),
      ...(known === 0 ? [] : [`${known} known node${known === 1 ? '' : 's'}`]),
    ].join(' and ');
    const silence = `no DHT node answered (asked ${asked})`;
    return resolveProblem === undefined ? silence : `${resolveProblem}; ${silence}`;
  }

  #tableSize(): number {
    let n = 0;
    for (const table of this.#core.opts.tables.values()) n += table.size();
    return n;
  }
}
