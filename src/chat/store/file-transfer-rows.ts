/**
 * File transfers as the store keeps them (migration 3), both directions; the rules are the file layer's
 * (src/chat/files/file-transfers.ts), this only stores. A transfer is (peer, id): the id is the sender's, and
 * the file layer refuses an offer whose id is one of our own offers to that peer, so a file-state frame always
 * names one transfer. The piece-hash list lives in its own table (saving a bitfield never rewrites it).
 * A group's transfer (migration 5) names its group: incoming, peer is its author; outgoing, peer is our own key.
 */
import type { SqlRow } from './sqlite.ts';
import { checkPublicKey, optionalNumber, type StoreContext } from './store-context.ts';
import { badArgument } from './store-errors.ts';

export const TransferDirection = { outgoing: 'outgoing', incoming: 'incoming' } as const;
export type TransferDirection = (typeof TransferDirection)[keyof typeof TransferDirection];

/** What is stored; "transferring" (a stream is moving pieces now) is live state on top of `accepted`. */
export const TRANSFER_STATES = ['offered', 'accepted', 'complete', 'canceled', 'declined', 'failed'] as const;
export type StoredTransferState = (typeof TRANSFER_STATES)[number];
/** States a transfer never leaves. */
export const FINAL_TRANSFER_STATES: ReadonlySet<StoredTransferState> = new Set([
  'complete',
  'canceled',
  'declined',
  'failed',
]);

export interface StoredTransfer {
  readonly localId: number;
  readonly id: Buffer;
  readonly peer: Buffer;
  readonly direction: TransferDirection;
  /** Incoming: the sender's name made safe; outgoing: the name we offered. */
  readonly name: string;
  readonly sizeBytes: number;
  readonly pieceBytes: number;
  readonly root: Buffer;
  readonly state: StoredTransferState;
  readonly reason: string | undefined;
  /** Outgoing: the file we serve. Incoming: the file it becomes (chosen at accept with --to, else when done). */
  readonly path: string | undefined;
  /** Incoming: the directory the file goes to when no path was chosen. */
  readonly dir: string | undefined;
  /** Incoming: the partial file while it is received. */
  readonly partPath: string | undefined;
  /** Outgoing: the file's mtime when it was hashed (a change means the file is not the one offered). */
  readonly sourceModifiedMs: number | undefined;
  /** Incoming: the pieces verified and synced to the partial file. */
  readonly bitfield: Buffer | undefined;
  /** Outgoing: the peer has confirmed our final state (nothing more to tell it). */
  readonly isSettled: boolean;
  readonly createdMs: number;
  readonly updatedMs: number;
  readonly doneMs: number | undefined;
  /** The group it was offered in (undefined: a friend's transfer). */
  readonly group: Buffer | undefined;
}

export interface NewTransfer {
  readonly id: Uint8Array;
  readonly peer: Uint8Array;
  readonly direction: TransferDirection;
  readonly name: string;
  readonly sizeBytes: number;
  readonly pieceBytes: number;
  readonly root: Uint8Array;
  readonly state: StoredTransferState;
  readonly reason?: string;
  readonly path?: string;
  readonly sourceModifiedMs?: number;
  /** Outgoing: the list, stored with the row. */
  readonly hashes?: Uint8Array;
  /** The group it is offered in. */
  readonly group?: Uint8Array;
}

