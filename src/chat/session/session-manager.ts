/**
 * Keeps one session per friend. Dials a friend's candidates — last known endpoints from the store first (so a
 * restarted daemon is back within seconds, before any DHT poll), then the endpoints of their rendezvous
 * record — staggered by dialStaggerMs so one good address rarely yields two sessions; accepts incoming sessions;
 * asks the owner (admit) whether an authenticated peer is a friend, a friend request, or refused.
 *
 * Simultaneous open: when a second session to the same friend comes up within SIMULTANEOUS_WINDOW_MS of the
 * first, both sides keep the one initiated by the lower public key (same initiator: the older one). Outside the
 * window the newer one wins: a friend who dials again has lost the old session (restart, new address). A friend
 * who restarted within the window looks like a simultaneous open, so before the old session is kept it is
 * probed (PROBE_TIMEOUT_MS) while the new one waits: silent, it is closed and the new one takes over.
 * A lost session is redialled at once, then with exponential back-off (1 s doubling to 5 min, ±20 % jitter) that
 * restarts only after a session that lasted STABLE_SESSION_MS: a peer that closes every session (one who blocked
 * us) is not redialled in a hot loop.
 * Presence: online while a session is up; away PRESENCE_GRACE_MS after the last one closed (lastSeen then);
 * offline after AWAY_TO_OFFLINE_MS more; an offline friend whose fresh record we fetch is away (lastSeen: now).
 * Strangers: an incoming XX handshake needs a StrangerGate ticket before any DH is done for it, must complete
 * within the gate's handshakeMs, and holds its ticket until it closes or proves to be a friend. IK is never
 * rationed: a friend always gets in (a stranger's IK is refused right after the handshake).
 * Relayed sessions (adoptRelayed; src/chat/relay): a direct session always replaces a relayed one and a relayed one
 * never replaces a direct one (both sides apply the rule, so they agree); while only a relayed session is up the
 * friend is still dialled directly on the back-off schedule, so a path that opens later is taken.
 */
import type { Duplex } from 'node:stream';
import type { SecurePattern, UtpEndpoint, UtpSocket } from '../../net/index.ts';
import { addressKey, type UdpAddress } from '../../runtime/index.ts';
import type { ChatStore } from '../store/chat-store.ts';
import { ContactState, type Presence } from '../store/contacts.ts';
import { dialOrder } from './dial-order.ts';
import { FriendHosts } from './friend-hosts.ts';
import {
  CHAT_CHANNEL,
  ChatSession,
  SessionCloseCode,
  type SessionContext,
  type SessionHandlers,
} from './session.ts';
import { StrangerGate, type StrangerLimits, type StrangerTicket } from './stranger-gate.ts';

/** friend: an accepted contact; member: someone who shares a group with us (groups/group-service.ts). */
export type Admission = 'friend' | 'member' | 'request' | 'refuse';

export interface SessionManagerHooks {
  /** Decides what an authenticated peer may do; may change the store (a pending request becomes accepted). */
  admit(peer: Buffer, pattern: SecurePattern, isInitiator: boolean): Admission;
  /** How to dial a peer: IK (friend), XX (our pending request), or not at all. */
  dialMode(peer: Buffer): 'IK' | 'XX' | undefined;
  /** A friend's session is up: returns the handlers for its frames. */
  onFriendSession(peer: Buffer, session: ChatSession): Pick<SessionHandlers, 'onFrame'>;
  onRequestSession(peer: Buffer, session: ChatSession): void;
  onPresence(peer: Buffer, presence: Presence): void;
  /** An authenticated stream of another channel than the chat's came in: true when the owner took it. */
  onChannelStream?(peer: Buffer, session: ChatSession): boolean;
  /**
   * A friend's active session ended (not replaced by another): the friend was there until now (its record is read
   * on the fast schedule), and the relay links rejoin.
   */
  onFriendSessionEnd?(peer: Buffer, session: ChatSession): void;
  /** The friend's active session failed a liveness probe: dial anyway (a new session replaces it). */
  isSuspect?(peer: Buffer): boolean;
}

