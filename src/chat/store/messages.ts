/**
 * Messages: the outbox and the conversation history in one table. An outgoing message is written here (state
 * `queued`) before anything is sent; an incoming one is inserted-or-ignored by its 16-byte id, which is what
 * makes retransmission safe. Each conversation has its own sequence (`seq`, 1, 2, ...) assigned at insert: the
 * display order, and for outgoing messages the number the friend sees as `senderSeq`.
 */
import { DhtchatError } from '../../runtime/index.ts';
import { MESSAGE_ID_BYTES } from '../labels.ts';
import { canAdvance, checkMessageText, type MessageState } from './message-state.ts';
import type { SqlRow, Statement } from './sqlite.ts';
import { checkPublicKey, optionalNumber, type StoreContext } from './store-context.ts';
import { badArgument, ChatStoreErrorCode } from './store-errors.ts';
import { unknownFriend } from './contacts.ts';

export const MessageDirection = { outgoing: 'outgoing', incoming: 'incoming' } as const;
export type MessageDirection = (typeof MessageDirection)[keyof typeof MessageDirection];

/** How an incoming message reached us. */
export const MessageVia = { session: 'session', offline: 'offline' } as const;
export type MessageVia = (typeof MessageVia)[keyof typeof MessageVia];

export interface StoredMessage {
  readonly id: Buffer;
  readonly conversation: Buffer;
  readonly seq: number;
  /** The sender's own sequence number (incoming only, when the protocol carries it). */
  readonly senderSeq: number | undefined;
  readonly direction: MessageDirection;
  readonly sender: Buffer;
  readonly text: string;
  readonly state: MessageState;
  readonly via: MessageVia | undefined;
  /** When the author wrote it (for incoming: as the sender claims). */
  readonly createdMs: number;
  readonly receivedMs: number | undefined;
  readonly sentMs: number | undefined;
  readonly storedMs: number | undefined;
  readonly deliveredMs: number | undefined;
  readonly readMs: number | undefined;
  readonly attempts: number;
  readonly lastAttemptMs: number | undefined;
}

export interface IncomingMessage {
  readonly id: Uint8Array;
  readonly conversation: Uint8Array;
  readonly text: string;
  readonly createdMs: number;
  readonly senderSeq?: number;
  readonly via: MessageVia;
}

export interface ReceiveResult {
  /** False when a message with this id was already stored (a retransmission): nothing was written. */
  readonly isNew: boolean;
  readonly message: StoredMessage;
}

/** One entry of the CLI `messages` contract: [{"id","from","text","ts","state"}]. */
export interface MessageListing {
  readonly id: string;
  readonly from: string;
  readonly text: string;
  readonly ts: number;
  readonly state: MessageState;
}

const EMPTY_TIMES = {
  senderSeq: undefined,
  via: undefined,
  receivedMs: undefined,
  sentMs: undefined,
  storedMs: undefined,
  deliveredMs: undefined,
  readMs: undefined,
  attempts: 0,
  lastAttemptMs: undefined,
} as const;

const STATE_TIME_COLUMN: Record<MessageState, string | undefined> = {
  queued: undefined,
  stored: 'stored_ms',
  delivered: 'delivered_ms',
  read: 'read_ms',
};

