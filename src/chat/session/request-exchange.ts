/**
 * Who may talk to us, and friend requests over sessions.
 *
 * Admission of an authenticated peer: an accepted contact is a friend; a blocked or declined one is refused
 * (before any frame of theirs is looked at, and without a store write); a peer we sent a request to is a friend
 * once they dial us with IK (only someone who accepted us does that), otherwise a request session (we send our
 * request). A stranger is refused over IK, and over XX may send exactly one frame, a friend request, within
 * REQUEST_FRAME_DEADLINE_MS of the handshake.
 *
 * Receiving (issue 10 §3): a request from a key with no pending request must carry a valid stamp (one hash to
 * check; request-stamp.ts) and get a slot from the RequestBudget (per host, per network, overall) before
 * anything is stored; a pending key's re-sends need neither and are written at most a few times an hour. A
 * request that is stored, or already was, is acknowledged on the session (request-ack `received`); one without a
 * valid stamp gets `stamp-refused`; one over a limit gets nothing (the requester tries again later). A request
 * from someone we asked too is a mutual add: accepted.
 *
 * Sending: a request waits for its stamp (solved in the background, OutgoingStamps) before we dial; the
 * recipient's `received` ack is recorded (outgoingStatus) and ends the DHT announcements. We keep dialling with
 * the usual back-off after that, because their acceptance may only reach us that way (they may not be able to
 * dial us); those re-sends cost the recipient no stamp check and no slot.
 */
import type { SecurePattern } from '../../net/index.ts';
import {
  type Clock,
  DhtchatError,
  type Logger,
  type Random,
  type Timer,
  type UdpAddress,
} from '../../runtime/index.ts';
import { HOUR_EPOCH_MS } from '../epoch.ts';
import { checkStamp, type RequestStamp, STAMP_NONCES_BYTES } from '../request-stamp.ts';
import type { ChatStore } from '../store/chat-store.ts';
import { ChatStoreErrorCode } from '../store/store-errors.ts';
import type { ChatFrame, RequestAckStatus } from './frames.ts';
import { OutgoingStamps } from './outgoing-stamps.ts';
import { RequestBudget, type RequestBudgetLimits } from './request-budget.ts';
import type { ChatSession } from './session.ts';
import { SessionCloseCode } from './session.ts';
import type { Admission } from './session-manager.ts';
import { codeOf, type RequestView } from './views.ts';

/** A stranger's request frame must arrive this soon after its handshake. */
export const REQUEST_FRAME_DEADLINE_MS = 5000;
/** How long our side of a request session waits for the recipient's ack. */
export const REQUEST_SESSION_MS = 30_000;
/** After acknowledging, how long we wait for the requester to close (it does on the ack) before we do. */
export const ACK_LINGER_MS = 2000;
const NAME_KV_PREFIX = 'chat-session/request-name/';
const RECEIVED_KV_PREFIX = 'chat-session/request-received/';

/** Where our pending request to someone stands: sent (not acknowledged yet) or received by their daemon. */
export type OutgoingRequestStatus = 'sent' | 'received';

export interface RequestExchangeEvents {
  /** A new friend request to show the user. */
  /** A new request arrived, on a session from `from` (a relay's address when relayed). */
  onRequest(peer: Buffer, from: UdpAddress): void;
  /** A contact became accepted without the user's action (mutual add, or they accepted ours). */
  onAccepted(peer: Buffer): void;
  /** Our request reached the recipient's daemon (its first `received` ack), over a relayed session or not. */
  onRequestReceived(peer: Buffer, isRelayed: boolean): void;
  /** A stamp for our request to `peer` is ready: dial them. */
  dial(peer: Buffer): void;
}

export interface RequestExchangeOptions {
  store: ChatStore;
  clock: Clock;
  random: Random;
  logger: Logger;
  ownPublicKey: Buffer;
  events: RequestExchangeEvents;
  ownName?: () => string;
  /** Stamp work, asked of requesters and done for ours: the product's REQUEST_STAMP_BITS unless given. */
  stampBits?: number;
  budget?: Partial<RequestBudgetLimits>;
}

export class RequestExchange {
  readonly budget: RequestBudget;
  readonly stamps: OutgoingStamps;
  readonly #store: ChatStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #ownPublicKey: Buffer;
  readonly #events: RequestExchangeEvents;
  readonly #ownName: () => string;
  #pruneTimer: Timer | undefined;
  #isClosed = false;

