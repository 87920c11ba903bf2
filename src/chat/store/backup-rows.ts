/**
 * The chat store as backup rows: which tables and columns a backup carries, what each column may hold, and the
 * two SQL passes — read every row (export) and write them into a fresh store in one transaction (import).
 * The column table below is the single description of the backup's store section: the codec
 * (src/chat/backup-store-codec.ts) validates every decoded row against it before any row reaches SQL, and
 * SQLite's own CHECK, UNIQUE and FOREIGN KEY constraints are the second wall.
 *
 * Carried: contacts with their last known endpoints, friend requests (pending, accepted, and declined — declines
 * are how a stranger's repeated requests are dropped), the message history and outbox, our offline bundles still
 * to be put (the sealed parts, so the same items are re-put), the heads we fetched (what our records acknowledge),
 * our prekeys (so a friend's offline messages sealed to one can still be opened), record seqs, and the chat's
 * settings (friends' prekeys, requesters' names).
 * Not carried: presence (live state: every contact starts offline), the request rate-limit windows, and the
 * machine's own settings (the owner key — set by the new store —, the DHT routing table, the last UDP port).
 *
 * Columns added by later migrations are not in the list and take their defaults on import; a column renamed or
 * dropped must be changed here with the migration (the store tests restore a backup of a full store).
 */
import type { SqlValue } from './sqlite.ts';
import type { StoreContext } from './store-context.ts';
import { badArgument } from './store-errors.ts';
import { KvKey } from './kv.ts';
import { MAX_MESSAGE_TEXT_BYTES } from './message-state.ts';

export type BackupColumnType =
  | { readonly kind: 'bytes'; readonly minBytes: number; readonly maxBytes: number }
  | { readonly kind: 'text'; readonly maxBytes: number; readonly oneOf?: readonly string[] }
  | { readonly kind: 'int'; readonly min: number; readonly max: number };

export interface BackupColumn {
  readonly name: string;
  readonly type: BackupColumnType;
  readonly isNullable?: boolean;
}

export interface BackupTable {
  readonly name: string;
  readonly columns: readonly BackupColumn[];
  /** Export order: also the order rows are inserted in, so a restored store reads like the original. */
  readonly orderBy: string;
  /** Rows left out of the export (machine-local settings). */
  readonly where?: string;
}

/** One row: column name → value (null for SQL NULL). */
export type BackupRowValues = Readonly<Record<string, SqlValue>>;

export interface BackupRow {
  readonly table: string;
  readonly values: BackupRowValues;
}

const bytes = (size: number): BackupColumnType => ({ kind: 'bytes', minBytes: size, maxBytes: size });
const text = (maxBytes: number, oneOf?: readonly string[]): BackupColumnType =>
  oneOf === undefined ? { kind: 'text', maxBytes } : { kind: 'text', maxBytes, oneOf };
const int = (min: number, max: number): BackupColumnType => ({ kind: 'int', min, max });
const TIME_MS = int(0, Number.MAX_SAFE_INTEGER);
const COUNT = int(0, Number.MAX_SAFE_INTEGER);
const KEY = bytes(32);
const MESSAGE_ID = bytes(16);
const TARGET = bytes(20);
const col = (name: string, type: BackupColumnType, isNullable = false): BackupColumn => ({
  name,
  type,
  isNullable,
});

/** Contact names are at most 64 characters: 256 bytes of UTF-8 cover any of them. */
const NAME_BYTES = 256;
/** Settings rows carry small JSON or names; the DHT routing table (the only large one) is not exported. */
export const MAX_SETTING_VALUE_BYTES = 64 * 1024;

/**
 * Machine-local or derived settings, not carried (the `app-` prefix is the app layer's, e.g. the last UDP port;
 * the name-key version says which tables computed this store's keys: the restoring store computes its own).
 */
const LOCAL_SETTINGS_WHERE = `key NOT IN ('${KvKey.ownPublicKey}', '${KvKey.routingTable}', '${KvKey.nameKeyVersion}') AND key NOT LIKE 'app-%'`;

