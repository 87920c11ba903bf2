/**
 * Reaching friends through relays when no direct path comes up (docs/PROTOCOL.md "Relays"). Per friend, while
 * we have a reason to think they are around and no session is up, we keep one half waiting at the relay this
 * pair ranks first (relay-keys.ts); the friend does the same, so both meet there and the session manager runs the
 * session over the joined stream (SessionManager.adoptRelayed). Later, a direct session replaces it.
 *
 * Reasons (want): our start, a fresh record of theirs, a message we send them, a session with them that just
 * ended. Each opens a window (WANT_WINDOW_MS); after graceMs without a session (a direct dial usually wins
 * first) we join, and rejoin at once when the relay says nobody came (RELAY_NO_PARTNER) until the window closes.
 * After two no-partner answers in a row we go to the pair's second relay for two joins, then back, so two friends
 * whose relay lists differ still meet. A relay that refuses, stays silent or breaks the protocol is demoted
 * (RelayDirectory) and the next one tried after a back-off; a relayed session that dies (timeout, transport)
 * demotes its relay too, so both friends move to the next one together.
 *
 * Cost: at most one join in flight per friend, MAX_JOINS_IN_FLIGHT in all (below a relay's 8 halves per host, so
 * a household's other users keep room); more friends wait their turn, the most urgent reason first (a message
 * sent, a session lost, an acceptance; then a fresh record; then our start), and a friend whose partner did not
 * come goes to the back of the line. A window costs a relay about one waiting half per 20 s.
 */
import type { Duplex } from 'node:stream';
import { joinRelay, type RelayJoinAttempt, RelayErrorCode, type UtpEndpoint } from '../../net/index.ts';
import {
  addressKey,
  type Clock,
  type Logger,
  nullLogger,
  type Timer,
  type UdpAddress,
} from '../../runtime/index.ts';
import type { Identity } from '../identity.ts';
import type { SessionPath } from '../session/path.ts';
import type { ChatSession } from '../session/session.ts';
import type { RelayDirectory } from './relay-directory.ts';
import { type RelayMeeting, rankRelays } from './relay-keys.ts';

export const RELAY_LINK_TIMING = {
  /** Wait this long after a reason before joining: a direct dial usually wins first. */
  graceMs: 1000,
  /** After a relay failed us: the next try waits this, doubling to maxRetryMs. */
  retryMs: 1000,
  maxRetryMs: 30_000,
  /** No relay known: look again after this (the directory spaces its lookups out itself). */
  noRelayRetryMs: 2000,
  /** A relayed session that died: its relay is demoted this long. */
  demoteAfterLossMs: 60_000,
  /** Matched, but no session by then (the handshake failed): try again. */
  handshakeCheckMs: 12_000,
  /** A friend's record this recent, newer than the last one seen, is a reason to join. */
  recordFreshMs: 10 * 60_000,
} as const;

export type RelayWantReason = 'start' | 'record' | 'send' | 'lost' | 'accepted' | 'request';
const PRIORITY: Record<RelayWantReason, number> = {
  start: 0,
  record: 1,
  send: 2,
  lost: 2,
  accepted: 2,
  request: 2,
};
/**
 * How long a reason keeps us joining while no session is up. Our start, a message sent and an acceptance are
 * reasons the friend learns of only from our record (published then), which it polls at most 5 minutes apart
 * (rendezvous-service.ts): we wait that long at the relay. A fresh record of theirs means they wait already, and a
 * lost session is seen by both at once: a minute.
 */
export const WANT_WINDOW_MS: Record<RelayWantReason, number> = {
  start: 6 * 60_000,
  send: 6 * 60_000,
  accepted: 6 * 60_000,
  record: 60_000,
  lost: 60_000,
  // A friend request (request-relays.ts): the requester's window opens at its add and at the recipient's answer
  // (polled every 4 s for 3 minutes after the add, then every minute); the recipient's at finding the requester.
  request: 3 * 60_000,
};
/** Joins in flight at once, over all friends. */
export const MAX_JOINS_IN_FLIGHT = 4;