export class Messages {
  readonly #ctx: StoreContext;
  readonly #byId: Statement;
  readonly #contactExists: Statement;
  readonly #nextSeq: Statement;
  readonly #insert: Statement;
  readonly #outboxAll: Statement;
  readonly #outboxOne: Statement;
  readonly #noteAttempt: Statement;
  /** One UPDATE per target state (which time columns it stamps), prepared once: receipts come by the thousand. */
  readonly #advanceTo: Record<MessageState, Statement>;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    const db = ctx.db;
    this.#byId = db.prepare('SELECT * FROM messages WHERE id = ?');
    this.#contactExists = db.prepare('SELECT 1 FROM contacts WHERE public_key = ?');
    this.#nextSeq = db.prepare(
      'SELECT coalesce(max(seq), 0) + 1 AS seq FROM messages WHERE conversation = ?',
    );
    this.#insert = db.prepare(
      `INSERT INTO messages (id, conversation, seq, sender_seq, direction, sender, text, state, via, created_ms,
         received_ms, delivered_ms)
       VALUES (@id, @conversation, @seq, @senderSeq, @direction, @sender, @text, @state, @via, @createdMs,
         @receivedMs, @deliveredMs)
       ON CONFLICT (id) DO NOTHING`,
    );
    // For search(): SQLite's lower() folds ASCII only.
    db.function('dhtchat_lower', { deterministic: true }, (text) =>
      typeof text === 'string' ? text.toLowerCase() : null,
    );
    const outbox = `SELECT * FROM messages WHERE direction = 'outgoing' AND state IN ('queued', 'stored')`;
    this.#outboxAll = db.prepare(`${outbox} ORDER BY conversation, seq LIMIT ?`);
    this.#outboxOne = db.prepare(`${outbox} AND conversation = ? ORDER BY seq LIMIT ?`);
    this.#noteAttempt = db.prepare(
      `UPDATE messages SET attempts = attempts + 1, last_attempt_ms = @now, sent_ms = coalesce(sent_ms, @now)
       WHERE id = @id`,
    );
    const advanceTo = (state: MessageState): Statement => {
      const sets = ['state = @state'];
      for (const s of stampedBy(state)) {
        const column = STATE_TIME_COLUMN[s];
        if (column !== undefined) sets.push(`${column} = coalesce(${column}, @now)`);
      }
      return db.prepare(`UPDATE messages SET ${sets.join(', ')} WHERE id = @id`);
    };
    this.#advanceTo = {
      queued: advanceTo('queued'),
      stored: advanceTo('stored'),
      delivered: advanceTo('delivered'),
      read: advanceTo('read'),
    };
  }

  /** A fresh random message id from the injected Random. */
  newId(): Buffer {
    return this.#ctx.random.bytes(MESSAGE_ID_BYTES);
  }

  /** Writes an outgoing message (state `queued`); returns after commit, so sending it afterwards is safe. */
  enqueue(conversation: Uint8Array, text: string, id: Uint8Array = this.newId()): StoredMessage {
    const peer = checkPublicKey(conversation, 'conversation key');
    const messageId = checkMessageId(id);
    checkMessageText(text);
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('queueing a message', () => {
      this.#assertContact(peer);
      const seq = this.#seqFor(peer);
      const result = this.#insert.run({
        id: messageId,
        conversation: peer,
        seq,
        senderSeq: null,
        direction: 'outgoing',
        sender: this.#ctx.ownPublicKey,
        text,
        state: 'queued',
        via: null,
        createdMs: now,
        receivedMs: null,
        deliveredMs: null,
      });
      if (result.changes === 0) throw badArgument(`message id ${messageId.toString('hex')} is already used`);
      // The row is exactly what was inserted: no need to read it back.
      return {
        ...EMPTY_TIMES,
        id: Buffer.from(messageId),
        conversation: Buffer.from(peer),
        seq,
        direction: 'outgoing',
        sender: this.#ctx.ownPublicKey,
        text,
        state: 'queued',
        createdMs: now,
      };
    });
  }

  /** Stores an incoming message unless its id is already known (dedupe); state `delivered`. */
  receive(message: IncomingMessage): ReceiveResult {
    const results = this.receiveMany([message]);
    return results[0] as ReceiveResult;
  }

  /**
   * Stores several incoming messages in one transaction, in the sender's order (by senderSeq when given), so a
   * batch fetched out of order from the DHT is listed in the order it was written. Results follow input order.
   */
  receiveMany(messages: readonly IncomingMessage[]): ReceiveResult[] {
    for (const m of messages) {
      checkMessageId(m.id);
      checkPublicKey(m.conversation, 'conversation key');
      checkMessageText(m.text);
    }
    const order = messages
      .map((m, index) => ({ m, index }))
      .sort((a, b) => (a.m.senderSeq ?? 0) - (b.m.senderSeq ?? 0) || a.index - b.index);
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('storing received messages', () => {
      const results: ReceiveResult[] = new Array(messages.length);
      /** Per conversation of this batch: the next seq (checked once, counted here: one writer, one transaction). */
      const nextSeq = new Map<string, number>();
      for (const { m, index } of order) {
        const id = Buffer.from(m.id);
        const peer = Buffer.from(m.conversation);
        const peerHex = peer.toString('hex');
        let seq = nextSeq.get(peerHex);
        if (seq === undefined) {
          this.#assertContact(peer);
          seq = this.#seqFor(peer);
        }
        const row = {
          id,
          conversation: peer,
          seq,
          senderSeq: m.senderSeq ?? null,
          direction: 'incoming',
          sender: peer,
          text: m.text,
          state: 'delivered',
          via: m.via,
          createdMs: m.createdMs,
          receivedMs: now,
          deliveredMs: now,
        } as const;
        // A known id is a retransmission (the insert does nothing): answered with what is stored.
        if (this.#insert.run(row).changes === 0) {
          nextSeq.set(peerHex, seq);
          results[index] = { isNew: false, message: this.#mustGet(id) };
          continue;
        }
        nextSeq.set(peerHex, seq + 1);
        results[index] = {
          isNew: true,
          message: { ...EMPTY_TIMES, ...row, senderSeq: m.senderSeq, receivedMs: now, deliveredMs: now },
        };
      }
      return results;
    });
  }

  get(id: Uint8Array): StoredMessage | undefined {
    const messageId = checkMessageId(id);
    return this.#ctx.read('reading a message', () => this.#get(messageId));
  }

  /**
   * Moves a message forward to `state` (see message-state.ts); backwards or sideways is a no-op that returns
   * isChanged false. A move to read also stamps delivered_ms when it was missing.
   * Throws CHAT_UNKNOWN_MESSAGE for an id we never stored.
   */
  advance(id: Uint8Array, state: MessageState): { isChanged: boolean; message: StoredMessage } {
    const messageId = checkMessageId(id);
    return this.#ctx.write('updating a message state', () => {
      const current = this.#get(messageId);
      if (current === undefined) throw unknownMessage(messageId);
      return this.#advanceFrom(current, state);
    });
  }

  /**
   * A friend's receipt (remote input): moves our message to that conversation forward. Undefined when the id is
   * not one of our messages to it, or the move is not forward (a duplicate or late receipt).
   */
  advanceOutgoing(conversation: Uint8Array, id: Uint8Array, state: MessageState): StoredMessage | undefined {
    const peer = checkPublicKey(conversation, 'conversation key');
    const messageId = checkMessageId(id);
    return this.#ctx.write('updating a message state', () => {
      const current = this.#get(messageId);
      if (current === undefined || current.direction !== 'outgoing' || !current.conversation.equals(peer))
        return undefined;
      const { isChanged, message } = this.#advanceFrom(current, state);
      return isChanged ? message : undefined;
    });
  }

  /** Inside a write: the update, and the row as it now is (built here, not read back). */
  #advanceFrom(current: StoredMessage, state: MessageState): { isChanged: boolean; message: StoredMessage } {
    if (!canAdvance(current.state, state)) return { isChanged: false, message: current };
    const now = this.#ctx.clock.wallMs();
    this.#advanceTo[state].run({ id: current.id, state, now });
    const stamped = stampedBy(state);
    const stamp = (s: MessageState, value: number | undefined): number | undefined =>
      stamped.includes(s) ? (value ?? now) : value;
    return {
      isChanged: true,
      message: {
        ...current,
        state,
        storedMs: stamp('stored', current.storedMs),
        deliveredMs: stamp('delivered', current.deliveredMs),
        readMs: stamp('read', current.readMs),
      },
    };
  }

  /** Marks every incoming message of the conversation up to seq (default: all) read; returns the ids changed. */
  markIncomingRead(conversation: Uint8Array, upToSeq: number = Number.MAX_SAFE_INTEGER): Buffer[] {
    const peer = checkPublicKey(conversation, 'conversation key');
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('marking messages read', () => {
      const rows = this.#ctx.db
        .prepare(
          `SELECT id FROM messages WHERE conversation = ? AND direction = 'incoming' AND state <> 'read' AND seq <= ?
           ORDER BY seq`,
        )
        .all(peer, upToSeq);
      const update = this.#ctx.db.prepare(`UPDATE messages SET state = 'read', read_ms = ? WHERE id = ?`);
      for (const row of rows) update.run(now, row['id']);
      return rows.map((row) => row['id'] as Buffer);
    });
  }

  /** Counts one transmission attempt (session send or DHT put); the first one sets sent_ms. */
  noteAttempt(id: Uint8Array): void {
    const messageId = checkMessageId(id);
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('counting a send attempt', () => {
      const result = this.#noteAttempt.run({ now, id: messageId });
      if (result.changes === 0) throw unknownMessage(messageId);
    });
  }

  /** Outgoing messages not yet delivered (`queued` or `stored`), oldest first per conversation. */
  outbox(conversation?: Uint8Array, limit = 1000): StoredMessage[] {
    return this.#ctx.read('reading the outbox', () => {
      const rows =
        conversation === undefined
          ? this.#outboxAll.all(limit)
          : this.#outboxOne.all(checkPublicKey(conversation, 'conversation key'), limit);
      return rows.map(toMessage);
    });
  }

  /**
   * The last `limit` messages of a conversation, oldest first; when paging back, only those before seq
   * `beforeSeq` and/or written before `beforeMs` (createdMs: the sender's clock for incoming messages).
   */
  list(
    conversation: Uint8Array,
    options: { limit?: number; beforeSeq?: number; beforeMs?: number } = {},
  ): StoredMessage[] {
    const peer = checkPublicKey(conversation, 'conversation key');
    const limit = options.limit ?? 100;
    const before = options.beforeSeq ?? Number.MAX_SAFE_INTEGER;
    const beforeMs = options.beforeMs ?? Number.MAX_SAFE_INTEGER;
    return this.#ctx.read('listing messages', () =>
      this.#ctx.db
        .prepare(
          `SELECT * FROM messages WHERE conversation = ? AND seq < ? AND created_ms < ?
           ORDER BY seq DESC LIMIT ?`,
        )
        .all(peer, before, beforeMs, limit)
        .reverse()
        .map(toMessage),
    );
  }

  /**
   * The newest `limit` messages (of one conversation, or all) whose text contains `query` ignoring case, oldest
   * first. Case is compared after the engine's toLowerCase on both sides (every script, not only ASCII as
   * SQLite's LIKE and lower() do), so the scan reads every message of the conversation: linear, bounded by the
   * history, never by the result. docs/BENCHMARKS.md has the cost per message.
   */
  search(query: string, options: { conversation?: Uint8Array; limit?: number } = {}): StoredMessage[] {
    const needle = query.toLowerCase();
    const peer =
      options.conversation === undefined ? null : checkPublicKey(options.conversation, 'conversation key');
    // One conversation walks its (conversation, seq) index backwards; all of them walk the table's rowids.
    const sql =
      peer === null
        ? `SELECT * FROM messages WHERE instr(dhtchat_lower(text), @needle) > 0 ORDER BY rowid DESC LIMIT @limit`
        : `SELECT * FROM messages WHERE conversation = @peer AND instr(dhtchat_lower(text), @needle) > 0
           ORDER BY seq DESC LIMIT @limit`;
    return this.#ctx.read('searching messages', () =>
      this.#ctx.db
        .prepare(sql)
        .all({ ...(peer === null ? {} : { peer }), needle, limit: options.limit ?? 100 })
        .reverse()
        .map(toMessage),
    );
  }

  /** The seq (display position) of a message of this conversation, if it is one of its messages. */
  seqOf(conversation: Uint8Array, id: Uint8Array): number | undefined {
    const peer = checkPublicKey(conversation, 'conversation key');
    const messageId = checkMessageId(id);
    return this.#ctx.read('reading a message', () => {
      const row = this.#ctx.db
        .prepare('SELECT seq FROM messages WHERE id = ? AND conversation = ?')
        .get(messageId, peer);
      return row === undefined ? undefined : Number(row['seq']);
    });
  }

  /** list() shaped for the CLI: ids and keys in lower-case hex, `ts` in ms since the epoch. */
  listForCli(
    conversation: Uint8Array,
    options: { limit?: number; beforeSeq?: number } = {},
  ): MessageListing[] {
    return this.list(conversation, options).map((m) => ({
      id: m.id.toString('hex'),
      from: m.sender.toString('hex'),
      text: m.text,
      ts: m.createdMs,
      state: m.state,
    }));
  }

  count(conversation?: Uint8Array): number {
    return this.#ctx.read('counting messages', () => {
      const row =
        conversation === undefined
          ? this.#ctx.db.prepare('SELECT count(*) AS n FROM messages').get()
          : this.#ctx.db
              .prepare('SELECT count(*) AS n FROM messages WHERE conversation = ?')
              .get(checkPublicKey(conversation, 'conversation key'));
      return Number(row?.['n'] ?? 0);
    });
  }

  /** Incoming messages not read yet, per conversation key (hex): the web client's unread counts. */
  unreadCounts(): Map<string, number> {
    return this.#ctx.read('counting unread messages', () => {
      const rows = this.#ctx.db
        .prepare(
          `SELECT conversation, count(*) AS n FROM messages
           WHERE direction = 'incoming' AND state <> 'read' GROUP BY conversation`,
        )
        .all();
      return new Map(rows.map((r) => [(r['conversation'] as Buffer).toString('hex'), Number(r['n'])]));
    });
  }

  #seqFor(peer: Buffer): number {
    return Number(this.#nextSeq.get(peer)?.['seq'] ?? 1);
  }

  #assertContact(peer: Buffer): void {
    if (this.#contactExists.get(peer) === undefined) throw unknownFriend(peer);
  }

  #get(id: Buffer): StoredMessage | undefined {
    const row = this.#byId.get(id);
    return row === undefined ? undefined : toMessage(row);
  }

  #mustGet(id: Buffer): StoredMessage {
    const message = this.#get(id);
    if (message === undefined) throw unknownMessage(id);
    return message;
  }
}

