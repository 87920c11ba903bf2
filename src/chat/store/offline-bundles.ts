/**
 * Offline-message bookkeeping, both sides, in the unit the DHT sees: a sealed bundle (offline-seal.ts) holds up
 * to 64 messages, is split into immutable items (offline-parts.ts), and is named by its head item's target —
 * what the sender's record lists as pending and the receiver's record lists as acked.
 *
 * Sender: saveBundle() writes the parts' bytes and which messages they hold before the first put, so a restarted
 * daemon re-puts the very same items (re-sealing could need a prekey that has rotated since). pending() is what
 * to re-put and to list in our record; ack() ends it: bytes dropped, its messages moved to delivered.
 *
 * Receiver: noteFetched() remembers a head target whose messages were stored — call it in the same
 * ChatStore.transaction() as messages.receiveMany(), so a crash between the two cannot ack a message we lost.
 * ackedHeads() is what our record acknowledges.
 */
import { BEP44_MAX_V_BYTES } from '../../dht/index.ts';
import { TARGET_BYTES } from '../labels.ts';
import { canAdvance, type MessageState } from './message-state.ts';
import { checkMessageId } from './messages.ts';
import type { SqlRow } from './sqlite.ts';
import { checkPublicKey, optionalNumber, type StoreContext } from './store-context.ts';
import { badArgument } from './store-errors.ts';

export interface BundlePart {
  /** SHA-1 target of the immutable item. */
  readonly target: Uint8Array;
  /** The item's `v` bytes as put. */
  readonly v: Uint8Array;
}

export interface PendingBundle {
  readonly headTarget: Buffer;
  readonly conversation: Buffer;
  /** parts[0] is the head. */
  readonly parts: { readonly target: Buffer; readonly v: Buffer }[];
  readonly messageIds: Buffer[];
  readonly createdMs: number;
  readonly putCount: number;
  readonly lastPutMs: number | undefined;
}

export class OfflineBundles {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Records a sealed bundle for `conversation` before any of its parts is put. parts[0] must be the head. */
  saveBundle(
    conversation: Uint8Array,
    parts: readonly BundlePart[],
    messageIds: readonly Uint8Array[],
  ): Buffer {
    const peer = checkPublicKey(conversation, 'conversation key');
    if (parts.length === 0) throw badArgument('a sealed bundle has at least one part');
    if (messageIds.length === 0) throw badArgument('a sealed bundle holds at least one message');
    for (const part of parts) {
      if (part.target.length !== TARGET_BYTES)
        throw badArgument(`an item target must be ${TARGET_BYTES} bytes`);
      if (part.v.length > BEP44_MAX_V_BYTES)
        throw badArgument(`an item v must be ≤ ${BEP44_MAX_V_BYTES} bytes`);
    }
    const ids = messageIds.map(checkMessageId);
    const head = Buffer.from((parts[0] as BundlePart).target);
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('saving an offline bundle', () => {
      const db = this.#ctx.db;
      const own = db.prepare(
        `SELECT 1 FROM messages WHERE id = ? AND conversation = ? AND direction = 'outgoing'`,
      );
      for (const id of ids) {
        if (own.get(id, peer) === undefined) {
          throw badArgument(`no outgoing message ${id.toString('hex')} to this friend`);
        }
      }
      db.prepare('INSERT INTO offline_bundles (head_target, conversation, created_ms) VALUES (?, ?, ?)').run(
        head,
        peer,
        now,
      );
      const insertPart = db.prepare(
        'INSERT INTO offline_bundle_parts (head_target, part_index, target, value) VALUES (?, ?, ?, ?)',
      );
      parts.forEach((part, index) => {
        insertPart.run(head, index, Buffer.from(part.target), Buffer.from(part.v));
      });
      const insertMessage = db.prepare(
        'INSERT INTO offline_bundle_messages (head_target, message_id) VALUES (?, ?)',
      );
      for (const id of ids) insertMessage.run(head, id);
    });
    return head;
  }

  /** Counts one successful put of the whole bundle (every part). */
  notePut(headTarget: Uint8Array): void {
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('counting a put', () => {
      this.#ctx.db
        .prepare(
          'UPDATE offline_bundles SET put_count = put_count + 1, last_put_ms = ? WHERE head_target = ?',
        )
        .run(now, Buffer.from(headTarget));
    });
  }

