/**
 * A group's DHT mailbox in the store (src/chat/groups/group-mailbox.ts): the bundles of our own entries we put
 * in the DHT for members we could not reach — sealed parts kept so the same items are re-put until every member
 * has the entries or they age out — and the bundle heads of others we already fetched.
 */
import { BEP44_MAX_V_BYTES } from '../../dht/index.ts';
import { TARGET_BYTES } from '../labels.ts';
import { checkHash } from './groups.ts';
import type { Statement } from './sqlite.ts';
import type { StoreContext } from './store-context.ts';
import { optionalNumber } from './store-context.ts';
import { badArgument } from './store-errors.ts';

export interface GroupBundle {
  readonly headTarget: Buffer;
  readonly groupId: Buffer;
  readonly epoch: Buffer;
  /** parts[0] is the head. */
  readonly parts: { readonly target: Buffer; readonly v: Buffer }[];
  readonly hashes: Buffer[];
  readonly createdMs: number;
  readonly putCount: number;
  readonly lastPutMs: number | undefined;
}

export class GroupBundles {
  readonly #ctx: StoreContext;
  readonly #statements = new Map<string, Statement>();

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** A prepared statement, made once per SQL text (better-sqlite3's prepare costs far more than a run). */
  #sql(text: string): Statement {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = this.#ctx.db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  /** Records a sealed bundle of our entries before any part is put. */
  save(
    groupId: Uint8Array,
    epoch: Uint8Array,
    parts: readonly { target: Uint8Array; v: Uint8Array }[],
    hashes: readonly Uint8Array[],
  ): Buffer {
    if (parts.length === 0 || hashes.length === 0) throw badArgument('a bundle has parts and entries');
    for (const part of parts) {
      if (part.target.length !== TARGET_BYTES || part.v.length > BEP44_MAX_V_BYTES)
        throw badArgument('bad part');
    }
    const head = Buffer.from((parts[0] as { target: Uint8Array }).target);
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('saving a group bundle', () => {
      this.#sql(
        'INSERT INTO group_bundles (head_target, group_id, epoch, created_ms) VALUES (?, ?, ?, ?)',
      ).run(head, checkHash(groupId, 'group id'), checkHash(epoch, 'epoch'), now);
      const insertPart = this.#sql(
        'INSERT INTO group_bundle_parts (head_target, part_index, target, value) VALUES (?, ?, ?, ?)',
      );
      parts.forEach((part, i) => {
        insertPart.run(head, i, Buffer.from(part.target), Buffer.from(part.v));
      });
      const insertHash = this.#sql(
        'INSERT OR IGNORE INTO group_bundle_entries (head_target, hash) VALUES (?, ?)',
      );
      for (const hash of hashes) insertHash.run(head, checkHash(hash, 'entry hash'));
    });
    return head;
  }

  /** Our bundles (of one group, or all), oldest first. */
  list(groupId?: Uint8Array): GroupBundle[] {
    return this.#ctx.read('reading group bundles', () => {
      const rows =
        groupId === undefined
          ? this.#sql('SELECT * FROM group_bundles ORDER BY created_ms, head_target').all()
          : this.#sql('SELECT * FROM group_bundles WHERE group_id = ? ORDER BY created_ms, head_target').all(
              checkHash(groupId, 'group id'),
            );
      const parts = this.#sql(
        'SELECT target, value FROM group_bundle_parts WHERE head_target = ? ORDER BY part_index',
      );
      const hashes = this.#sql('SELECT hash FROM group_bundle_entries WHERE head_target = ?');
      return rows.map((row) => {
        const head = row['head_target'] as Buffer;
        return {
          headTarget: head,
          groupId: row['group_id'] as Buffer,
          epoch: row['epoch'] as Buffer,
          parts: parts.all(head).map((p) => ({ target: p['target'] as Buffer, v: p['value'] as Buffer })),
          hashes: hashes.all(head).map((h) => h['hash'] as Buffer),
          createdMs: Number(row['created_ms']),
          putCount: Number(row['put_count']),
          lastPutMs: optionalNumber(row['last_put_ms']),
        };
      });
    });
  }

  /** Hashes of the group's entries in a bundle put at least once (their state shows `sent`). */
  putHashes(groupId: Uint8Array): Set<string> {
    return this.#ctx.read('reading bundled entries', () => {
      const rows = this.#sql(
        `SELECT e.hash FROM group_bundle_entries e JOIN group_bundles b ON b.head_target = e.head_target
           WHERE b.group_id = ? AND b.put_count > 0`,
      ).all(checkHash(groupId, 'group id'));
      return new Set(rows.map((r) => (r['hash'] as Buffer).toString('hex')));
    });
  }

  notePut(headTarget: Uint8Array): void {
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('counting a bundle put', () => {
      this.#sql(
        'UPDATE group_bundles SET put_count = put_count + 1, last_put_ms = ? WHERE head_target = ?',
      ).run(now, Buffer.from(headTarget));
    });
  }

  /** Done with a bundle (every member has its entries, or it aged out): its parts go. */
  drop(headTarget: Uint8Array): void {
    this.#ctx.write('dropping a group bundle', () => {
      this.#sql('DELETE FROM group_bundles WHERE head_target = ?').run(Buffer.from(headTarget));
    });
  }

  hasFetched(headTarget: Uint8Array): boolean {
    return this.#ctx.read(
      'reading fetched bundles',
      () =>
        this.#sql('SELECT 1 FROM group_fetched WHERE head_target = ?').get(Buffer.from(headTarget)) !==
        undefined,
    );
  }

  noteFetched(groupId: Uint8Array, headTarget: Uint8Array): void {
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('saving a fetched bundle', () => {
      this.#sql(
        'INSERT OR IGNORE INTO group_fetched (head_target, group_id, fetched_ms) VALUES (?, ?, ?)',
      ).run(Buffer.from(headTarget), checkHash(groupId, 'group id'), now);
    });
  }

  /** Forgets fetched heads older than `beforeMs` (their bundles are gone from the DHT by then). */
  pruneFetched(beforeMs: number): number {
    return this.#ctx.write(
      'pruning fetched bundles',
      () => this.#sql('DELETE FROM group_fetched WHERE fetched_ms < ?').run(beforeMs).changes,
    );
  }
}