  constructor(opts: RequestExchangeOptions) {
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
    this.#ownPublicKey = opts.ownPublicKey;
    this.#events = opts.events;
    this.#ownName = opts.ownName ?? (() => '');
    this.budget = new RequestBudget(opts.store, opts.clock, opts.budget);
    this.stamps = new OutgoingStamps({
      ownPublicKey: opts.ownPublicKey,
      clock: opts.clock,
      random: opts.random,
      logger: opts.logger,
      ...(opts.stampBits === undefined ? {} : { bits: opts.stampBits }),
      onReady: (peer) => {
        if (this.dialMode(peer) !== undefined) this.#events.dial(peer);
      },
    });
  }

  /** Prunes what strangers left in the store now, then every hour. */
  start(): void {
    if (this.#isClosed || this.#pruneTimer !== undefined) return;
    const tick = (): void => {
      this.prune();
      this.#pruneTimer = this.#clock.setTimer(HOUR_EPOCH_MS, tick);
    };
    tick();
  }

  close(): void {
    this.#isClosed = true;
    this.#pruneTimer?.cancel();
    this.stamps.close();
  }

  prune(): void {
    try {
      const counts = this.budget.prune();
      for (const key of counts.expired) this.#store.kv.delete(NAME_KV_PREFIX + key.toString('hex'));
      if (counts.rateBuckets + counts.declined + counts.expired.length > 0) {
        const fields = {
          rateBuckets: counts.rateBuckets,
          declined: counts.declined,
          expired: counts.expired.length,
        };
        this.#logger.debug(fields, 'friend requests pruned');
      }
    } catch (error) {
      this.#logger.warn({ error: String(error) }, 'friend request pruning failed');
    }
  }

  admit(peer: Buffer, pattern: SecurePattern, isInitiator: boolean): Admission {
    const contact = this.#store.contacts.get(peer);
    switch (contact?.state) {
      case 'accepted':
        return 'friend';
      case 'blocked':
      case 'declined':
        return 'refuse';
      case 'pending-outgoing':
        if (pattern === 'IK' && !isInitiator) {
          this.#markAccepted(peer);
          return 'friend';
        }
        return 'request';
      default:
        return pattern === 'XX' ? 'request' : 'refuse';
    }
  }

  /** IK to a friend; XX to someone we asked, once the request's stamp is ready (or they have received it). */
  dialMode(peer: Buffer): 'IK' | 'XX' | undefined {
    const state = this.#store.contacts.get(peer)?.state;
    if (state === 'accepted') return 'IK';
    if (state !== 'pending-outgoing') return undefined;
    if (this.outgoingStatus(peer) === 'received') return 'XX';
    return this.stamps.get(peer) === undefined ? undefined : 'XX';
  }

  /** The user (re)sent a request to `peer`: it counts as not received until acknowledged again. */
  noteOutgoing(peer: Buffer): void {
    this.#store.kv.delete(RECEIVED_KV_PREFIX + peer.toString('hex'));
    this.stamps.prepare(peer);
  }

  /** Our pending request's status, for a pending-outgoing contact; undefined for anyone else. */
  outgoingStatus(peer: Buffer): OutgoingRequestStatus | undefined {
    if (this.#store.requests.get(peer, 'outgoing')?.state !== 'pending') return undefined;
    return this.#store.kv.get(RECEIVED_KV_PREFIX + peer.toString('hex')) === undefined ? 'sent' : 'received';
  }

  /** A pending or answered incoming request as the API shows it. */
  view(peer: Buffer): RequestView | undefined {
    const r = this.#store.requests.get(peer, 'incoming');
    if (r === undefined) return undefined;
    const name = this.requestName(peer);
    return {
      code: codeOf(peer),
      ...(name === undefined ? {} : { name }),
      ...(r.message.length === 0 ? {} : { message: r.message }),
      receivedAt: r.createdMs,
    };
  }

  /** Forgets what was kept for a removed contact: the name it suggested, our request's ack mark and stamp. */
  forget(peer: Buffer): void {
    this.#store.kv.delete(NAME_KV_PREFIX + peer.toString('hex'));
    this.#store.kv.delete(RECEIVED_KV_PREFIX + peer.toString('hex'));
    this.stamps.forget(peer);
  }

  /** The suggested name a requester sent with its request, if any. */
  requestName(peer: Buffer): string | undefined {
    const value = this.#store.kv.get(NAME_KV_PREFIX + peer.toString('hex'));
    return value === undefined || value.length === 0 ? undefined : value.toString('utf8');
  }

  /** The pending incoming request whose name is `name` (exactly, else ignoring case); ambiguous is an error. */
  requesterNamed(name: string): Buffer | undefined {
    if (name.length === 0 || name.toLowerCase().startsWith('dhtchat:')) return undefined;
    const pending = this.#store.requests.list({ direction: 'incoming', state: 'pending' });
    const named = pending.map((r) => ({ peer: r.publicKey, name: this.requestName(r.publicKey) }));
    for (const isMatch of [
      (n: string) => n === name,
      (n: string) => n.toLowerCase() === name.toLowerCase(),
    ]) {
      const found = named.filter((r) => r.name !== undefined && isMatch(r.name));
      if (found.length > 1) {
        throw new DhtchatError(
          ChatStoreErrorCode.unknownFriend,
          `${found.length} requests are from someone named "${name}": use their friend code`,
        );
      }
      if (found[0] !== undefined) return found[0].peer;
    }
    return undefined;
  }

  onRequestSession(peer: Buffer, session: ChatSession): void {
    const outgoing = this.#store.requests.get(peer, 'outgoing');
    const isOurRequest =
      outgoing?.state === 'pending' && this.#store.contacts.get(peer)?.state === 'pending-outgoing';
    let timer = this.#clock.setTimer(isOurRequest ? REQUEST_SESSION_MS : REQUEST_FRAME_DEADLINE_MS, () =>
      session.close(SessionCloseCode.timeout),
    );
    if (isOurRequest) {
      session.send({
        type: 'request',
        name: this.#ownName(),
        message: truncate(outgoing.message, 1024),
        stamp: this.#stampFor(peer),
      });
      this.#store.requests.noteOutgoingAttempt(peer);
      // Where the recipient was reached: after a restart we can dial it again without the beacon (not a relay's
      // address: that is nobody's endpoint).
      if (session.path !== 'relayed')
        this.#store.contacts.noteEndpoint(peer, session.remoteAddress, 'request');
    }
    let isAnswered = false;
    session.admit({
      onFrame: (frame) => {
        // One frame each way: anything after it (during the ack's linger) ends the session.
        if (isAnswered) {
          session.close(SessionCloseCode.badFrame);
          return;
        }
        isAnswered = true;
        const ack = this.#onFrame(peer, session, frame);
        timer.cancel();
        if (
          ack === undefined ||
          !session.send({ type: 'request-ack', status: ack, stampBits: this.stamps.bits })
        ) {
          session.close(SessionCloseCode.local);
          return;
        }
        // The requester closes when the ack arrives; closing first could cut the ack off.
        timer = this.#clock.setTimer(ACK_LINGER_MS, () => session.close(SessionCloseCode.local));
      },
      onClose: () => timer.cancel(),
    });
  }

  /** A friend's session carried a request: they have not seen our acceptance. Say hello so they learn it. */
  answerFriendRequest(session: ChatSession): void {
    session.send({ type: 'hello', version: 1 });
  }

  /** Handles a request session's one frame; returns the ack to send, if any (the session closes either way). */
  #onFrame(peer: Buffer, session: ChatSession, frame: ChatFrame): RequestAckStatus | undefined {
    try {
      switch (frame.type) {
        case 'request':
          return this.#receiveRequest(peer, session, frame);
        case 'request-ack':
          this.#onAck(peer, frame.status, frame.stampBits, session.path === 'relayed');
          return undefined;
        case 'hello':
          // Hello on a request session means "we are friends already": they accepted us earlier.
          if (this.#store.contacts.get(peer)?.state === 'pending-outgoing') this.#markAccepted(peer);
          return undefined;
        default:
          this.#logger.debug({ frame: frame.type }, 'frame refused on a request session');
          return undefined;
      }
    } catch (error) {
      this.#logger.warn({ error: String(error) }, 'friend request handling failed');
      return undefined;
    }
  }

  #receiveRequest(
    peer: Buffer,
    session: ChatSession,
    frame: Extract<ChatFrame, { type: 'request' }>,
  ): RequestAckStatus | undefined {
    const contact = this.#store.contacts.get(peer);
    if (contact?.state === 'pending-outgoing') {
      this.#markAccepted(peer); // both added each other
      return undefined;
    }
    if (contact !== undefined && contact.state !== 'pending-incoming') return undefined;
    const hasContact = contact !== undefined;
    if (this.#store.requests.get(peer, 'incoming')?.state === 'pending') {
      // Pending already: it paid when it came; a re-send is written now and then, and acknowledged always.
      if (this.budget.takeRepeatWrite(peer)) this.#storeRequest(peer, session, frame, hasContact);
      return 'received';
    }
    // A new request (a pending-incoming contact without one is a removed contact whose conversation was kept).
    const parties = { recipientPk: this.#ownPublicKey, requesterPk: peer };
    const check = checkStamp(parties, frame.stamp, this.#clock.wallMs(), this.stamps.bits);
    if (check !== 'valid') {
      this.#logger.debug({ peer: hex8(peer), check }, 'friend request without a valid stamp dropped');
      return 'stamp-refused';
    }
    // Over a relay the source is the relay's address: relayed requests share its network's ration (a fallback,
    // rarely used; the request's stamp and the overall ration still bound each).
    const refusal = this.budget.takeNewKeySlot(session.remoteAddress);
    if (refusal !== undefined) {
      this.#logger.debug({ peer: hex8(peer), limit: refusal }, 'friend request over the limit dropped');
      return undefined;
    }
    for (const key of this.budget.makeRoom()) this.#store.kv.delete(NAME_KV_PREFIX + key.toString('hex'));
    this.budget.takeRepeatWrite(peer); // the first write counts among the key's writes for the hour
    if (!this.#storeRequest(peer, session, frame, hasContact)) return undefined;
    this.#events.onRequest(peer, session.remoteAddress);
    return 'received';
  }

  /** Stores (or refreshes) a request; false when the key turned out to be declined. */
  #storeRequest(
    peer: Buffer,
    session: ChatSession,
    frame: Extract<ChatFrame, { type: 'request' }>,
    hasContact: boolean,
  ): boolean {
    return this.#store.transaction(() => {
      const result = this.#store.requests.receiveIncoming(peer, frame.message);
      if (result.isDeclined) return false;
      if (!hasContact) this.#store.contacts.upsert(peer, 'pending-incoming');
      if (session.path !== 'relayed')
        this.#store.contacts.noteEndpoint(peer, session.remoteAddress, 'request');
      this.#store.kv.set(NAME_KV_PREFIX + peer.toString('hex'), Buffer.from(frame.name, 'utf8'));
      return true;
    });
  }