export class FileTransferRows {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  insert(transfer: NewTransfer): StoredTransfer {
    const peer = checkPublicKey(transfer.peer, 'peer key');
    if (transfer.id.length !== 16) throw badArgument('a transfer id is 16 bytes');
    if (transfer.root.length !== 32) throw badArgument('a transfer root is 32 bytes');
    if (transfer.group !== undefined && transfer.group.length !== 32)
      throw badArgument('a group id is 32 bytes');
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('saving a file transfer', () => {
      const db = this.#ctx.db;
      const { lastInsertRowid } = db
        .prepare(
          `INSERT INTO file_transfers (id, peer, direction, name, size_bytes, piece_bytes, root, state, reason,
             path, source_mtime_ms, created_ms, updated_ms, done_ms, group_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          Buffer.from(transfer.id),
          peer,
          transfer.direction,
          transfer.name,
          transfer.sizeBytes,
          transfer.pieceBytes,
          Buffer.from(transfer.root),
          transfer.state,
          transfer.reason ?? null,
          transfer.path ?? null,
          transfer.sourceModifiedMs ?? null,
          now,
          now,
          transfer.state === 'offered' || transfer.state === 'accepted' ? null : now,
          transfer.group === undefined ? null : Buffer.from(transfer.group),
        );
      const localId = Number(lastInsertRowid);
      if (transfer.hashes !== undefined) this.#saveHashes(localId, transfer.hashes);
      return this.#byLocalId(localId) as StoredTransfer;
    });
  }

  get(peer: Uint8Array, id: Uint8Array): StoredTransfer | undefined {
    const key = checkPublicKey(peer, 'peer key');
    return this.#ctx.read('reading a file transfer', () => {
      const row = this.#ctx.db
        .prepare('SELECT * FROM file_transfers WHERE peer = ? AND id = ?')
        .get(key, Buffer.from(id));
      return row === undefined ? undefined : rowToTransfer(row);
    });
  }

  /** The group transfers with this id (ours, and others' we received: one per author at most). */
  groupTransfers(id: Uint8Array): StoredTransfer[] {
    return this.#ctx.read('reading a group file transfer', () =>
      this.#ctx.db
        .prepare(
          'SELECT * FROM file_transfers WHERE id = ? AND group_id IS NOT NULL ORDER BY local_id LIMIT 8',
        )
        .all(Buffer.from(id))
        .map(rowToTransfer),
    );
  }

  byLocalId(localId: number): StoredTransfer | undefined {
    return this.#ctx.read('reading a file transfer', () => this.#byLocalId(localId));
  }

  /** Transfers whose id (hex) starts with prefix, newest first (at most limit). */
  findByIdPrefix(prefixHex: string, limit = 2): StoredTransfer[] {
    const prefix = prefixHex.toLowerCase();
    if (!/^[0-9a-f]{1,32}$/.test(prefix)) return [];
    return this.#ctx.read('finding a file transfer', () =>
      this.#ctx.db
        .prepare(
          `SELECT * FROM file_transfers WHERE substr(lower(hex(id)), 1, ?) = ? ORDER BY local_id DESC LIMIT ?`,
        )
        .all(prefix.length, prefix, limit)
        .map(rowToTransfer),
    );
  }

  /** Newest first; optionally one peer's, one direction's, or in some states. */
  list(
    opts: {
      peer?: Uint8Array;
      direction?: TransferDirection;
      states?: readonly StoredTransferState[];
      limit?: number;
    } = {},
  ): StoredTransfer[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (opts.peer !== undefined) {
      where.push('peer = ?');
      params.push(checkPublicKey(opts.peer, 'peer key'));
    }
    if (opts.direction !== undefined) {
      where.push('direction = ?');
      params.push(opts.direction);
    }
    if (opts.states !== undefined) {
      where.push(`state IN (${opts.states.map(() => '?').join(', ') || 'NULL'})`);
      params.push(...opts.states);
    }
    params.push(opts.limit ?? -1);
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    return this.#ctx.read('listing file transfers', () =>
      this.#ctx.db
        .prepare(`SELECT * FROM file_transfers ${clause} ORDER BY local_id DESC LIMIT ?`)
        .all(...params)
        .map(rowToTransfer),
    );
  }

  /** How many of a peer's transfers one way are in these states. */
  count(peer: Uint8Array, direction: TransferDirection, states: readonly StoredTransferState[]): number {
    const key = checkPublicKey(peer, 'peer key');
    return this.#ctx.read('counting file transfers', () =>
      Number(
        this.#ctx.db
          .prepare(
            `SELECT count(*) AS n FROM file_transfers WHERE peer = ? AND direction = ?
               AND state IN (${states.map(() => '?').join(', ')})`,
          )
          .get(key, direction, ...states)?.['n'] ?? 0,
      ),
    );
  }

  /** Moves a transfer to a state (a final one stamps done_ms); the reason says why, for failed and declined. */
  setState(localId: number, state: StoredTransferState, reason?: string): StoredTransfer {
    const now = this.#ctx.clock.wallMs();
    return this.#update(localId, 'saving a transfer state', () => {
      this.#ctx.db
        .prepare(
          `UPDATE file_transfers SET state = ?, reason = ?, updated_ms = ?,
             done_ms = CASE WHEN ? THEN ? ELSE done_ms END WHERE local_id = ?`,
        )
        .run(state, reason ?? null, now, FINAL_TRANSFER_STATES.has(state) ? 1 : 0, now, localId);
    });
  }

  /** Incoming, accepted: where it goes (a chosen path, or a directory) and its partial file. */
  setAccepted(localId: number, where: { path?: string; dir?: string; partPath: string }): StoredTransfer {
    const now = this.#ctx.clock.wallMs();
    return this.#update(localId, 'accepting a file transfer', () => {
      this.#ctx.db
        .prepare(
          `UPDATE file_transfers SET state = 'accepted', reason = NULL, path = ?, dir = ?, part_path = ?,
             updated_ms = ? WHERE local_id = ?`,
        )
        .run(where.path ?? null, where.dir ?? null, where.partPath, now, localId);
    });
  }

  /** Incoming: the file's final path, written before the partial file is renamed to it. */
  setPath(localId: number, path: string, sourceModifiedMs?: number): StoredTransfer {
    const now = this.#ctx.clock.wallMs();
    return this.#update(localId, 'saving a transfer path', () => {
      this.#ctx.db
        .prepare(
          `UPDATE file_transfers SET path = ?, source_mtime_ms = coalesce(?, source_mtime_ms), updated_ms = ?
           WHERE local_id = ?`,
        )
        .run(path, sourceModifiedMs ?? null, now, localId);
    });
  }

  /** Incoming: the name the file gets (the user chose another with accept-file --to). */
  rename(localId: number, name: string): StoredTransfer {
    return this.#update(localId, 'renaming a file transfer', () => {
      this.#ctx.db
        .prepare('UPDATE file_transfers SET name = ?, updated_ms = ? WHERE local_id = ?')
        .run(name, this.#ctx.clock.wallMs(), localId);
    });
  }

  saveBitfield(localId: number, bitfield: Uint8Array): void {
    this.#update(localId, 'saving a transfer bitfield', () => {
      this.#ctx.db
        .prepare('UPDATE file_transfers SET bitfield = ?, updated_ms = ? WHERE local_id = ?')
        .run(Buffer.from(bitfield), this.#ctx.clock.wallMs(), localId);
    });
  }

  setSettled(localId: number, isSettled: boolean): void {
    this.#update(localId, 'saving a transfer', () => {
      this.#ctx.db
        .prepare('UPDATE file_transfers SET is_settled = ? WHERE local_id = ?')
        .run(isSettled ? 1 : 0, localId);
    });
  }

  saveHashes(localId: number, hashes: Uint8Array): void {
    this.#ctx.write('saving a piece-hash list', () => this.#saveHashes(localId, hashes));
  }

  hashes(localId: number): Buffer | undefined {
    return this.#ctx.read('reading a piece-hash list', () => {
      const row = this.#ctx.db.prepare('SELECT hashes FROM file_hash_lists WHERE local_id = ?').get(localId);
      return row === undefined ? undefined : (row['hashes'] as Buffer);
    });
  }

  /** Forgets a peer's oldest final incoming transfers beyond keep (what a chatty friend's offers may cost). */
  pruneFinished(peer: Uint8Array, keep: number): number {
    const key = checkPublicKey(peer, 'peer key');
    return this.#ctx.write('pruning file transfers', () => {
      const stale = this.#ctx.db
        .prepare(
          `SELECT local_id FROM file_transfers WHERE peer = ? AND direction = 'incoming'
             AND state IN ('complete', 'canceled', 'declined', 'failed')
           ORDER BY local_id DESC LIMIT -1 OFFSET ?`,
        )
        .all(key, keep)
        .map((row) => Number(row['local_id']));
      const remove = this.#ctx.db.prepare('DELETE FROM file_transfers WHERE local_id = ?');
      for (const localId of stale) remove.run(localId);
      return stale.length;
    });
  }

  #saveHashes(localId: number, hashes: Uint8Array): void {
    this.#ctx.db
      .prepare(
        `INSERT INTO file_hash_lists (local_id, hashes) VALUES (?, ?)
         ON CONFLICT (local_id) DO UPDATE SET hashes = excluded.hashes`,
      )
      .run(localId, Buffer.from(hashes));
  }

  #update(localId: number, doing: string, fn: () => void): StoredTransfer {
    return this.#ctx.write(doing, () => {
      fn();
      const row = this.#byLocalId(localId);
      if (row === undefined) throw badArgument(`no file transfer ${localId}`);
      return row;
    });
  }

  #byLocalId(localId: number): StoredTransfer | undefined {
    const row = this.#ctx.db.prepare('SELECT * FROM file_transfers WHERE local_id = ?').get(localId);
    return row === undefined ? undefined : rowToTransfer(row);
  }
}

function rowToTransfer(row: SqlRow): StoredTransfer {
  const text = (name: string): string | undefined => (row[name] === null ? undefined : String(row[name]));
  return {
    localId: Number(row['local_id']),
    id: row['id'] as Buffer,
    peer: row['peer'] as Buffer,
    direction: row['direction'] as TransferDirection,
    name: String(row['name']),
    sizeBytes: Number(row['size_bytes']),
    pieceBytes: Number(row['piece_bytes']),
    root: row['root'] as Buffer,
    state: row['state'] as StoredTransferState,
    reason: text('reason'),
    path: text('path'),
    dir: text('dir'),
    partPath: text('part_path'),
    sourceModifiedMs: optionalNumber(row['source_mtime_ms']),
    bitfield: row['bitfield'] === null ? undefined : (row['bitfield'] as Buffer),
    isSettled: Number(row['is_settled']) === 1,
    createdMs: Number(row['created_ms']),
    updatedMs: Number(row['updated_ms']),
    doneMs: optionalNumber(row['done_ms']),
    group:
      row['group_id'] === null || row['group_id'] === undefined ? undefined : (row['group_id'] as Buffer),
  };
}