export interface RelayLinksOptions {
  /** False: never join a relay (`daemon --no-relay`); every call is then a no-op. */
  readonly isEnabled?: boolean;
  readonly identity: Identity;
  readonly utp: UtpEndpoint;
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly directory: RelayDirectory;
  /** How we meet this peer at a relay now: tokens, role, rank key (undefined: we cannot). */
  meeting(peer: Buffer, nowMs: number): RelayMeeting | undefined;
  /** The path of the friend's session, if one is up. */
  sessionPath(peer: Buffer): SessionPath | undefined;
  /** More relays for this friend (mutual friends who relay), ranked with the directory's. */
  extraRelays?(peer: Buffer): UdpAddress[];
  /** The relay joined us with the friend: run the session over the stream (paused). */
  onMatched(peer: Buffer, stream: Duplex, relay: UdpAddress, isInitiator: boolean): void;
}

export interface RelayLinkStats {
  joins: number;
  matched: number;
  /** Join failures by RELAY_* code. */
  failures: Record<string, number>;
}

interface LinkState {
  readonly peer: Buffer;
  wantUntilMs: number;
  attempt: RelayJoinAttempt | undefined;
  timer: Timer | undefined;
  failuresInRow: number;
  noPartnerInRow: number;
  lastRecordMs: number;
  /** The most urgent reason of the current window (PRIORITY). */
  priority: number;
  isQueued: boolean;
}

export class RelayLinks {
  readonly #opts: RelayLinksOptions;
  readonly #log: Logger;
  readonly #links = new Map<string, LinkState>();
  readonly #stats: RelayLinkStats = { joins: 0, matched: 0, failures: {} };
  /** Links waiting for a join slot, in arrival order (the most urgent is taken first). */
  #queue: LinkState[] = [];
  #inFlight = 0;
  /** Before start() (the DHT not joined yet: no relay can be found) reasons are noted, not acted on. */
  #isStarted = false;
  #isClosed = false;

