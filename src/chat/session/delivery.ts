/**
 * Delivery over sessions. Every outgoing message is in the store (state `queued`) before any byte is sent; it is
 * sent when a session is up, again on every new session and every retransmitMs while unacknowledged, and moves
 * to `delivered` on the friend's ack and to `read` on their read receipt. Incoming messages are deduplicated by
 * id in the store and acknowledged only after the commit, so a crash between receipt and ack makes the friend
 * resend, never lose. What one received chunk carries is committed in one transaction (one fsync, one ack). Receipts are checked against the conversation: a friend can only ack our messages to them.
 * Profiles: our name goes out once the friend's hello shows it knows the profile frame, and again when it changes.
 */
import type { Clock, Logger, Timer } from '../../runtime/index.ts';
import type { ChatStore } from '../store/chat-store.ts';
import type { MessageState } from '../store/message-state.ts';
import type { StoredMessage } from '../store/messages.ts';
import { TypingTracker } from '../typing-tracker.ts';
import {
  CHAT_PROTOCOL_VERSION,
  type ChatFrame,
  FORWARD_FRAME_VERSION,
  MAX_IDS_PER_FRAME,
  PROFILE_FRAME_VERSION,
} from './frames.ts';
import type { ChatSession, SessionHandlers } from './session.ts';

type MessageFrame = Extract<ChatFrame, { type: 'message' }>;
interface Batch {
  messages: MessageFrame[];
  receipts: { id: Buffer; state: MessageState }[];
}

export interface DeliveryEvents {
  onMessage(peer: Buffer, message: StoredMessage): void;
  onState(peer: Buffer, message: StoredMessage): void;
  onTyping(peer: Buffer, isTyping: boolean): void;
  /** A friend's session carried a friend request: they think we have not accepted yet. */
  onFriendRequestFrame(peer: Buffer, session: ChatSession): void;
  /** The friend told us the name they give themself (remote input: the owner validates it). */
  onProfile(peer: Buffer, name: string): void;
  /** The friend's hello: which protocol version its side of this session speaks. */
  onHello?(peer: Buffer, session: ChatSession, version: number): void;
  /** A file-offer or file-state frame (src/chat/files/file-transfers.ts). */
  onFileFrame?(peer: Buffer, session: ChatSession, frame: ChatFrame): void;
  /** A friend asks us to pass a punch note on (punch-forwarding.ts decides). */
  onPunchForward?(peer: Buffer, tag: Buffer, note: Buffer): void;
  /** A friend passes on a punch note from another friend of ours. */
  onPunchRelayed?(peer: Buffer, from: Buffer, note: Buffer): void;
}

export const DEFAULT_RETRANSMIT_MS = 10_000;
/** Read receipts re-sent on each new session (the latest this many incoming messages are looked at). */
const RECEIPT_LOOKBACK = 200;
const OUTBOX_BATCH = 500;

export class Delivery {
  readonly #store: ChatStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #events: DeliveryEvents;
  readonly #retransmitMs: number;
  readonly #sessionOf: (peer: Buffer) => ChatSession | undefined;
  readonly #timers = new Map<ChatSession, Timer>();
  /** Friends' typing as the user sees it: on from their frame until they stop, send, leave or go quiet. */
  readonly #typing: TypingTracker;
  readonly #ownName: () => string | undefined;
  /** Sessions whose peer said (hello) it knows the profile frame. */
  readonly #takesProfile = new WeakSet<ChatSession>();
  /** Sessions whose peer said (hello) it knows the punch forwarding frames. */
  readonly #takesForward = new WeakSet<ChatSession>();

  constructor(opts: {
    store: ChatStore;
    clock: Clock;
    logger: Logger;
    events: DeliveryEvents;
    sessionOf: (peer: Buffer) => ChatSession | undefined;
    retransmitMs?: number;
    /** Our profile name, sent to friends (none: nothing is sent). */
    ownName?: () => string | undefined;
  }) {
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
    this.#events = opts.events;
    this.#sessionOf = opts.sessionOf;
    this.#retransmitMs = opts.retransmitMs ?? DEFAULT_RETRANSMIT_MS;
    this.#typing = new TypingTracker(opts.clock, (peer, isTyping) => opts.events.onTyping(peer, isTyping));
    this.#ownName = opts.ownName ?? (() => undefined);
  }