export const SIMULTANEOUS_WINDOW_MS = 10_000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 16_000, 30_000, 60_000, 120_000, 300_000];
const AWAY_TO_OFFLINE_MS = 5 * 60_000;
export const PRESENCE_GRACE_MS = 3000;
export const RECORD_FRESH_MS = 65 * 60_000;
const MAX_CANDIDATES = 8;
const MAX_RECORD_ENDPOINTS = 8;
const DIAL_STAGGER_MS = 400;
/** How long an old session has to answer a ping before a friend's new session replaces it (a few RTTs). */
export const PROBE_TIMEOUT_MS = 2000;
/** A session that lasted this long was a good one: when it ends the friend is redialled at once. */
export const STABLE_SESSION_MS = 10_000;

interface PeerState {
  key: Buffer;
  active: ChatSession | undefined;
  dials: Set<ChatSession>;
  isDialing: boolean;
  /** Endpoints a dial is under way to (addressKey). */
  dialingTo: Set<string>;
  /** What we last reported: online from the first session until the grace period after the last one. */
  isOnline: boolean;
  attempts: number;
  retryTimer: { cancel(): void } | undefined;
  offlineTimer: { cancel(): void } | undefined;
  recordEndpoints: UdpAddress[];
  /** The active session's probe, while a friend's new session waits for it (see #park). */
  probe: { target: ChatSession; isAlive: Promise<boolean> } | undefined;
}

export class SessionManager {
  readonly #ctx: SessionContext;
  readonly #utp: UtpEndpoint;
  readonly #store: ChatStore;
  readonly #hooks: SessionManagerHooks;
  readonly #peers = new Map<string, PeerState>();
  readonly #pending = new Set<ChatSession>();
  readonly #strangers: StrangerGate;
  /** Incoming XX sessions holding a stranger ticket (until they close or turn out to be friends). */
  readonly #tickets = new Map<ChatSession, StrangerTicket>();
  #isClosed = false;

  constructor(
    ctx: SessionContext,
    utp: UtpEndpoint,
    store: ChatStore,
    hooks: SessionManagerHooks,
    opts: { strangerLimits?: Partial<StrangerLimits> } = {},
  ) {
    this.#ctx = ctx;
    this.#utp = utp;
    this.#store = store;
    this.#hooks = hooks;
    this.#strangers = new StrangerGate(ctx.clock, opts.strangerLimits);
  }

  /** The stranger ration: tickets held now, and how many were admitted, evicted and refused so far. */
  get strangers(): Pick<StrangerGate, 'active' | 'stats' | 'limits'> {
    return this.#strangers;
  }

  start(): void {
    const friendHosts = new FriendHosts(this.#ctx.clock, () => this.#friendEndpoints());
    this.#utp.listen((socket) => this.#accept(socket), { isTrusted: (a) => friendHosts.has(a.host) });
  }

  /** Friends' last known endpoints and rendezvous candidates: whom the uTP listener trusts (friend-hosts.ts). */
  *#friendEndpoints(): Iterable<UdpAddress> {
    for (const contact of this.#store.contacts.list([ContactState.accepted])) {
      yield* this.#store.contacts.endpoints(contact.publicKey);
      yield* this.#peers.get(contact.publicKey.toString('hex'))?.recordEndpoints ?? [];
    }
  }