  #onAck(peer: Buffer, status: RequestAckStatus, stampBits: number, isRelayed: boolean): void {
    if (this.outgoingStatus(peer) === undefined) return;
    const key = RECEIVED_KV_PREFIX + peer.toString('hex');
    if (status === 'stamp-refused') {
      // They forgot us (a pruned request) or our stamp was stale: solve a fresh one and ask again.
      this.#store.kv.delete(key);
      if (stampBits > this.stamps.bits) {
        this.#logger.warn(
          { peer: hex8(peer), stampBits },
          'the recipient asks for more stamp work than we do',
        );
      }
      this.stamps.prepare(peer);
      return;
    }
    if (this.#store.kv.get(key) !== undefined) return;
    const at = Buffer.alloc(8);
    at.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.#clock.wallMs()))));
    this.#store.kv.set(key, at);
    this.stamps.forget(peer);
    this.#events.onRequestReceived(peer, isRelayed);
  }

  /**
   * Our stamp for `peer`; when none is ready, a blank one (hour 0: never current, so never valid by chance) that
   * a recipient who still has our request ignores and one who does not answers with `stamp-refused`.
   */
  #stampFor(peer: Buffer): RequestStamp {
    return this.stamps.get(peer) ?? { hour: 0, nonces: Buffer.alloc(STAMP_NONCES_BYTES) };
  }

  #markAccepted(peer: Buffer): void {
    this.#store.transaction(() => {
      this.#store.contacts.setState(peer, 'accepted');
      if (this.#store.requests.get(peer, 'outgoing') !== undefined) {
        this.#store.requests.setState(peer, 'outgoing', 'accepted');
      }
      if (this.#store.requests.get(peer, 'incoming') !== undefined) {
        this.#store.requests.setState(peer, 'incoming', 'accepted');
      }
      this.#store.kv.delete(RECEIVED_KV_PREFIX + peer.toString('hex'));
    });
    this.stamps.forget(peer);
    this.#events.onAccepted(peer);
  }
}

function hex8(peer: Buffer): string {
  return peer.toString('hex').slice(0, 8);
}

function truncate(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return new TextDecoder().decode(bytes.subarray(0, maxBytes)).replace(/\uFFFD+$/, '');
}
