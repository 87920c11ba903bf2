/**
 * Who may talk to us, and friend requests over sessions.
 *
 * Admission of an authenticated peer: an accepted contact is a friend; a blocked or declined one is refused;
 * a peer we sent a request to is a friend once they dial us with IK (only someone who accepted us does that),
 * otherwise a request session (we send our request). A stranger is refused over IK — before any frame of theirs
 * is looked at — and over XX may send exactly one frame: a friend request, rate-limited (per key and overall,
 * persisted so a restart does not reset it). A request from someone we asked too is a mutual add: accepted.
 * A request session lives at most REQUEST_SESSION_MS.
 */
import type { SecurePattern } from '../../net/index.ts';
import { type Clock, DhtchatError, type Logger } from '../../runtime/index.ts';
import type { ChatStore } from '../store/chat-store.ts';
import { ChatStoreErrorCode } from '../store/store-errors.ts';
import type { ChatFrame } from './frames.ts';
import type { ChatSession } from './session.ts';
import { SessionCloseCode } from './session.ts';
import type { Admission } from './session-manager.ts';
import { codeOf, type RequestView } from './views.ts';

export const REQUEST_SESSION_MS = 30_000;
export const REQUEST_RATE = {
  windowMs: 60 * 60_000,
  maxPerKey: 5,
  maxOverall: 60,
} as const;
const NAME_KV_PREFIX = 'chat-session/request-name/';

export interface RequestExchangeEvents {
  /** A new friend request to show the user. */
  onRequest(peer: Buffer): void;
  /** A contact became accepted without the user's action (mutual add, or they accepted ours). */
  onAccepted(peer: Buffer): void;
}

export class RequestExchange {
  readonly #store: ChatStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #events: RequestExchangeEvents;
  readonly #ownName: () => string;

  constructor(opts: {
    store: ChatStore;
    clock: Clock;
    logger: Logger;
    events: RequestExchangeEvents;
    ownName?: () => string;
  }) {
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
    this.#events = opts.events;
    this.#ownName = opts.ownName ?? (() => '');
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

  dialMode(peer: Buffer): 'IK' | 'XX' | undefined {
    const state = this.#store.contacts.get(peer)?.state;
    if (state === 'accepted') return 'IK';
    if (state === 'pending-outgoing') return 'XX';
    return undefined;
  }

  /** The suggested name a requester sent with its request, if any. */
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

  /** Forgets the name a (now removed) requester suggested. */
  forget(peer: Buffer): void {
    this.#store.kv.delete(NAME_KV_PREFIX + peer.toString('hex'));
  }

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
    const timer = this.#clock.setTimer(REQUEST_SESSION_MS, () => session.close());
    const outgoing = this.#store.requests.get(peer, 'outgoing');
    if (outgoing?.state === 'pending' && this.#store.contacts.get(peer)?.state === 'pending-outgoing') {
      session.send({ type: 'request', name: this.#ownName(), message: truncate(outgoing.message, 1024) });
      this.#store.requests.noteOutgoingAttempt(peer);
      // Where the recipient was reached: after a restart we can dial it again without the beacon.
      this.#store.contacts.noteEndpoint(peer, session.remoteAddress, 'request');
    }
    session.admit({
      onFrame: (frame) => this.#onFrame(peer, session, frame),
      onClose: () => timer.cancel(),
    });
  }

  /** A friend's session carried a request: they have not seen our acceptance. Say hello so they learn it. */
  answerFriendRequest(session: ChatSession): void {
    session.send({ type: 'hello', version: 1 });
  }

  #onFrame(peer: Buffer, session: ChatSession, frame: ChatFrame): void {
    try {
      if (frame.type === 'request') {
        this.#receiveRequest(peer, session, frame.name, frame.message);
      } else if (frame.type === 'hello' && this.#store.contacts.get(peer)?.state === 'pending-outgoing') {
        // Hello on a request session means "we are friends already": they accepted us earlier.
        this.#markAccepted(peer);
      } else {
        this.#logger.debug({ frame: frame.type }, 'frame refused on a request session');
      }
    } catch (error) {
      this.#logger.warn({ error: String(error) }, 'friend request handling failed');
    }
    session.close(SessionCloseCode.local);
  }

  #receiveRequest(peer: Buffer, session: ChatSession, name: string, message: string): void {
    const contact = this.#store.contacts.get(peer);
    if (contact?.state === 'pending-outgoing') {
      this.#markAccepted(peer); // both added each other
      return;
    }
    if (contact !== undefined && contact.state !== 'pending-incoming') return;
    const requests = this.#store.requests;
    const hex = peer.toString('hex');
    const { windowMs, maxPerKey, maxOverall } = REQUEST_RATE;
    if (!requests.takeRateSlot(`incoming/${hex}`, windowMs, maxPerKey).isAllowed) return;
    if (!requests.takeRateSlot('incoming', windowMs, maxOverall).isAllowed) return;
    const result = requests.receiveIncoming(peer, message);
    if (result.isDeclined) return;
    this.#store.transaction(() => {
      if (contact === undefined) this.#store.contacts.upsert(peer, 'pending-incoming');
      this.#store.contacts.noteEndpoint(peer, session.remoteAddress, 'request');
      this.#store.kv.set(NAME_KV_PREFIX + hex, Buffer.from(name, 'utf8'));
    });
    if (result.isNew) this.#events.onRequest(peer);
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
    });
    this.#events.onAccepted(peer);
  }
}

function truncate(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return new TextDecoder().decode(bytes.subarray(0, maxBytes)).replace(/\uFFFD+$/, '');
}
