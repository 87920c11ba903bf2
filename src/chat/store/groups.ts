/**
 * Private groups in the chat store (migration 3): the groups we were invited to or are in, their signed entries
 * (ops and messages, as forwarded, with the text of the messages we could open), the heads of both DAGs, the
 * boundary a joined member's history starts after, our epoch keys, what each member said it has and has read,
 * the invites we sent, and where members who are not friends were last reached.
 *
 * An entry is inserted only after its parents (the group service holds the rest, pending-entries.ts), so
 * `group_heads` is kept in step on insert: the new entry becomes a head and its parents stop being heads. What
 * the protocol means by any of it is src/chat/groups/; this file stores.
 */
import type { UdpAddress } from '../../runtime/index.ts';
import type { SqlRow, Statement } from './sqlite.ts';
import { checkPublicKey, type StoreContext } from './store-context.ts';
import { badArgument } from './store-errors.ts';

export const GROUP_STATES = ['invited', 'joining', 'member', 'left', 'removed', 'declined'] as const;
export type GroupState = (typeof GROUP_STATES)[number];
export type EntryKind = 'op' | 'message';
/** ok: counts (a message we could open); hidden: cut off by a removal; foreign: a message we hold no key for. */
export type EntryStatus = 'ok' | 'hidden' | 'foreign';
/** have: message heads a member said it has; ops: its op heads; read: the message heads it has read. */
export type FrontierKind = 'have' | 'ops' | 'read';

const HASH_BYTES = 32;
/** Endpoints kept per member (newest first). */
const MAX_MEMBER_ENDPOINTS = 4;

export interface GroupRow {
  readonly groupId: Buffer;
  readonly state: GroupState;
  readonly name: string | undefined;
  readonly inviter: Buffer | undefined;
  readonly joinOp: Buffer | undefined;
  readonly createdMs: number;
  readonly updatedMs: number;
}

export interface StoredEntry {
  readonly hash: Buffer;
  readonly groupId: Buffer;
  readonly kind: EntryKind;
  readonly author: Buffer;
  readonly seq: number;
  readonly lamport: number;
  readonly createdMs: number;
  readonly receivedMs: number;
  readonly parents: Buffer[];
  readonly epoch: Buffer | undefined;
  readonly bytes: Buffer;
  readonly text: string | undefined;
  /** A file offer's transfer id (its text is the file's name); undefined for a text message. */
  readonly fileId: Buffer | undefined;
  readonly status: EntryStatus;
  readonly isRead: boolean;
}

export interface NewEntry {
  readonly hash: Buffer;
  readonly groupId: Buffer;
  readonly kind: EntryKind;
  readonly author: Buffer;
  readonly seq: number;
  readonly lamport: number;
  readonly createdMs: number;
  readonly parents: readonly Buffer[];
  readonly epoch?: Buffer;
  readonly bytes: Buffer;
  readonly text?: string;
  readonly fileId?: Buffer;
  readonly status: EntryStatus;
  readonly isRead?: boolean;
}

export interface EpochKeyRow {
  readonly epoch: Buffer;
  /** The ratchet step `key` is at: every older step's key is gone. */
  readonly step: number;
  readonly key: Buffer;
  readonly mailbox: Buffer;
  readonly startMs: number;
}

/** A message's place in the DAG, for delivery states (who has it, who read it). */
export interface DagNode {
  readonly hash: Buffer;
  readonly lamport: number;
  readonly parents: Buffer[];
  readonly author: Buffer;
}

export class GroupTables {
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

  // ── groups ────────────────────────────────────────────────────────────────────────────────────────────────

