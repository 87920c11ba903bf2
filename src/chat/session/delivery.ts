/**
 * Delivery over sessions. Every outgoing message is in the store (state `queued`) before any byte is sent; it is
 * sent when a session is up, again on every new session and every retransmitMs while unacknowledged, and moves
 * to `delivered` on the friend's ack and to `read` on their read receipt. Incoming messages are deduplicated by
 * id in the store and acknowledged only after the commit, so a crash between receipt and ack makes the friend
 * resend, never lose. Receipts are checked against the conversation: a friend can only ack our messages to them.
 *
 * Group commit (store/group-commit.ts): what arrives in one event-loop turn — sends, messages and receipts read
 * from every session — is written in one transaction, one fsync. A `send` resolves after that commit (the
 * message survives kill -9 and power loss from then on) and only then goes out; received messages are acked
 * after it, all of a turn's ids in as few ack frames as fit (64 ids each). A group of nothing but a friend's
 * receipts is not fsync'd: it survives kill -9, and what a power cut takes comes again (the message is still
 * queued, so it is resent, deduped and acked again; read receipts are repeated on every new session). A typing,
 * request or file frame first commits what arrived before it, so nothing is reported out of order.
 *
 * Profiles: our name goes out once the friend's hello shows it knows the profile frame, and again when it changes.
 */