/**
 * The time columns a move to `state` stamps. Read implies delivered (a read receipt may overtake the delivery
 * receipt); stored is only ever stamped by a move to stored, because queued→delivered means the message never
 * waited in the DHT.
 */
function stampedBy(state: MessageState): readonly MessageState[] {
  return state === 'read' ? ['delivered', 'read'] : [state];
}

export function checkMessageId(id: Uint8Array): Buffer {
  if (id.length !== MESSAGE_ID_BYTES) throw badArgument(`a message id must be ${MESSAGE_ID_BYTES} bytes`);
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength);
}

function unknownMessage(id: Buffer): DhtchatError {
  return new DhtchatError(ChatStoreErrorCode.unknownMessage, `no message with id ${id.toString('hex')}`);
}

function toMessage(row: SqlRow): StoredMessage {
  return {
    id: row['id'] as Buffer,
    conversation: row['conversation'] as Buffer,
    seq: Number(row['seq']),
    senderSeq: optionalNumber(row['sender_seq']),
    direction: row['direction'] as MessageDirection,
    sender: row['sender'] as Buffer,
    text: String(row['text']),
    state: row['state'] as MessageState,
    via: row['via'] === null ? undefined : (row['via'] as MessageVia),
    createdMs: Number(row['created_ms']),
    receivedMs: optionalNumber(row['received_ms']),
    sentMs: optionalNumber(row['sent_ms']),
    storedMs: optionalNumber(row['stored_ms']),
    deliveredMs: optionalNumber(row['delivered_ms']),
    readMs: optionalNumber(row['read_ms']),
    attempts: Number(row['attempts']),
    lastAttemptMs: optionalNumber(row['last_attempt_ms']),
  };
}