  /** Creates or updates a group's row; fields not given keep their value. */
  upsert(
    groupId: Uint8Array,
    fields: { state: GroupState; name?: string; inviter?: Uint8Array; joinOp?: Uint8Array },
  ): GroupRow {
    const id = checkHash(groupId, 'group id');
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('saving a group', () => {
      this.#sql(
        `INSERT INTO groups (group_id, state, name, inviter, join_op, created_ms, updated_ms)
           VALUES (@id, @state, @name, @inviter, @joinOp, @now, @now)
           ON CONFLICT (group_id) DO UPDATE SET state = excluded.state,
             name = coalesce(excluded.name, name), inviter = coalesce(excluded.inviter, inviter),
             join_op = coalesce(excluded.join_op, join_op), updated_ms = excluded.updated_ms`,
      ).run({
        id,
        state: fields.state,
        name: fields.name ?? null,
        inviter: fields.inviter === undefined ? null : checkPublicKey(fields.inviter, 'inviter'),
        joinOp: fields.joinOp === undefined ? null : checkHash(fields.joinOp, 'join op'),
        now,
      });
      return this.#mustGet(id);
    });
  }

  get(groupId: Uint8Array): GroupRow | undefined {
    const id = checkHash(groupId, 'group id');
    return this.#ctx.read('reading a group', () => this.#get(id));
  }

  list(states: readonly GroupState[] = GROUP_STATES): GroupRow[] {
    return this.#ctx.read('listing groups', () =>
      this.#sql(
        `SELECT * FROM groups WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY created_ms, group_id`,
      )
        .all(...states)
        .map(toGroup),
    );
  }

  // ── entries ───────────────────────────────────────────────────────────────────────────────────────────────

  hasEntry(hash: Uint8Array): boolean {
    const h = checkHash(hash, 'entry hash');
    return this.#ctx.read(
      'reading an entry',
      () => this.#sql('SELECT 1 FROM group_entries WHERE hash = ?').get(h) !== undefined,
    );
  }

  /** Stores an entry (its parents must be stored, or boundaries); false when it was already there. */
  insertEntry(entry: NewEntry): boolean {
    const hash = checkHash(entry.hash, 'entry hash');
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('storing a group entry', () => {
      const result = this.#sql(
        `INSERT INTO group_entries (hash, group_id, kind, author, seq, lamport, created_ms, received_ms, parents,
             epoch, bytes, text, status, is_read, file_id)
           VALUES (@hash, @groupId, @kind, @author, @seq, @lamport, @createdMs, @now, @parents, @epoch, @bytes,
             @text, @status, @isRead, @fileId)
           ON CONFLICT (hash) DO NOTHING`,
      ).run({
        hash,
        groupId: checkHash(entry.groupId, 'group id'),
        kind: entry.kind,
        author: checkPublicKey(entry.author, 'author'),
        seq: entry.seq,
        lamport: entry.lamport,
        createdMs: entry.createdMs,
        now,
        parents: Buffer.concat(entry.parents.map((p) => checkHash(p, 'parent'))),
        epoch: entry.epoch ?? null,
        bytes: entry.bytes,
        text: entry.text ?? null,
        status: entry.status,
        isRead: entry.isRead === true ? 1 : 0,
        fileId: entry.fileId ?? null,
      });
      if (result.changes === 0) return false;
      const dropHead = this.#sql('DELETE FROM group_heads WHERE group_id = ? AND kind = ? AND hash = ?');
      for (const parent of entry.parents) dropHead.run(entry.groupId, entry.kind, parent);
      this.#sql('INSERT OR IGNORE INTO group_heads (group_id, kind, hash, lamport) VALUES (?, ?, ?, ?)').run(
        entry.groupId,
        entry.kind,
        hash,
        entry.lamport,
      );
      return true;
    });
  }

  entry(hash: Uint8Array): StoredEntry | undefined {
    const h = checkHash(hash, 'entry hash');
    return this.#ctx.read('reading an entry', () => {
      const row = this.#sql('SELECT * FROM group_entries WHERE hash = ?').get(h);
      return row === undefined ? undefined : toEntry(row);
    });
  }

  /** Every op of the group (the membership is folded from them all). */
  ops(groupId: Uint8Array): StoredEntry[] {
    const id = checkHash(groupId, 'group id');
    return this.#ctx.read('reading group ops', () =>
      this.#sql(`SELECT * FROM group_entries WHERE group_id = ? AND kind = 'op' ORDER BY lamport, hash`)
        .all(id)
        .map(toEntry),
    );
  }

  /** The heads of one DAG, highest lamport first. */
  heads(groupId: Uint8Array, kind: EntryKind): { hash: Buffer; lamport: number }[] {
    const id = checkHash(groupId, 'group id');
    return this.#ctx.read('reading group heads', () =>
      this.#sql(
        'SELECT hash, lamport FROM group_heads WHERE group_id = ? AND kind = ? ORDER BY lamport DESC, hash',
      )
        .all(id, kind)
        .map((row) => ({ hash: row['hash'] as Buffer, lamport: Number(row['lamport']) })),
    );
  }

  /** The lamports of the stored entries among `hashes` (by hex). */
  lamportsOf(hashes: readonly Buffer[]): Map<string, number> {
    return this.#ctx.read('reading lamports', () => {
      const out = new Map<string, number>();
      const statement = this.#sql('SELECT lamport FROM group_entries WHERE hash = ?');
      for (const hash of hashes) {
        const row = statement.get(hash);
        if (row !== undefined) out.set(hash.toString('hex'), Number(row['lamport']));
      }
      return out;
    });
  }

  /**
   * The group's messages that count (status ok), in the order every member shows them (lamport, hash): the
   * newest `limit`, or those before an entry (`before`: its lamport and hash).
   */
  messages(
    groupId: Uint8Array,
    opts: { limit?: number; before?: { lamport: number; hash: Buffer } } = {},
  ): StoredEntry[] {
    const id = checkHash(groupId, 'group id');
    const before = opts.before ?? { lamport: Number.MAX_SAFE_INTEGER, hash: Buffer.alloc(HASH_BYTES, 0xff) };
    return this.#ctx.read('listing group messages', () =>
      this.#sql(
        `SELECT * FROM group_entries WHERE group_id = @id AND kind = 'message' AND status = 'ok'
             AND (lamport < @lamport OR (lamport = @lamport AND hash < @hash))
           ORDER BY lamport DESC, hash DESC LIMIT @limit`,
      )
        .all({ id, lamport: before.lamport, hash: before.hash, limit: opts.limit ?? 1000 })
        .reverse()
        .map(toEntry),
    );
  }

  /** Messages of one author (for re-checking them when a removal arrives). */
  messagesBy(groupId: Uint8Array, author: Uint8Array): StoredEntry[] {
    const id = checkHash(groupId, 'group id');
    const key = checkPublicKey(author, 'author');
    return this.#ctx.read('reading group messages', () =>
      this.#sql(
        `SELECT * FROM group_entries WHERE group_id = ? AND author = ? AND kind = 'message' ORDER BY seq`,
      )
        .all(id, key)
        .map(toEntry),
    );
  }

  /** Moves a message between ok and hidden (a removal's cut-off), or from foreign to ok (a key arrived). */
  setStatus(hash: Uint8Array, status: EntryStatus, text?: string): void {
    const h = checkHash(hash, 'entry hash');
    this.#ctx.write('updating a group entry', () => {
      this.#sql('UPDATE group_entries SET status = ?, text = coalesce(?, text) WHERE hash = ?').run(
        status,
        text ?? null,
        h,
      );
    });
  }

  /** The highest seq of an author's entries in the group (0 when none). */
  maxSeq(groupId: Uint8Array, author: Uint8Array): number {
    const id = checkHash(groupId, 'group id');
    const key = checkPublicKey(author, 'author');
    return this.#ctx.read('reading a seq', () =>
      Number(
        this.#sql(
          'SELECT coalesce(max(seq), 0) AS seq FROM group_entries WHERE group_id = ? AND author = ?',
        ).get(id, key)?.['seq'] ?? 0,
      ),
    );
  }

  /** Messages of others that count and we have not read. */
  unreadCount(groupId: Uint8Array): number {
    const id = checkHash(groupId, 'group id');
    return this.#ctx.read('counting unread group messages', () =>
      Number(
        this.#sql(
          `SELECT count(*) AS n FROM group_entries
             WHERE group_id = ? AND kind = 'message' AND status = 'ok' AND is_read = 0`,
        ).get(id)?.['n'] ?? 0,
      ),
    );
  }

  /** Our own messages that count, newest first (their delivery states are watched). */
  ownMessages(groupId: Uint8Array, author: Uint8Array, limit: number): StoredEntry[] {
    const id = checkHash(groupId, 'group id');
    return this.#ctx.read('reading own group messages', () =>
      this.#sql(
        `SELECT * FROM group_entries WHERE group_id = ? AND author = ? AND kind = 'message' AND status = 'ok'
           ORDER BY lamport DESC, hash DESC LIMIT ?`,
      )
        .all(id, checkPublicKey(author, 'author'), limit)
        .map(toEntry),
    );
  }

  /** Marks every message of the group read; the hashes newly read. */
  markRead(groupId: Uint8Array): Buffer[] {
    const id = checkHash(groupId, 'group id');
    return this.#ctx.write('marking group messages read', () => {
      const rows = this.#sql(
        `SELECT hash FROM group_entries WHERE group_id = ? AND kind = 'message' AND is_read = 0`,
      ).all(id);
      this.#sql(`UPDATE group_entries SET is_read = 1 WHERE group_id = ? AND kind = 'message'`).run(id);
      return rows.map((r) => r['hash'] as Buffer);
    });
  }

  /** The message DAG from `minLamport` on (for delivery states). */
  dagFrom(groupId: Uint8Array, minLamport: number): DagNode[] {
    const id = checkHash(groupId, 'group id');
    return this.#ctx.read('reading the message DAG', () =>
      this.#sql(
        `SELECT hash, lamport, parents, author FROM group_entries
           WHERE group_id = ? AND kind = 'message' AND lamport >= ?`,
      )
        .all(id, minLamport)
        .map((row) => ({
          hash: row['hash'] as Buffer,
          lamport: Number(row['lamport']),
          parents: splitHashes(row['parents'] as Buffer),
          author: row['author'] as Buffer,
        })),
    );
  }

  /** Entries of one author not yet in any DHT bundle, oldest first (the group mailbox seals them). */
  unbundled(groupId: Uint8Array, author: Uint8Array, limit: number): StoredEntry[] {
    const id = checkHash(groupId, 'group id');
    const key = checkPublicKey(author, 'author');
    return this.#ctx.read('reading unbundled entries', () =>
      this.#sql(
        `SELECT * FROM group_entries e WHERE group_id = ? AND author = ?
             AND NOT EXISTS (SELECT 1 FROM group_bundle_entries b WHERE b.hash = e.hash)
           ORDER BY lamport, hash LIMIT ?`,
      )
        .all(id, key, limit)
        .map(toEntry),
    );
  }

  // ── boundaries ────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Hashes our history starts after (lamport 0 when unknown): treated as known parents. With `isHead`, they
   * become message heads too, so our first message names them (a joined member's start, an add op's heads).
   */
  addBoundaries(
    groupId: Uint8Array,
    heads: readonly { hash: Uint8Array; lamport: number }[],
    opts: { isHead?: boolean } = {},
  ): void {
    const id = checkHash(groupId, 'group id');
    this.#ctx.write('saving group boundaries', () => {
      const insert = this.#sql(
        'INSERT OR IGNORE INTO group_boundaries (group_id, hash, lamport) VALUES (?, ?, ?)',
      );
      const head = this.#sql(
        `INSERT OR IGNORE INTO group_heads (group_id, kind, hash, lamport) VALUES (?, 'message', ?, ?)`,
      );
      for (const b of heads) {
        const hash = checkHash(b.hash, 'boundary');
        insert.run(id, hash, b.lamport);
        if (opts.isHead === true) head.run(id, hash, b.lamport);
      }
    });
  }

  /** The lamport of a boundary (0: not known), or undefined when the hash is no boundary of the group. */
  boundary(groupId: Uint8Array, hash: Uint8Array): number | undefined {
    return this.#ctx.read('reading a boundary', () => {
      const row = this.#sql('SELECT lamport FROM group_boundaries WHERE group_id = ? AND hash = ?').get(
        checkHash(groupId, 'group id'),
        checkHash(hash, 'hash'),
      );
      return row === undefined ? undefined : Number(row['lamport']);
    });
  }

  // ── epoch keys ────────────────────────────────────────────────────────────────────────────────────────────

  saveKey(groupId: Uint8Array, row: EpochKeyRow): void {
    const id = checkHash(groupId, 'group id');
    if (row.key.length !== 32 || row.mailbox.length !== 32) throw badArgument('epoch keys are 32 bytes');
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('saving an epoch key', () => {
      this.#sql(
        `INSERT INTO group_keys (group_id, epoch, step, key, mailbox, start_ms, updated_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (group_id, epoch) DO UPDATE SET step = excluded.step, key = excluded.key,
             updated_ms = excluded.updated_ms`,
      ).run(id, checkHash(row.epoch, 'epoch'), row.step, row.key, row.mailbox, row.startMs, now);
    });
  }

  key(groupId: Uint8Array, epoch: Uint8Array): EpochKeyRow | undefined {
    return this.#ctx.read('reading an epoch key', () => {
      const row = this.#sql('SELECT * FROM group_keys WHERE group_id = ? AND epoch = ?').get(
        checkHash(groupId, 'group id'),
        checkHash(epoch, 'epoch'),
      );
      return row === undefined ? undefined : toKey(row);
    });
  }

  keys(groupId: Uint8Array): EpochKeyRow[] {
    const id = checkHash(groupId, 'group id');
    return this.#ctx.read('reading epoch keys', () =>
      this.#sql('SELECT * FROM group_keys WHERE group_id = ? ORDER BY start_ms').all(id).map(toKey),
    );
  }

  deleteKey(groupId: Uint8Array, epoch: Uint8Array): void {
    this.#ctx.write('deleting an epoch key', () => {
      this.#sql('DELETE FROM group_keys WHERE group_id = ? AND epoch = ?').run(
        checkHash(groupId, 'group id'),
        checkHash(epoch, 'epoch'),
      );
    });
  }

  // ── frontiers ─────────────────────────────────────────────────────────────────────────────────────────────

  setFrontier(groupId: Uint8Array, member: Uint8Array, kind: FrontierKind, heads: readonly Buffer[]): void {
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('saving a frontier', () => {
      this.#sql(
        `INSERT INTO group_frontiers (group_id, member, kind, heads, updated_ms) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (group_id, member, kind) DO UPDATE SET heads = excluded.heads, updated_ms = excluded.updated_ms`,
      ).run(
        checkHash(groupId, 'group id'),
        checkPublicKey(member, 'member'),
        kind,
        Buffer.concat(heads),
        now,
      );
    });
  }

  /** Each member's last reported heads of this kind, by member hex. */
  frontiers(groupId: Uint8Array, kind: FrontierKind): Map<string, Buffer[]> {
    const id = checkHash(groupId, 'group id');
    return this.#ctx.read('reading frontiers', () => {
      const out = new Map<string, Buffer[]>();
      for (const row of this.#sql(
        'SELECT member, heads FROM group_frontiers WHERE group_id = ? AND kind = ?',
      ).all(id, kind)) {
        out.set((row['member'] as Buffer).toString('hex'), splitHashes(row['heads'] as Buffer));
      }
      return out;
    });
  }

  // ── invites we sent ───────────────────────────────────────────────────────────────────────────────────────

  noteInviteSent(groupId: Uint8Array, invitee: Uint8Array): void {
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('saving an invite', () => {
      this.#sql(
        'INSERT OR REPLACE INTO group_invites_sent (group_id, invitee, created_ms) VALUES (?, ?, ?)',
      ).run(checkHash(groupId, 'group id'), checkPublicKey(invitee, 'invitee'), now);
    });
  }

  hasInviteSent(groupId: Uint8Array, invitee: Uint8Array): boolean {
    return this.#ctx.read(
      'reading an invite',
      () =>
        this.#sql('SELECT 1 FROM group_invites_sent WHERE group_id = ? AND invitee = ?').get(
          checkHash(groupId, 'group id'),
          checkPublicKey(invitee, 'invitee'),
        ) !== undefined,
    );
  }

  /** The groups we invited this peer to (and it has not answered yet). */
  invitesSentTo(invitee: Uint8Array): Buffer[] {
    return this.#ctx.read('reading invites', () =>
      this.#sql('SELECT group_id FROM group_invites_sent WHERE invitee = ? ORDER BY created_ms')
        .all(checkPublicKey(invitee, 'invitee'))
        .map((r) => r['group_id'] as Buffer),
    );
  }

  deleteInviteSent(groupId: Uint8Array, invitee: Uint8Array): void {
    this.#ctx.write('deleting an invite', () => {
      this.#sql('DELETE FROM group_invites_sent WHERE group_id = ? AND invitee = ?').run(
        checkHash(groupId, 'group id'),
        checkPublicKey(invitee, 'invitee'),
      );
    });
  }

  // ── member endpoints ──────────────────────────────────────────────────────────────────────────────────────

  /** Where a member (who may not be a friend) was reached or said to be; the newest few are kept. */
  noteEndpoint(member: Uint8Array, address: UdpAddress): void {
    const key = checkPublicKey(member, 'member');
    if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65_535) return;
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('saving a member endpoint', () => {
      this.#sql(
        `INSERT INTO group_member_endpoints (public_key, host, port, last_seen_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (public_key, host, port) DO UPDATE SET last_seen_ms = excluded.last_seen_ms`,
      ).run(key, address.host, address.port, now);
      const rows = this.#sql(
        'SELECT host, port FROM group_member_endpoints WHERE public_key = ? ORDER BY last_seen_ms DESC',
      ).all(key);
      const drop = this.#sql(
        'DELETE FROM group_member_endpoints WHERE public_key = ? AND host = ? AND port = ?',
      );
      for (const row of rows.slice(MAX_MEMBER_ENDPOINTS)) drop.run(key, row['host'], row['port']);
    });
  }

  endpoints(member: Uint8Array): UdpAddress[] {
    const key = checkPublicKey(member, 'member');
    return this.#ctx.read('reading member endpoints', () =>
      this.#sql(
        'SELECT host, port FROM group_member_endpoints WHERE public_key = ? ORDER BY last_seen_ms DESC',
      )
        .all(key)
        .map((row) => ({ host: String(row['host']), port: Number(row['port']) })),
    );
  }

  #get(id: Buffer): GroupRow | undefined {
    const row = this.#sql('SELECT * FROM groups WHERE group_id = ?').get(id);
    return row === undefined ? undefined : toGroup(row);
  }

  #mustGet(id: Buffer): GroupRow {
    const row = this.#get(id);
    if (row === undefined) throw badArgument(`no group ${id.toString('hex')}`);
    return row;
  }
}

