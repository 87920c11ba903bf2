/**
 * Removing a contact (`dhtchat remove`): everything that makes them a contact goes, in one transaction — their
 * name, state, endpoints, prekeys, record seqs, friend-request rows both ways, and the offline bundles we were
 * still putting for them — so that afterwards they are a stranger: not dialled, not published for, refused over
 * IK, and a request they send later is a fresh one the user is asked about.
 *
 * The conversation stays unless it is forgotten too. Messages belong to a contact row (a foreign key), so a
 * removed contact with history keeps a bare row that only anchors it: state `pending-incoming` (a stranger who
 * may ask), no name, nothing else. Without history the row is deleted.
 */
import type { SqlValue } from './sqlite.ts';
import { checkPublicKey, type StoreContext } from './store-context.ts';

export interface RemovalResult {
  /** False when the row stays (bare) to anchor a conversation that was kept. */
  readonly isRowDeleted: boolean;
  /** Messages deleted (0 unless the conversation was forgotten). */
  readonly messagesDeleted: number;
}

export function removeContact(
  ctx: StoreContext,
  publicKey: Uint8Array,
  opts: { isHistoryForgotten: boolean },
): RemovalResult {
  const key = checkPublicKey(publicKey);
  const now = ctx.clock.wallMs();
  return ctx.write('removing a contact', () => {
    const run = (sql: string, ...params: SqlValue[]): number => ctx.db.prepare(sql).run(...params).changes;
    // Bundles first: their message links point at messages (parts and links go with them).
    run('DELETE FROM offline_bundles WHERE conversation = ?', key);
    run('DELETE FROM offline_fetched WHERE conversation = ?', key);
    run('DELETE FROM friend_requests WHERE public_key = ?', key);
    const messagesDeleted = opts.isHistoryForgotten
      ? run('DELETE FROM messages WHERE conversation = ?', key)
      : 0;
    const hasHistory = ctx.db.prepare('SELECT 1 FROM messages WHERE conversation = ? LIMIT 1').get(key);
    if (hasHistory === undefined) {
      run('DELETE FROM contacts WHERE public_key = ?', key); // endpoints, prekeys, record seqs cascade
      return { isRowDeleted: true, messagesDeleted };
    }
    run('DELETE FROM contact_endpoints WHERE public_key = ?', key);
    run('DELETE FROM prekeys WHERE contact = ?', key);
    run('DELETE FROM record_seqs WHERE contact = ?', key);
    run(
      `UPDATE contacts SET state = 'pending-incoming', name = NULL, name_key = NULL, name_skeleton_key = NULL,
         profile_name = NULL, presence = 'offline', presence_ms = NULL, updated_ms = ? WHERE public_key = ?`,
      now,
      key,
    );
    return { isRowDeleted: false, messagesDeleted };
  });
}