import { atTurnEnd, type Clock, type DeferToTurnEnd, type Logger, type Timer } from '../../runtime/index.ts';
import type { ChatStore } from '../store/chat-store.ts';
import { GroupCommit } from '../store/group-commit.ts';
import type { MessageState } from '../store/message-state.ts';
import type { ReceiveResult, StoredMessage } from '../store/messages.ts';
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
type Receipt = { id: Buffer; state: MessageState };
/** What one session delivered since its last commit, and whether a job in the next group will write it. */
interface Inbox {
  readonly peer: Buffer;
  readonly session: ChatSession;
  messages: MessageFrame[];
  receipts: Receipt[];
  hasMessagesJob: boolean;
  hasReceiptsJob: boolean;
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
/** A session's messages (or receipts) waiting for the group commit: past this many, the group commits at once. */
const MAX_INBOX_ITEMS = 4 * MAX_IDS_PER_FRAME;

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
  readonly #group: GroupCommit;
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
    /** Where a group commit waits for the rest of its turn (tests run it by hand). */
    defer?: DeferToTurnEnd;
    /** Jobs (sends, sessions' inboxes) in one group commit at most. */
    maxGroupJobs?: number;
  }) {
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
    this.#events = opts.events;
    this.#sessionOf = opts.sessionOf;
    this.#retransmitMs = opts.retransmitMs ?? DEFAULT_RETRANSMIT_MS;
    this.#typing = new TypingTracker(opts.clock, (peer, isTyping) => opts.events.onTyping(peer, isTyping));
    this.#ownName = opts.ownName ?? (() => undefined);
    this.#group = new GroupCommit({
      transaction: (fn, durability) => opts.store.transaction(fn, durability),
      defer: opts.defer ?? atTurnEnd,
      ...(opts.maxGroupJobs === undefined ? {} : { maxJobs: opts.maxGroupJobs }),
      onCallbackError: (error) =>
        this.#logger.warn({ error: String(error) }, 'chat delivery callback failed'),
    });
  }

  /** Group commits so far and the jobs they held (sends and inboxes per fsync), for benchmarks and logs. */
  get groupStats(): { groups: number; jobs: number } {
    return this.#group.stats;
  }

  /** A friend's session is up: flush the outbox and our read receipts; returns the frame handlers. */
  attach(peer: Buffer, session: ChatSession): Pick<SessionHandlers, 'onFrame'> {
    session.send({ type: 'hello', version: CHAT_PROTOCOL_VERSION });
    this.#flush(peer, session, true);
    const read = this.#store.messages
      .list(peer, { limit: RECEIPT_LOOKBACK })
      .filter((m) => m.direction === 'incoming' && m.state === 'read')
      .map((m) => m.id);
    this.#sendIds(session, 'read', read);
    this.#armRetransmit(peer, session);
    const inbox: Inbox = {
      peer,
      session,
      messages: [],
      receipts: [],
      hasMessagesJob: false,
      hasReceiptsJob: false,
    };
    return { onFrame: (frame) => this.#onFrame(inbox, frame) };
  }

  /** Commits what is waiting (sends keep their promises: answered now), then stops the timers. */
  close(): void {
    this.#group.close();
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

  /**
   * Queues a message: written (state `queued`) in the next group commit; resolves after that commit, so the
   * message survives kill -9 and power loss once this resolved. Sent right after the commit if a session is up
   * then (its first attempt is counted in the same commit). Rejects, alone in its group, on a store error.
   */
  send(peer: Buffer, text: string): Promise<StoredMessage> {
    return new Promise((resolve, reject) => {
      let message: StoredMessage | undefined;
      let session: ChatSession | undefined;
      this.#group.add({
        write: () => {
          session = this.#sessionOf(peer);
          message = this.#store.messages.enqueue(peer, text);
          if (session !== undefined) this.#store.messages.noteAttempt(message.id);
        },
        committed: () => {
          const queued = message as StoredMessage;
          resolve(queued);
          if (session !== undefined) this.#sendMessage(session, queued);
        },
        failed: reject,
      });
    });
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
    // Wall time: lastAttemptMs is a stored row's time (it may be from before a restart).
    const cutoff = this.#clock.wallMs() - this.#retransmitMs;
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

  /** Messages and receipts wait in the session's inbox for the group commit (one transaction, then the acks). */
  #onFrame(inbox: Inbox, frame: ChatFrame): void {
    const { peer, session } = inbox;
    switch (frame.type) {
      case 'message':
        inbox.messages.push(frame);
        if (!inbox.hasMessagesJob) this.#addMessagesJob(inbox);
        if (inbox.messages.length >= MAX_INBOX_ITEMS) this.#group.flush();
        return;
      case 'ack':
      case 'read':
        for (const id of frame.ids)
          inbox.receipts.push({ id, state: frame.type === 'ack' ? 'delivered' : 'read' });
        if (!inbox.hasReceiptsJob) this.#addReceiptsJob(inbox);
        if (inbox.receipts.length >= MAX_INBOX_ITEMS) this.#group.flush();
        return;
      case 'typing':
        this.#group.flush();
        this.#typing.onFrame(peer, frame.isTyping);
        return;
      case 'request':
        this.#group.flush();
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
        this.#group.flush();
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

  /** Stores the inbox's messages (dedupe by id), then acks every one of them, duplicates included. */
  #addMessagesJob(inbox: Inbox): void {
    inbox.hasMessagesJob = true;
    let frames: MessageFrame[] = [];
    let results: ReceiveResult[] = [];
    this.#group.add({
      write: () => {
        inbox.hasMessagesJob = false;
        frames = inbox.messages.splice(0);
        results = this.#store.messages.receiveMany(
          frames.map((m) => ({
            id: m.id,
            conversation: inbox.peer,
            text: m.text,
            createdMs: m.createdMs,
            senderSeq: m.senderSeq,
            via: 'session' as const,
          })),
        );
      },
      committed: () => {
        // Duplicates are acked too: our earlier ack may have been lost.
        this.#sendIds(
          inbox.session,
          'ack',
          frames.map((m) => m.id),
        );
        if (results.some((r) => r.isNew)) this.#typing.stop(inbox.peer);
        for (const r of results) if (r.isNew) this.#events.onMessage(inbox.peer, r.message);
      },
      // Local failure (the store): nothing is acked, so the friend sends them again later.
      failed: (error) => this.#logger.warn({ error: String(error) }, 'chat frame handling failed'),
    });
  }

  /** Moves our messages forward on the friend's acks and read receipts. */
  #addReceiptsJob(inbox: Inbox): void {
    inbox.hasReceiptsJob = true;
    let changed: StoredMessage[] = [];
    this.#group.add({
      // Lost in a power cut, a receipt comes again: an ack because the message is still queued (resent, deduped,
      // acked again), a read receipt because the friend repeats its latest ones on every new session.
      durability: 'process-crash',
      write: () => {
        inbox.hasReceiptsJob = false;
        // A receipt for anything but our message to them is ignored (a friend can only ack what we sent them).
        changed = inbox.receipts.splice(0).flatMap((r) => {
          const message = this.#store.messages.advanceOutgoing(inbox.peer, r.id, r.state);
          return message === undefined ? [] : [message];
        });
      },
      committed: () => {
        for (const message of changed) this.#events.onState(inbox.peer, message);
      },
      failed: (error) => this.#logger.warn({ error: String(error) }, 'chat receipt handling failed'),
    });
  }

  #sendIds(session: ChatSession, type: 'ack' | 'read', ids: readonly Buffer[]): void {
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_FRAME) {
      session.send({ type, ids: ids.slice(i, i + MAX_IDS_PER_FRAME) });
    }
  }
}