  close(): void {
    this.#isClosed = true;
    for (const state of this.#peers.values()) {
      state.retryTimer?.cancel();
      state.offlineTimer?.cancel();
      for (const dial of state.dials) dial.close();
      state.active?.close();
    }
    for (const session of this.#pending) session.close();
    this.#peers.clear();
  }

  /** The open session to a friend, if any. */
  sessionOf(peer: Buffer): ChatSession | undefined {
    const active = this.#peers.get(peer.toString('hex'))?.active;
    return active?.isOpen === true ? active : undefined;
  }

  /** Every friend's open session (session-liveness.ts probes the quiet ones). */
  *activeSessions(): Iterable<{ peer: Buffer; session: ChatSession }> {
    for (const state of this.#peers.values()) {
      if (state.active?.isOpen === true) yield { peer: state.key, session: state.active };
    }
  }

  /**
   * A relay matched us with a friend (src/chat/relay): run the session over that stream. It is installed like a
   * dialled one, once the key that answered is the friend's.
   */
  adoptRelayed(peer: Buffer, stream: Duplex, relay: UdpAddress, isInitiator: boolean): void {
    if (this.#isClosed) {
      stream.destroy();
      return;
    }
    const session = ChatSession.overRelay(this.#ctx, stream, relay, isInitiator, peer);
    this.#pending.add(session);
    session.established.then(
      () => {
        this.#pending.delete(session);
        if (session.peerKey?.equals(peer) === true) this.#onEstablished(session);
        else session.close(SessionCloseCode.refused);
      },
      () => this.#pending.delete(session),
    );
  }

  /** Endpoints from the friend's rendezvous record (or a hint): remembered and dialled now if no session. */
  addCandidates(peer: Buffer, endpoints: readonly UdpAddress[]): void {
    const state = this.#state(peer);
    const known = new Set(state.recordEndpoints.map(addressKey));
    for (const endpoint of endpoints) {
      if (!known.has(addressKey(endpoint))) state.recordEndpoints.unshift(endpoint);
    }
    state.recordEndpoints = state.recordEndpoints.slice(0, MAX_RECORD_ENDPOINTS);
    state.attempts = 0;
    this.connect(peer);
  }

  /**
   * A friend's rendezvous record, written at timestampMs: with no session, a record fresher than
   * RECORD_FRESH_MS (records are republished at least hourly) shows an offline friend as away; a stale one
   * shows an away friend as offline (unless a session just ended: its own timers decide then).
   */
  noteRecordSeen(peer: Buffer, timestampMs: number): void {
    const state = this.#state(peer);
    if (state.active?.isOpen === true || state.offlineTimer !== undefined) return;
    const isFresh = this.#ctx.clock.wallMs() - timestampMs <= RECORD_FRESH_MS;
    const presence = this.#store.contacts.get(peer)?.presence;
    if (isFresh && presence === 'offline') this.#setPresence(state, 'away');
    else if (!isFresh && presence === 'away') this.#setPresence(state, 'offline');
  }

  /** Dials a friend (or a peer we sent a request to) unless a session or a dial is already under way. */
  connect(peer: Buffer): void {
    if (this.#isClosed) return;
    const state = this.#state(peer);
    if (this.#isSettled(state)) return;
    const mode = this.#hooks.dialMode(peer);
    if (mode === undefined) return;
    // Endpoints a dial is already under way to are left to it; new ones (a friend that moved, a punch that
    // just opened a NAT) are dialled at once rather than after the running dials time out.
    const candidates = this.#candidates(state).filter((a) => !state.dialingTo.has(addressKey(a)));
    if (candidates.length === 0) return;
    state.retryTimer?.cancel();
    state.retryTimer = undefined;
    state.isDialing = true;
    for (const address of candidates) state.dialingTo.add(addressKey(address));
    candidates.forEach((address, index) => {
      const onDialEnd = (): void => {
        state.dialingTo.delete(addressKey(address));
        if (state.dialingTo.size > 0) return;
        state.isDialing = false;
        if (!hasDirect(state)) this.#scheduleRetry(state);
      };
      const dial = (): void => {
        if (this.#isClosed || this.#isSettled(state)) {
          onDialEnd();
          return;
        }
        let session: ChatSession;
        try {
          session = ChatSession.connect(this.#ctx, this.#utp, address, peer, { isXX: mode === 'XX' });
        } catch (error) {
          this.#ctx.logger.debug({ error: String(error) }, 'chat dial failed');
          onDialEnd();
          return;
        }
        state.dials.add(session);
        session.established.then(
          () => {
            state.dials.delete(session);
            this.#onEstablished(session);
            onDialEnd();
          },
          () => {
            state.dials.delete(session);
            onDialEnd();
          },
        );
      };
      if (index === 0) dial();
      else this.#ctx.clock.setTimer(index * DIAL_STAGGER_MS, dial);
    });
  }

  /**
   * A relay matched a friend request's two sides (request-relays.ts): as the recipient we call with XX (the
   * dial-back, over the relay); as the requester we answer, through the same stranger ration as a direct dial.
   * Admission then goes as for any session (the requester's pending request, the recipient's request rations).
   */
  adoptRelayedRequest(stream: Duplex, relay: UdpAddress, isRecipient: boolean): void {
    if (this.#isClosed) {
      stream.destroy();
      return;
    }
    const session: ChatSession = ChatSession.overRelayUnknown(
      this.#ctx,
      stream,
      relay,
      isRecipient,
      (pattern) => (pattern === 'IK' ? false : this.#admitStranger(session)),
    );
    this.#track(session);
  }

  /** Dials an address whose owner we do not know yet (a friend request's requester): XX. */
  connectUnknown(address: UdpAddress): void {
    if (this.#isClosed) return;
    let session: ChatSession;
    try {
      session = ChatSession.connectUnknown(this.#ctx, this.#utp, address);
    } catch {
      return;
    }
    this.#track(session);
  }

  #accept(socket: UtpSocket): void {
    if (this.#isClosed) {
      socket.reset();
      return;
    }
    const session = ChatSession.accept(this.#ctx, socket, {
      admitPattern: (pattern) => pattern === 'IK' || this.#admitStranger(session),
    });
    this.#track(session);
  }

  /** An XX initiator's first frame: a ticket, a deadline for its handshake, and release when it closes. */
  #admitStranger(session: ChatSession): boolean {
    if (this.#isClosed) return false;
    const ticket = this.#strangers.tryAdmit(session.remoteAddress, () =>
      session.close(SessionCloseCode.refused),
    );
    if (ticket === undefined) {
      const { refused } = this.#strangers.stats;
      const fields = { session: session.id, active: this.#strangers.active, ...refused };
      this.#ctx.logger.debug(fields, 'chat: stranger handshake refused (ration)');
      return false;
    }
    this.#tickets.set(session, ticket);
    const deadline = this.#ctx.clock.setTimer(this.#strangers.limits.handshakeMs, () => {
      if (session.establishedMs === undefined) session.close(SessionCloseCode.timeout);
    });
    void session.closed.then(() => {
      deadline.cancel();
      this.#releaseStranger(session);
    });
    return true;
  }

  #releaseStranger(session: ChatSession): void {
    this.#tickets.get(session)?.release();
    this.#tickets.delete(session);
  }

  #track(session: ChatSession): void {
    this.#pending.add(session);
    session.established.then(
      () => {
        this.#pending.delete(session);
        this.#onEstablished(session);
      },
      () => this.#pending.delete(session),
    );
  }

  #onEstablished(session: ChatSession): void {
    const peerInfo = session.peer;
    if (this.#isClosed || peerInfo === undefined || !session.isOpen) {
      session.close();
      return;
    }
    const peer = peerInfo.identityPublicKey;
    if (peer.equals(this.#ctx.identity.publicKey)) {
      session.close(SessionCloseCode.refused);
      return;
    }
    if (session.channel !== CHAT_CHANNEL) {
      // Another channel (a file stream): its owner takes it (detach) or it is refused; never a chat session.
      if (this.#hooks.onChannelStream?.(peer, session) !== true) session.close(SessionCloseCode.refused);
      return;
    }
    let admission: Admission;
    try {
      admission = this.#hooks.admit(peer, peerInfo.pattern, session.isInitiator);
    } catch (error) {
      this.#ctx.logger.warn({ error: String(error) }, 'chat admission failed');
      admission = 'refuse';
    }
    if (admission === 'refuse') {
      session.close(SessionCloseCode.refused);
      return;
    }
    if (admission === 'request') {
      this.#hooks.onRequestSession(peer, session);
      return;
    }
    this.#releaseStranger(session); // a friend who dialled with XX (they have not seen our acceptance yet)
    this.#install(peer, session);
  }

  #install(peer: Buffer, session: ChatSession): void {
    const state = this.#state(peer);
    const existing = state.active;
    if (existing?.isOpen === true && existing !== session) {
      if (session.path === 'relayed' && existing.path !== 'relayed') {
        session.close(SessionCloseCode.replaced);
        return;
      }
      const isUpgrade = existing.path === 'relayed' && session.path !== 'relayed';
      if (!isUpgrade && this.#keepsExisting(existing, session, peer)) {
        this.#park(state, existing, session);
        return;
      }
      existing.close(SessionCloseCode.replaced);
    }
    this.#activate(state, session);
  }

  /**
   * The tie-break keeps the old session, but it may be dead: the friend was killed (no FIN) and dialled again
   * within the window, perhaps from a new address (no reset comes either). Kept blindly, it would turn away every
   * redial until the window passed. So the new one waits unadmitted (frames held) while the old one is probed:
   * alive, the new one is closed; silent, the old one is, and the new one is admitted (the outbox flushed on it).
   */
  #park(state: PeerState, existing: ChatSession, contender: ChatSession): void {
    contender.park();
    if (state.probe?.target !== existing) {
      state.probe = { target: existing, isAlive: existing.probe(PROBE_TIMEOUT_MS) };
    }
    const probe = state.probe;
    void probe.isAlive.then((isAlive) => {
      if (state.probe === probe) state.probe = undefined;
      // Closing the manager closes the active session, which ends the probe: the waiting one goes too.
      if (isAlive && existing.isOpen && !this.#isClosed) {
        contender.close(SessionCloseCode.replaced);
        return;
      }
      const fields = { session: existing.id, isClosed: !existing.isOpen, contender: contender.id };
      this.#ctx.logger.debug(fields, 'chat: old session gone or silent, the new one takes over');
      existing.close(SessionCloseCode.timeout);
      if (this.#isClosed) contender.close();
      else if (contender.isOpen) this.#install(state.key, contender);
    });
  }

  #activate(state: PeerState, session: ChatSession): void {
    const peer = state.key;
    state.active = session;
    state.retryTimer?.cancel();
    state.retryTimer = undefined;
    state.offlineTimer?.cancel();
    state.offlineTimer = undefined;
    // Dials still in flight are left to finish: the peer may already hold them as its session (it answered
    // our SYN), and the tie-break above settles which one both sides keep.
    const wasOnline = state.isOnline;
    state.isOnline = true;
    try {
      // A group member who is not a contact has no row here (the groups keep its endpoints); a relayed
      // session's remote address is the relay's, not the friend's.
      if (this.#store.contacts.get(peer) !== undefined) {
        if (session.path !== 'relayed')
          this.#store.contacts.noteEndpoint(peer, session.remoteAddress, 'session');
        this.#store.contacts.setPresence(peer, 'online');
      }
    } catch (error) {
      this.#ctx.logger.warn({ error: String(error) }, 'chat: could not save presence');
    }
    if (!wasOnline) this.#hooks.onPresence(peer, 'online');
    this.#ctx.logger.debug(
      {
        session: session.id,
        remote: addressKey(session.remoteAddress),
        isRelayed: session.path === 'relayed',
      },
      'chat session up',
    );
    const handlers = this.#hooks.onFriendSession(peer, session);
    session.admit({ ...handlers, onClose: (_code, detail) => this.#onFriendClosed(state, session, detail) });
    // Relayed: keep trying the friend directly (back-off), so a path that opens later replaces the relay.
    if (session.path === 'relayed') this.#scheduleRetry(state);
  }

  /** The tie-break: both sides reach the same answer from the two sessions' initiators. */
  #keepsExisting(existing: ChatSession, incoming: ChatSession, peer: Buffer): boolean {
    const gap = Math.abs((incoming.establishedMs ?? 0) - (existing.establishedMs ?? 0));
    if (gap > SIMULTANEOUS_WINDOW_MS) return false;
    if (existing.isInitiator === incoming.isInitiator) return true;
    const own = this.#ctx.identity.publicKey;
    const isOwnLower = Buffer.compare(own, peer) < 0;
    // Keep the session that the lower key initiated.
    return existing.isInitiator === isOwnLower;
  }

  #onFriendClosed(state: PeerState, session: ChatSession, detail?: string): void {
    this.#ctx.logger.debug(
      { session: session.id, code: session.closeCode, detail, isActive: state.active === session },
      'chat session closed',
    );
    if (state.active !== session) return;
    state.active = undefined;
    if (this.#isClosed) return;
    if (session.closeCode === SessionCloseCode.replaced) return;
    this.#hooks.onFriendSessionEnd?.(state.key, session);
    // A session that lasted was a good one: redial at once with a fresh back-off; after a short one, back off.
    if (this.#ctx.clock.monotonicMs() - (session.establishedMs ?? -Infinity) >= STABLE_SESSION_MS)
      state.attempts = 0;
    // Away only if no other session takes over within the grace period (a simultaneous open's loser closing
    // under us, a quick redial), so presence does not flap.
    state.offlineTimer?.cancel();
    state.offlineTimer = this.#ctx.clock.setTimer(PRESENCE_GRACE_MS, () => {
      state.offlineTimer = undefined;
      if (state.active?.isOpen === true || this.#isClosed) return;
      state.isOnline = false;
      this.#setPresence(state, 'away');
      state.offlineTimer = this.#ctx.clock.setTimer(AWAY_TO_OFFLINE_MS, () => {
        state.offlineTimer = undefined;
        if (state.active?.isOpen !== true) this.#setPresence(state, 'offline');
      });
    });
    this.#scheduleRetry(state, state.attempts === 0 ? 0 : undefined);
  }

  #setPresence(state: PeerState, presence: Presence): void {
    try {
      this.#store.contacts.setPresence(state.key, presence);
    } catch {
      return; // The contact was removed meanwhile.
    }
    this.#hooks.onPresence(state.key, presence);
  }

  #scheduleRetry(state: PeerState, fixedDelayMs?: number): void {
    if (this.#isClosed || hasDirect(state)) return;
    const base = BACKOFF_MS[Math.min(state.attempts, BACKOFF_MS.length - 1)] as number;
    state.attempts++;
    const delayMs = fixedDelayMs ?? Math.round(base * (0.8 + this.#ctx.random.int(401) / 1000));
    state.retryTimer?.cancel();
    state.retryTimer = this.#ctx.clock.setTimer(delayMs, () => {
      state.retryTimer = undefined;
      this.connect(state.key);
    });
  }

  #candidates(state: PeerState): UdpAddress[] {
    let stored: UdpAddress[] = [];
    try {
      stored = this.#store.contacts.endpoints(state.key);
    } catch {
      stored = [];
    }
    return dialOrder([...stored, ...state.recordEndpoints], this.#utp.localAddress().host, MAX_CANDIDATES);
  }

  /** A direct session is up and no liveness probe doubts it: nothing to dial. */
  #isSettled(state: PeerState): boolean {
    return hasDirect(state) && this.#hooks.isSuspect?.(state.key) !== true;
  }

  #state(peer: Buffer): PeerState {
    const hex = peer.toString('hex');
    let state = this.#peers.get(hex);
    if (state === undefined) {
      state = {
        key: Buffer.from(peer),
        active: undefined,
        dials: new Set(),
        isDialing: false,
        dialingTo: new Set(),
        isOnline: false,
        attempts: 0,
        retryTimer: undefined,
        offlineTimer: undefined,
        recordEndpoints: [],
        probe: undefined,
      };
      this.#peers.set(hex, state);
    }
    return state;
  }
}

/** A session straight to the friend is up (a relayed one does not stop us dialling). */
function hasDirect(state: PeerState): boolean {
  return state.active?.isOpen === true && state.active.path !== 'relayed';
}