  /** Unacknowledged bundles (to re-put and to list in our record), oldest first, for one friend or all. */
  pending(conversation?: Uint8Array): PendingBundle[] {
    const peer = conversation === undefined ? null : checkPublicKey(conversation, 'conversation key');
    return this.#ctx.read('reading offline bundles', () => {
      const db = this.#ctx.db;
      const partsOf = db.prepare(
        'SELECT target, value FROM offline_bundle_parts WHERE head_target = ? ORDER BY part_index',
      );
      const messagesOf = db.prepare(
        `SELECT b.message_id FROM offline_bundle_messages b JOIN messages m ON m.id = b.message_id
         WHERE b.head_target = ? ORDER BY m.seq`,
      );
      return db
        .prepare(
          `SELECT * FROM offline_bundles WHERE acked_ms IS NULL AND (@peer IS NULL OR conversation = @peer)
           ORDER BY created_ms, head_target`,
        )
        .all({ peer })
        .map((row: SqlRow) => {
          const head = row['head_target'] as Buffer;
          return {
            headTarget: head,
            conversation: row['conversation'] as Buffer,
            parts: partsOf.all(head).map((p) => ({ target: p['target'] as Buffer, v: p['value'] as Buffer })),
            messageIds: messagesOf.all(head).map((m) => m['message_id'] as Buffer),
            createdMs: Number(row['created_ms']),
            putCount: Number(row['put_count']),
            lastPutMs: optionalNumber(row['last_put_ms']),
          };
        });
    });
  }

  /**
   * The friend's record acknowledged this head target: the bundle stops being re-put (its bytes are dropped)
   * and its messages move to delivered unless already further. Returns the ids whose state changed; an unknown
   * or already acked head changes nothing (acks are remote input and repeat).
   */
  ack(conversation: Uint8Array, headTarget: Uint8Array): Buffer[] {
    const peer = checkPublicKey(conversation, 'conversation key');
    const head = Buffer.from(headTarget);
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('acknowledging an offline bundle', () => {
      const db = this.#ctx.db;
      const result = db
        .prepare(
          'UPDATE offline_bundles SET acked_ms = ? WHERE head_target = ? AND conversation = ? AND acked_ms IS NULL',
        )
        .run(now, head, peer);
      if (result.changes === 0) return [];
      db.prepare('DELETE FROM offline_bundle_parts WHERE head_target = ?').run(head);
      const rows = db
        .prepare(
          `SELECT m.id, m.state FROM offline_bundle_messages b JOIN messages m ON m.id = b.message_id
           WHERE b.head_target = ? ORDER BY m.seq`,
        )
        .all(head);
      const deliver = db.prepare(
        `UPDATE messages SET state = 'delivered', delivered_ms = coalesce(delivered_ms, ?) WHERE id = ?`,
      );
      const changed: Buffer[] = [];
      for (const row of rows) {
        if (!canAdvance(row['state'] as MessageState, 'delivered')) continue;
        deliver.run(now, row['id']);
        changed.push(row['id'] as Buffer);
      }
      return changed;
    });
  }

  /** Forgets an unacknowledged bundle (e.g. its messages were delivered directly, or it is re-sealed). */
  drop(headTarget: Uint8Array): boolean {
    return this.#ctx.write(
      'dropping an offline bundle',
      () =>
        this.#ctx.db
          .prepare('DELETE FROM offline_bundles WHERE head_target = ? AND acked_ms IS NULL')
          .run(Buffer.from(headTarget)).changes > 0,
    );
  }

  /** Receiver: remembers that the bundle under this head was fetched and its messages stored. */
  noteFetched(conversation: Uint8Array, headTarget: Uint8Array): void {
    const peer = checkPublicKey(conversation, 'conversation key');
    if (headTarget.length !== TARGET_BYTES) throw badArgument(`a head target must be ${TARGET_BYTES} bytes`);
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('remembering a fetched bundle', () => {
      this.#ctx.db
        .prepare(
          `INSERT INTO offline_fetched (head_target, conversation, fetched_ms) VALUES (?, ?, ?)
           ON CONFLICT (head_target) DO NOTHING`,
        )
        .run(Buffer.from(headTarget), peer, now);
    });
  }

  hasFetched(headTarget: Uint8Array): boolean {
    return this.#ctx.read(
      'reading fetched bundles',
      () =>
        this.#ctx.db
          .prepare('SELECT 1 FROM offline_fetched WHERE head_target = ?')
          .get(Buffer.from(headTarget)) !== undefined,
    );
  }

  /** Receiver: head targets fetched from this friend, newest first: what our record acknowledges. */
  ackedHeads(conversation: Uint8Array, limit = 16): Buffer[] {
    const peer = checkPublicKey(conversation, 'conversation key');
    return this.#ctx.read('reading fetched bundles', () =>
      this.#ctx.db
        .prepare(
          `SELECT head_target FROM offline_fetched WHERE conversation = ?
           ORDER BY fetched_ms DESC, head_target LIMIT ?`,
        )
        .all(peer, limit)
        .map((row) => row['head_target'] as Buffer),
    );
  }
}