export function checkHash(hash: Uint8Array, what: string): Buffer {
  if (hash.length !== HASH_BYTES)
    throw badArgument(`${what} must be ${HASH_BYTES} bytes, got ${hash.length}`);
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength);
}

function splitHashes(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + HASH_BYTES <= bytes.length; at += HASH_BYTES)
    out.push(Buffer.from(bytes.subarray(at, at + HASH_BYTES)));
  return out;
}

function toGroup(row: SqlRow): GroupRow {
  return {
    groupId: row['group_id'] as Buffer,
    state: row['state'] as GroupState,
    name: row['name'] === null ? undefined : String(row['name']),
    inviter: row['inviter'] === null ? undefined : (row['inviter'] as Buffer),
    joinOp: row['join_op'] === null ? undefined : (row['join_op'] as Buffer),
    createdMs: Number(row['created_ms']),
    updatedMs: Number(row['updated_ms']),
  };
}

function toEntry(row: SqlRow): StoredEntry {
  return {
    hash: row['hash'] as Buffer,
    groupId: row['group_id'] as Buffer,
    kind: row['kind'] as EntryKind,
    author: row['author'] as Buffer,
    seq: Number(row['seq']),
    lamport: Number(row['lamport']),
    createdMs: Number(row['created_ms']),
    receivedMs: Number(row['received_ms']),
    parents: splitHashes(row['parents'] as Buffer),
    epoch: row['epoch'] === null ? undefined : (row['epoch'] as Buffer),
    bytes: row['bytes'] as Buffer,
    text: row['text'] === null ? undefined : String(row['text']),
    fileId: row['file_id'] === null || row['file_id'] === undefined ? undefined : (row['file_id'] as Buffer),
    status: row['status'] as EntryStatus,
    isRead: Number(row['is_read']) === 1,
  };
}

function toKey(row: SqlRow): EpochKeyRow {
  return {
    epoch: row['epoch'] as Buffer,
    step: Number(row['step']),
    key: row['key'] as Buffer,
    mailbox: row['mailbox'] as Buffer,
    startMs: Number(row['start_ms']),
  };
}