  /** A friend's session is up: flush the outbox and our read receipts; returns the frame handlers. */
  attach(peer: Buffer, session: ChatSession): Pick<SessionHandlers, 'onFrame' | 'onBatchEnd'> {
    session.send({ type: 'hello', version: CHAT_PROTOCOL_VERSION });
    this.#flush(peer, session, true);
    const read = this.#store.messages
      .list(peer, { limit: RECEIPT_LOOKBACK })
      .filter((m) => m.direction === 'incoming' && m.state === 'read')
      .map((m) => m.id);
    this.#sendIds(session, 'read', read);
    this.#armRetransmit(peer, session);
    const batch: Batch = { messages: [], receipts: [] };
    return {
      onFrame: (frame) => this.#onFrame(peer, session, frame, batch),
      onBatchEnd: () => this.#commit(peer, session, batch),
    };
  }

  close(): void {
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
    this.#typing.close();
  }

  /** The friend's sessions are gone (presence away or offline): they are not typing any more. */
  friendAway(peer: Buffer): void {
    this.#typing.stop(peer);
  }

  /** Sends a punch forwarding frame if the friend's session is up and takes it (hello ≥ 4); true when sent. */
  sendPunchFrame(peer: Buffer, frame: Extract<ChatFrame, { type: 'forward' | 'relayed' }>): boolean {
    const session = this.#sessionOf(peer);
    if (session === undefined || !this.#takesForward.has(session)) return false;
    return session.send(frame);
  }

  /** Queues (commits) then sends if a session is up. */
  send(peer: Buffer, text: string): StoredMessage {
    const session = this.#sessionOf(peer);
    // One commit: the message (queued) and, when a session is up, its first attempt; sent after the commit.
    const message = this.#store.transaction(() => {
      const queued = this.#store.messages.enqueue(peer, text);
      if (session !== undefined) this.#store.messages.noteAttempt(queued.id);
      return queued;
    });
    if (session !== undefined) this.#sendMessage(session, message);
    return message;
  }

  markRead(peer: Buffer): Buffer[] {
    const ids = this.#store.messages.markIncomingRead(peer);
    const session = this.#sessionOf(peer);
    if (session !== undefined) this.#sendIds(session, 'read', ids);
    return ids;
  }

  /** Sends the frame if a session is up; false when there is none (typing is not kept for later). */
  setTyping(peer: Buffer, isTyping: boolean): boolean {
    return this.#sessionOf(peer)?.send({ type: 'typing', isTyping }) === true;
  }

  /** Sends our profile name to the friend, if a session is up and their side knows the frame. */
  sendProfile(peer: Buffer): void {
    const session = this.#sessionOf(peer);
    if (session !== undefined) this.#sendProfileOn(session);
  }

  #sendProfileOn(session: ChatSession): void {
    const name = this.#ownName();
    if (name !== undefined && this.#takesProfile.has(session)) session.send({ type: 'profile', name });
  }

  #flush(peer: Buffer, session: ChatSession, isAll: boolean): void {
    const cutoff = this.#clock.now() - this.#retransmitMs;
    const sent: Buffer[] = [];
    for (const message of this.#store.messages.outbox(peer, OUTBOX_BATCH)) {
      if (!isAll && (message.lastAttemptMs ?? 0) > cutoff) continue;
      if (!this.#sendMessage(session, message)) break;
      sent.push(message.id);
    }
    if (sent.length > 0) {
      this.#store.transaction(() => {
        for (const id of sent) this.#store.messages.noteAttempt(id);
      });
    }
  }

  #sendMessage(session: ChatSession, message: StoredMessage): boolean {
    return session.send({
      type: 'message',
      id: message.id,
      createdMs: message.createdMs,
      senderSeq: message.seq,
      text: message.text,
    });
  }

  #armRetransmit(peer: Buffer, session: ChatSession): void {
    const timer = this.#clock.setTimer(this.#retransmitMs, () => {
      this.#timers.delete(session);
      if (!session.isOpen) return;
      try {
        this.#flush(peer, session, false);
      } catch (error) {
        this.#logger.warn({ error: String(error) }, 'chat retransmit failed');
      }
      this.#armRetransmit(peer, session);
    });
    this.#timers.set(session, timer);
  }

  /** Messages and receipts are collected and committed per received chunk (one transaction, one ack frame). */
  #onFrame(peer: Buffer, session: ChatSession, frame: ChatFrame, batch: Batch): void {
    switch (frame.type) {
      case 'message':
        batch.messages.push(frame);
        if (batch.messages.length >= MAX_IDS_PER_FRAME) this.#commit(peer, session, batch);
        return;
      case 'ack':
      case 'read':
        for (const id of frame.ids)
          batch.receipts.push({ id, state: frame.type === 'ack' ? 'delivered' : 'read' });
        if (batch.receipts.length >= 4 * MAX_IDS_PER_FRAME) this.#commit(peer, session, batch);
        return;
      case 'typing':
        this.#commit(peer, session, batch);
        this.#typing.onFrame(peer, frame.isTyping);
        return;
      case 'request':
        this.#commit(peer, session, batch);
        this.#events.onFriendRequestFrame(peer, session);
        return;
      case 'hello':
        if (frame.version >= FORWARD_FRAME_VERSION) this.#takesForward.add(session);
        if (frame.version >= PROFILE_FRAME_VERSION && !this.#takesProfile.has(session)) {
          this.#takesProfile.add(session);
          this.#sendProfileOn(session);
        }
        this.#events.onHello?.(peer, session, frame.version);
        return;
      case 'file-offer':
      case 'file-state':
        this.#commit(peer, session, batch);
        this.#events.onFileFrame?.(peer, session, frame);
        return;
      case 'profile':
        this.#events.onProfile(peer, frame.name);
        return;
      case 'forward':
        this.#events.onPunchForward?.(peer, frame.tag, frame.note);
        return;
      case 'relayed':
        this.#events.onPunchRelayed?.(peer, frame.from, frame.note);
        return;
      default:
        return;
    }
  }

  #commit(peer: Buffer, session: ChatSession, batch: Batch): void {
    const messages = batch.messages.splice(0);
    const receipts = batch.receipts.splice(0);
    try {
      if (messages.length > 0) {
        const results = this.#store.messages.receiveMany(
          messages.map((m) => ({
            id: m.id,
            conversation: peer,
            text: m.text,
            createdMs: m.createdMs,
            senderSeq: m.senderSeq,
            via: 'session' as const,
          })),
        );
        // Ack after the commit above, duplicates included (our earlier ack may have been lost).
        this.#sendIds(
          session,
          'ack',
          messages.map((m) => m.id),
        );
        if (results.some((r) => r.isNew)) this.#typing.stop(peer);
        for (const r of results) if (r.isNew) this.#events.onMessage(peer, r.message);
      }
      if (receipts.length > 0) {
        const changed = this.#store.transaction(() =>
          receipts.flatMap((r) => this.#advance(peer, r.id, r.state)),
        );
        for (const message of changed) this.#events.onState(peer, message);
      }
    } catch (error) {
      // Local failure (the store): nothing is acked, so the friend sends it again later.
      this.#logger.warn({ error: String(error) }, 'chat frame handling failed');
    }
  }

  /** Moves our message to a friend forward; a receipt for anything else (not ours, not to them) is ignored. */
  #advance(peer: Buffer, id: Buffer, state: MessageState): StoredMessage[] {
    const current = this.#store.messages.get(id);
    if (current === undefined || current.direction !== 'outgoing' || !current.conversation.equals(peer))
      return [];
    const { isChanged, message } = this.#store.messages.advance(id, state);
    return isChanged ? [message] : [];
  }

  #sendIds(session: ChatSession, type: 'ack' | 'read', ids: readonly Buffer[]): void {
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_FRAME) {
      session.send({ type, ids: ids.slice(i, i + MAX_IDS_PER_FRAME) });
    }
  }
}