/** In insert order: every table after the tables its foreign keys point to. */
export const BACKUP_TABLES: readonly BackupTable[] = [
  {
    name: 'contacts',
    columns: [
      col('public_key', KEY),
      col('name', text(NAME_BYTES), true),
      col('state', text(32, ['pending-outgoing', 'pending-incoming', 'accepted', 'declined', 'blocked'])),
      col('created_ms', TIME_MS),
      col('updated_ms', TIME_MS),
      col('last_seen_ms', TIME_MS, true),
    ],
    orderBy: 'created_ms, public_key',
  },
  {
    name: 'contact_endpoints',
    columns: [
      col('public_key', KEY),
      col('host', text(64)),
      col('port', int(1, 65_535)),
      col('source', text(32)),
      col('first_seen_ms', TIME_MS),
      col('last_seen_ms', TIME_MS),
    ],
    orderBy: 'public_key, host, port',
  },
  {
    name: 'friend_requests',
    columns: [
      col('public_key', KEY),
      col('direction', text(16, ['incoming', 'outgoing'])),
      col('message', text(MAX_MESSAGE_TEXT_BYTES)),
      col('state', text(16, ['pending', 'accepted', 'declined'])),
      col('created_ms', TIME_MS),
      col('updated_ms', TIME_MS),
      col('attempts', COUNT),
      col('last_attempt_ms', TIME_MS, true),
    ],
    orderBy: 'created_ms, public_key, direction',
  },
  {
    name: 'messages',
    columns: [
      col('id', MESSAGE_ID),
      col('conversation', KEY),
      col('seq', int(1, Number.MAX_SAFE_INTEGER)),
      col('sender_seq', COUNT, true),
      col('direction', text(16, ['outgoing', 'incoming'])),
      col('sender', KEY),
      col('text', text(MAX_MESSAGE_TEXT_BYTES)),
      col('state', text(16, ['queued', 'stored', 'delivered', 'read'])),
      col('via', text(16, ['session', 'offline']), true),
      col('created_ms', TIME_MS),
      col('received_ms', TIME_MS, true),
      col('sent_ms', TIME_MS, true),
      col('stored_ms', TIME_MS, true),
      col('delivered_ms', TIME_MS, true),
      col('read_ms', TIME_MS, true),
      col('attempts', COUNT),
      col('last_attempt_ms', TIME_MS, true),
    ],
    orderBy: 'rowid',
  },
  {
    name: 'offline_bundles',
    columns: [
      col('head_target', TARGET),
      col('conversation', KEY),
      col('created_ms', TIME_MS),
      col('put_count', COUNT),
      col('last_put_ms', TIME_MS, true),
      col('acked_ms', TIME_MS, true),
    ],
    orderBy: 'created_ms, head_target',
  },
  {
    name: 'offline_bundle_parts',
    columns: [
      col('head_target', TARGET),
      col('part_index', int(0, 1_000)),
      col('target', TARGET),
      { name: 'value', type: { kind: 'bytes', minBytes: 0, maxBytes: 1_000 } },
    ],
    orderBy: 'head_target, part_index',
  },
  {
    name: 'offline_bundle_messages',
    columns: [col('head_target', TARGET), col('message_id', MESSAGE_ID)],
    orderBy: 'head_target, message_id',
  },
  {
    name: 'offline_fetched',
    columns: [col('head_target', TARGET), col('conversation', KEY), col('fetched_ms', TIME_MS)],
    orderBy: 'fetched_ms, head_target',
  },
  {
    name: 'prekeys',
    columns: [
      col('contact', KEY),
      col('prekey_id', int(0, 0xffff_ffff)),
      col('secret', bytes(32)),
      col('is_current', int(0, 1)),
      col('created_ms', TIME_MS),
    ],
    orderBy: 'contact, prekey_id',
  },
  {
    name: 'record_seqs',
    columns: [
      col('contact', KEY),
      col('author', text(8, ['own', 'theirs'])),
      col('epoch', COUNT),
      col('seq', COUNT),
      col('updated_ms', TIME_MS),
    ],
    orderBy: 'contact, author, epoch',
  },
  {
    name: 'kv',
    columns: [
      col('key', text(256)),
      { name: 'value', type: { kind: 'bytes', minBytes: 0, maxBytes: MAX_SETTING_VALUE_BYTES } },
      col('updated_ms', TIME_MS),
    ],
    orderBy: 'key',
    where: LOCAL_SETTINGS_WHERE,
  },
];

export const BACKUP_TABLE_BY_NAME: ReadonlyMap<string, BackupTable> = new Map(
  BACKUP_TABLES.map((table) => [table.name, table]),
);

/** Every carried row, table by table in insert order. One synchronous pass: a consistent snapshot. */
export function readBackupRows(ctx: StoreContext): BackupRow[] {
  return ctx.read('reading the store for a backup', () => {
    const rows: BackupRow[] = [];
    for (const table of BACKUP_TABLES) {
      const columns = table.columns.map((c) => c.name).join(', ');
      const where = table.where === undefined ? '' : ` WHERE ${table.where}`;
      const sql = `SELECT ${columns} FROM ${table.name}${where} ORDER BY ${table.orderBy}`;
      for (const values of ctx.db.prepare(sql).all()) rows.push({ table: table.name, values });
    }
    return rows;
  });
}

/**
 * Writes backup rows into a store that holds no chat data yet, all in one transaction (a failure leaves it
 * empty). The rows must already be validated (backup-store-codec.ts); SQLite's constraints check the rest.
 */
export function writeBackupRows(ctx: StoreContext, rows: Iterable<BackupRow>): number {
  return ctx.write('restoring a backup', () => {
    const hasData = ctx.db.prepare('SELECT 1 FROM contacts UNION ALL SELECT 1 FROM messages LIMIT 1').get();
    if (hasData !== undefined) throw badArgument('a backup is restored only into an empty chat store');
    const inserts = new Map(
      BACKUP_TABLES.map((table) => {
        const names = table.columns.map((c) => c.name);
        const sql = `INSERT INTO ${table.name} (${names.join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`;
        return [table.name, { statement: ctx.db.prepare(sql), names }] as const;
      }),
    );
    let count = 0;
    for (const row of rows) {
      const insert = inserts.get(row.table);
      if (insert === undefined) throw badArgument(`no table "${row.table}" in a backup`);
      const params: Record<string, SqlValue> = {};
      for (const name of insert.names) params[name] = row.values[name] ?? null;
      insert.statement.run(params);
      count++;
    }
    return count;
  });
}
