/**
 * Is a friend's session still a path? A NAT that dropped its mapping, a router reboot, or a move of either side
 * (issue 11 §9) leaves both ends of a session up and deaf: uTP and the session's own keepalive notice after
 * 20–45 s. Here a session quiet for LIVENESS.quietMs is probed (a ping; anything back within probeTimeoutMs
 * clears it); a failed probe makes the friend suspect — the session stays (it may recover) but the friend is
 * treated as unreachable: its record is read on the fast schedule and a punch is wished for, so a friend that
 * moved is found at its new address within seconds; failuresToClose failures in a row close the session.
 * Quick because a friend that moved can tell us its new address only through its record, which we read fast only
 * once we suspect the old path. But a ping and its pong (and uTP's ack) every 2.5 s on every session was most of
 * an idle daemon's CPU (issue 13 §4: ~70 % of it with 10 friends online, on loopback), so only a session in use
 * is probed that quickly: one that carried a frame other than a ping or pong (a message, an ack, typing, a
 * profile…) within activeForMs, or whose friend is suspect. A session idle longer is probed after idleQuietMs of
 * quiet: a move is noticed within ~12 s there instead of ~4 s, and the first frame sent makes it quick again.
 * Cost: one ping and its pong per quietMs (idleQuietMs when idle) on a quiet session (an active one is never
 * probed; the peer hearing our ping is not quiet, so only one side probes): ~60 bytes/s, ~15 bytes/s idle.
 */
import type { Clock, Timer } from '../../runtime/index.ts';
import type { ChatSession } from './session.ts';
import { SessionCloseCode } from './session.ts';

export const LIVENESS = {
  checkEveryMs: 500,
  /** While every session is idle (none in use, none probing), the check runs this often instead. */
  idleCheckEveryMs: 2500,
  quietMs: 2500,
  /** A session with no frame but pings and pongs for activeForMs is probed after this long of quiet instead. */
  idleQuietMs: 10_000,
  activeForMs: 5 * 60_000,
  probeTimeoutMs: 1500,
  failuresToClose: 2,
} as const;

export interface SessionLivenessOptions {
  readonly clock: Clock;
  sessions(): Iterable<{ peer: Buffer; session: ChatSession }>;
  /** The friend's session failed a probe: it may be unreachable now. */
  onSuspect(peer: Buffer): void;
}

interface Watch {
  session: ChatSession;
  failures: number;
  isProbing: boolean;
}

export class SessionLiveness {
  readonly #opts: SessionLivenessOptions;
  readonly #watches = new Map<string, Watch>();
  #timer: Timer | undefined;
  #isClosed = false;

  constructor(opts: SessionLivenessOptions) {
    this.#opts = opts;
  }

  /** Watches sessions from now on; ChatNode calls it again at every new session (the check stops while none). */
  start(): void {
    if (this.#timer !== undefined || this.#isClosed) return;
    this.#schedule(LIVENESS.checkEveryMs);
  }

  close(): void {
    this.#isClosed = true;
    this.#timer?.cancel();
  }

  /** The friend's session failed its last probe (and has not been heard from since). */
  isSuspect(peer: Buffer): boolean {
    const watch = this.#watches.get(peer.toString('hex'));
    return watch !== undefined && watch.failures > 0 && watch.session.isOpen;
  }

  /** Our network changed: every session is probed now, and suspect until it answers. */
  probeAll(): void {
    this.start();
    for (const { peer, session } of this.#opts.sessions()) {
      const watch = this.#watch(peer, session);
      watch.failures = Math.max(watch.failures, 1);
      this.#probe(peer, watch);
    }
  }

  #schedule(delayMs: number): void {
    this.#timer = this.#opts.clock.setTimer(delayMs, () => {
      this.#timer = undefined;
      if (this.#isClosed) return;
      const isAnyBusy = this.#check();
      // No session to watch: no timer either (a node without friends online spends nothing; start() re-arms).
      // Only idle sessions: their 10 s of quiet need no 500 ms precision (a session put to use meanwhile is
      // probed at most idleCheckEveryMs late).
      if (this.#watches.size > 0)
        this.#schedule(isAnyBusy ? LIVENESS.checkEveryMs : LIVENESS.idleCheckEveryMs);
    });
  }

  /** Probes the sessions quiet for too long; true if any session is in use or being probed. */
  #check(): boolean {
    const nowMs = this.#opts.clock.monotonicMs();
    const seen = new Set<string>();
    let isAnyBusy = false;
    for (const { peer, session } of this.#opts.sessions()) {
      const watch = this.#watch(peer, session);
      seen.add(peer.toString('hex'));
      const isInUse = nowMs - session.lastFrameMs < LIVENESS.activeForMs || watch.failures > 0;
      const quietMs = isInUse ? LIVENESS.quietMs : LIVENESS.idleQuietMs;
      if (nowMs - session.lastReceivedMs >= quietMs) this.#probe(peer, watch);
      else watch.failures = 0;
      isAnyBusy ||= isInUse || watch.isProbing;
    }
    for (const key of this.#watches.keys()) if (!seen.has(key)) this.#watches.delete(key);
    return isAnyBusy;
  }

  #watch(peer: Buffer, session: ChatSession): Watch {
    const key = peer.toString('hex');
    let watch = this.#watches.get(key);
    if (watch === undefined || watch.session !== session) {
      watch = { session, failures: 0, isProbing: false };
      this.#watches.set(key, watch);
    }
    return watch;
  }

  #probe(peer: Buffer, watch: Watch): void {
    if (watch.isProbing) return;
    watch.isProbing = true;
    void watch.session.probe(LIVENESS.probeTimeoutMs).then((isAlive) => {
      watch.isProbing = false;
      if (this.#isClosed || !watch.session.isOpen) return;
      if (isAlive) {
        watch.failures = 0;
        return;
      }
      watch.failures++;
      if (watch.failures >= LIVENESS.failuresToClose) {
        watch.session.close(SessionCloseCode.timeout);
        return;
      }
      this.#opts.onSuspect(peer);
    });
  }
}