  constructor(opts: RelayLinksOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nullLogger).child({ component: 'relay-links' });
  }

  stats(): RelayLinkStats {
    return { ...this.#stats, failures: { ...this.#stats.failures } };
  }

  /** Whether a half of ours waits at a relay for this friend now. */
  isJoining(peer: Buffer): boolean {
    return this.#links.get(peer.toString('hex'))?.attempt !== undefined;
  }

  /** A reason to think the friend is around: keep a half at a relay for its window while no session is up. */
  want(peer: Buffer, reason: RelayWantReason): void {
    if (this.#isClosed || this.#opts.isEnabled === false || this.#opts.sessionPath(peer) !== undefined)
      return;
    const link = this.#link(peer);
    const nowMs = this.#opts.clock.monotonicMs();
    const priority = PRIORITY[reason];
    link.priority = nowMs < link.wantUntilMs ? Math.max(link.priority, priority) : priority;
    const untilMs = nowMs + WANT_WINDOW_MS[reason];
    if (untilMs > link.wantUntilMs) link.wantUntilMs = untilMs;
    if (!this.#isStarted) return;
    if (link.attempt === undefined && link.timer === undefined && !link.isQueued) {
      this.#log.debug({ friend: short(peer), reason }, 'relay wanted');
      this.#schedule(link, RELAY_LINK_TIMING.graceMs);
      // Look relays up during the grace, not after it (the directory coalesces and spaces its lookups).
      if (this.#opts.directory.relays().length === 0) void this.#opts.directory.refresh();
    }
  }

  /** The DHT can be asked now (joined, or given up waiting): act on the reasons noted so far, and on later ones. */
  start(): void {
    if (this.#isStarted || this.#isClosed) return;
    this.#isStarted = true;
    for (const link of this.#links.values()) {
      // The dials to friends' last known endpoints started with the chat node, before the DHT joined: they had
      // their chance, so the reasons noted meanwhile are acted on at once.
      if (this.#opts.clock.monotonicMs() < link.wantUntilMs) this.#schedule(link, 0);
    }
  }

  /**
   * A record of the friend's, written at timestampMs by their clock: a new one written within RECORD_FRESH_MS is a
   * reason (they published it at their start, or to ask for a session).
   */
  noteRecord(peer: Buffer, timestampMs: number): void {
    if (this.#isClosed) return;
    const link = this.#link(peer);
    if (timestampMs <= link.lastRecordMs) return;
    link.lastRecordMs = timestampMs;
    if (this.#opts.clock.wallMs() - timestampMs < RELAY_LINK_TIMING.recordFreshMs) this.want(peer, 'record');
  }

  /** A session with the friend is up: a half still waiting is withdrawn. */
  sessionUp(peer: Buffer): void {
    const link = this.#links.get(peer.toString('hex'));
    if (link === undefined) return;
    link.timer?.cancel();
    link.timer = undefined;
    link.attempt?.cancel();
    link.attempt = undefined;
    link.failuresInRow = 0;
    link.noPartnerInRow = 0;
  }

  /** The friend's session ended (and nothing replaced it): rejoin; a relayed one that died demotes its relay. */
  sessionLost(peer: Buffer, session: ChatSession): void {
    if (this.#isClosed) return;
    const isCut =
      session.closeCode === 'CHAT_SESSION_TIMEOUT' || session.closeCode === 'CHAT_SESSION_TRANSPORT';
    if (session.path === 'relayed' && isCut) {
      this.#opts.directory.demote(session.remoteAddress, RELAY_LINK_TIMING.demoteAfterLossMs);
    }
    this.want(peer, 'lost');
  }

  close(): void {
    this.#isClosed = true;
    this.#queue = [];
    for (const link of this.#links.values()) {
      link.timer?.cancel();
      link.attempt?.cancel();
    }
    this.#links.clear();
  }

  #link(peer: Buffer): LinkState {
    const key = peer.toString('hex');
    let link = this.#links.get(key);
    if (link === undefined) {
      link = {
        peer: Buffer.from(peer),
        wantUntilMs: 0,
        attempt: undefined,
        timer: undefined,
        failuresInRow: 0,
        noPartnerInRow: 0,
        lastRecordMs: -Infinity,
        priority: 0,
        isQueued: false,
      };
      this.#links.set(key, link);
    }
    return link;
  }

  #schedule(link: LinkState, delayMs: number): void {
    link.timer?.cancel();
    link.timer = this.#opts.clock.setTimer(delayMs, () => {
      link.timer = undefined;
      this.#pump(link);
    });
  }

  #pump(link: LinkState): void {
    if (this.#isClosed || link.attempt !== undefined) return;
    if (this.#opts.clock.monotonicMs() >= link.wantUntilMs || this.#opts.sessionPath(link.peer) !== undefined)
      return;
    // Tokens are per hour of wall time: both sides' clocks agree on the hour (within RELAY_TOKEN_SKEW_MS).
    const meeting = this.#opts.meeting(link.peer, this.#opts.clock.wallMs());
    if (meeting === undefined) return;
    if (this.#inFlight >= MAX_JOINS_IN_FLIGHT) {
      if (!link.isQueued) {
        link.isQueued = true;
        this.#queue.push(link);
      }
      return;
    }
    const relays = this.#ranked(link.peer, meeting.rankKey);
    if (relays.length === 0) {
      void this.#opts.directory.refresh().then(() => {
        // A reason that came during the lookup set its own (grace) timer: the lookup already took longer.
        if (link.attempt === undefined && !link.isQueued && !this.#isClosed) {
          const isFound = this.#ranked(link.peer, meeting.rankKey).length > 0;
          this.#schedule(link, isFound ? 0 : RELAY_LINK_TIMING.noRelayRetryMs);
        }
      });
      return;
    }
    // Nobody came twice in a row at our first choice: the friend may rank another first (lists differ).
    const relay = relays[Math.floor(link.noPartnerInRow / 2) % Math.min(2, relays.length)] as UdpAddress;
    const role = meeting.join.role;
    const attempt = joinRelay({ utp: this.#opts.utp, relay, join: meeting.join, clock: this.#opts.clock });
    link.attempt = attempt;
    this.#inFlight++;
    this.#stats.joins++;
    this.#log.debug({ friend: short(link.peer), relay: addressKey(relay), role }, 'relay join');
    attempt.matched.then(
      (stream) => {
        if (link.attempt === attempt) link.attempt = undefined;
        this.#slotFreed();
        if (this.#isClosed || this.#opts.sessionPath(link.peer) === 'direct') {
          stream.destroy();
          return;
        }
        this.#stats.matched++;
        link.failuresInRow = 0;
        link.noPartnerInRow = 0;
        this.#log.debug({ friend: short(link.peer), relay: addressKey(relay) }, 'relay matched');
        this.#opts.onMatched(link.peer, stream, relay, role === 0);
        this.#schedule(link, RELAY_LINK_TIMING.handshakeCheckMs);
      },
      (error: { code?: string }) => {
        if (link.attempt === attempt) link.attempt = undefined;
        this.#slotFreed();
        const code = error.code ?? 'unknown';
        this.#stats.failures[code] = (this.#stats.failures[code] ?? 0) + 1;
        if (this.#isClosed || code === RelayErrorCode.cancelled || code === RelayErrorCode.replaced) return;
        if (code === RelayErrorCode.noPartner) {
          link.noPartnerInRow++;
          this.#schedule(link, 0);
          return;
        }
        this.#log.debug({ friend: short(link.peer), relay: addressKey(relay), code }, 'relay join failed');
        // Too many halves of ours there is about us, not the relay: back off without demoting it.
        if (code !== RelayErrorCode.sourceLimit) this.#opts.directory.demote(relay);
        const delayMs = Math.min(
          RELAY_LINK_TIMING.maxRetryMs,
          RELAY_LINK_TIMING.retryMs * 2 ** link.failuresInRow,
        );
        link.failuresInRow++;
        this.#schedule(link, delayMs);
      },
    );
  }

  /** A join ended: the most urgent friend still waiting for a slot (oldest first among equals) goes next. */
  #slotFreed(): void {
    this.#inFlight--;
    if (this.#isClosed) return;
    const nowMs = this.#opts.clock.monotonicMs();
    this.#queue = this.#queue.filter((l) => {
      const isWanted = nowMs < l.wantUntilMs && this.#opts.sessionPath(l.peer) === undefined;
      if (!isWanted) l.isQueued = false;
      return isWanted;
    });
    let next: LinkState | undefined;
    for (const l of this.#queue) if (next === undefined || l.priority > next.priority) next = l;
    if (next === undefined) return;
    this.#queue.splice(this.#queue.indexOf(next), 1);
    next.isQueued = false;
    this.#schedule(next, 0);
  }

  /** The directory's relays and this friend's extra ones, in the pair's order; demoted ones last. */
  #ranked(peer: Buffer, rankKey: Buffer): UdpAddress[] {
    const all = [...this.#opts.directory.relays(), ...(this.#opts.extraRelays?.(peer) ?? [])];
    const directory = this.#opts.directory;
    return [
      ...rankRelays(
        rankKey,
        all.filter((r) => !directory.isDemoted(r)),
      ),
      ...rankRelays(
        rankKey,
        all.filter((r) => directory.isDemoted(r)),
      ),
    ];
  }
}

function short(peer: Buffer): string {
  return peer.toString('hex').slice(0, 8);
}
