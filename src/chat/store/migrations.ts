/**
 * The chat database schema as an append-only list of migrations. `PRAGMA user_version` holds the number of the
 * last one applied; each migration runs in its own transaction together with the version bump, so a crash leaves
 * the schema at a whole version. Never edit a released migration: add the next one.
 *
 * Public keys are 32-byte BLOBs, message ids 16-byte BLOBs, times integer milliseconds since the Unix epoch from
 * the injected Clock. CHECK constraints repeat the TypeScript unions so that a bug cannot store a state the code
 * does not know. Small keyed tables are WITHOUT ROWID; `messages` keeps its rowid because rows are large (text up
 * to 16 KiB) and its primary key is random, so new rows append to the rowid tree and only the small id index
 * takes the random insert.
 */
import { ChatStoreErrorCode } from './store-errors.ts';
import { DhtchatError } from '../../runtime/index.ts';
import type { SqliteDatabase } from './sqlite.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const V1_INITIAL = `
CREATE TABLE contacts (
  public_key   BLOB PRIMARY KEY CHECK (length(public_key) = 32),
  name         TEXT UNIQUE,
  state        TEXT NOT NULL CHECK (state IN
                 ('pending-outgoing', 'pending-incoming', 'accepted', 'declined', 'blocked')),
  created_ms   INTEGER NOT NULL,
  updated_ms   INTEGER NOT NULL,
  last_seen_ms INTEGER,
  presence     TEXT NOT NULL DEFAULT 'offline' CHECK (presence IN ('online', 'away', 'offline')),
  presence_ms  INTEGER
) WITHOUT ROWID;

CREATE TABLE contact_endpoints (
  public_key    BLOB NOT NULL REFERENCES contacts (public_key) ON DELETE CASCADE,
  host          TEXT NOT NULL,
  port          INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  source        TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms  INTEGER NOT NULL,
  PRIMARY KEY (public_key, host, port)
) WITHOUT ROWID;

CREATE TABLE friend_requests (
  public_key      BLOB NOT NULL CHECK (length(public_key) = 32),
  direction       TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
  message         TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined')),
  created_ms      INTEGER NOT NULL,
  updated_ms      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_attempt_ms INTEGER,
  PRIMARY KEY (public_key, direction)
) WITHOUT ROWID;

CREATE TABLE request_rate (
  bucket          TEXT PRIMARY KEY,
  window_start_ms INTEGER NOT NULL,
  count           INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE messages (
  id           BLOB PRIMARY KEY CHECK (length(id) = 16),
  conversation BLOB NOT NULL REFERENCES contacts (public_key),
  seq          INTEGER NOT NULL,
  sender_seq   INTEGER,
  direction    TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
  sender       BLOB NOT NULL CHECK (length(sender) = 32),
  text         TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('queued', 'stored', 'delivered', 'read')),
  via          TEXT CHECK (via IN ('session', 'offline')),
  created_ms   INTEGER NOT NULL,
  received_ms  INTEGER,
  sent_ms      INTEGER,
  stored_ms    INTEGER,
  delivered_ms INTEGER,
  read_ms      INTEGER,
  attempts     INTEGER NOT NULL DEFAULT 0,
  last_attempt_ms INTEGER,
  UNIQUE (conversation, seq)
);

CREATE INDEX messages_outbox ON messages (conversation, seq)
  WHERE direction = 'outgoing' AND state IN ('queued', 'stored');

CREATE TABLE offline_bundles (
  head_target  BLOB PRIMARY KEY CHECK (length(head_target) = 20),
  conversation BLOB NOT NULL REFERENCES contacts (public_key),
  created_ms   INTEGER NOT NULL,
  put_count    INTEGER NOT NULL DEFAULT 0,
  last_put_ms  INTEGER,
  acked_ms     INTEGER
) WITHOUT ROWID;

CREATE INDEX offline_bundles_pending ON offline_bundles (conversation, created_ms) WHERE acked_ms IS NULL;

CREATE TABLE offline_bundle_parts (
  head_target BLOB NOT NULL REFERENCES offline_bundles (head_target) ON DELETE CASCADE,
  part_index  INTEGER NOT NULL CHECK (part_index >= 0),
  target      BLOB NOT NULL CHECK (length(target) = 20),
  value       BLOB NOT NULL CHECK (length(value) <= 1000),
  PRIMARY KEY (head_target, part_index)
) WITHOUT ROWID;

CREATE TABLE offline_bundle_messages (
  head_target BLOB NOT NULL REFERENCES offline_bundles (head_target) ON DELETE CASCADE,
  message_id  BLOB NOT NULL REFERENCES messages (id),
  PRIMARY KEY (head_target, message_id)
) WITHOUT ROWID;

CREATE INDEX offline_bundle_messages_message ON offline_bundle_messages (message_id);

CREATE TABLE offline_fetched (
  head_target  BLOB PRIMARY KEY CHECK (length(head_target) = 20),
  conversation BLOB NOT NULL,
  fetched_ms   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX offline_fetched_conversation ON offline_fetched (conversation, fetched_ms);

CREATE TABLE prekeys (
  contact    BLOB NOT NULL REFERENCES contacts (public_key) ON DELETE CASCADE,
  prekey_id  INTEGER NOT NULL,
  secret     BLOB NOT NULL,
  is_current INTEGER NOT NULL CHECK (is_current IN (0, 1)),
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (contact, prekey_id)
) WITHOUT ROWID;

CREATE TABLE record_seqs (
  contact    BLOB NOT NULL REFERENCES contacts (public_key) ON DELETE CASCADE,
  author     TEXT NOT NULL CHECK (author IN ('own', 'theirs')),
  epoch      INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (contact, author, epoch)
) WITHOUT ROWID;

CREATE TABLE kv (
  key        TEXT PRIMARY KEY,
  value      BLOB NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Contact names get two keys (src/chat/name-key.ts): names that read alike share one, and the store refuses a
 * second contact under it. They are filled in by Contacts.refreshNameKeys() when the store opens (keys need the
 * Unicode tables, not SQL). Not UNIQUE: a database from before may already hold "Alice" and "alice", and
 * ambiguous names are then refused where they are used rather than lost here. Also the name each friend gives
 * themself (a profile frame), kept apart from the name we gave them.
 */
const V2_NAME_KEYS = `
ALTER TABLE contacts ADD COLUMN name_key TEXT;
ALTER TABLE contacts ADD COLUMN name_skeleton_key TEXT;
ALTER TABLE contacts ADD COLUMN profile_name TEXT;
CREATE INDEX contacts_name_key ON contacts (name_key) WHERE name_key IS NOT NULL;
CREATE INDEX contacts_name_skeleton_key ON contacts (name_skeleton_key) WHERE name_skeleton_key IS NOT NULL;
`;

/**
 * File transfers (src/chat/files, docs/PROTOCOL.md "Files"), both directions. A transfer is (peer, direction,
 * id); the local id numbers it for the piece-hash list, which has its own table so that saving a transfer's
 * bitfield (often, while it runs) never rewrites a list of up to 2 MiB. Paths are this machine's: no backup
 * carries them.
 */
const V3_FILE_TRANSFERS = `
CREATE TABLE file_transfers (
  local_id        INTEGER PRIMARY KEY,
  id              BLOB NOT NULL CHECK (length(id) = 16),
  peer            BLOB NOT NULL CHECK (length(peer) = 32),
  direction       TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
  name            TEXT NOT NULL,
  size_bytes      INTEGER NOT NULL CHECK (size_bytes >= 0),
  piece_bytes     INTEGER NOT NULL CHECK (piece_bytes > 0),
  root            BLOB NOT NULL CHECK (length(root) = 32),
  state           TEXT NOT NULL CHECK (state IN
                    ('offered', 'accepted', 'complete', 'canceled', 'declined', 'failed')),
  reason          TEXT,
  path            TEXT,
  dir             TEXT,
  part_path       TEXT,
  source_mtime_ms INTEGER,
  bitfield        BLOB,
  is_settled      INTEGER NOT NULL DEFAULT 0 CHECK (is_settled IN (0, 1)),
  created_ms      INTEGER NOT NULL,
  updated_ms      INTEGER NOT NULL,
  done_ms         INTEGER,
  UNIQUE (peer, id)
);

CREATE INDEX file_transfers_peer ON file_transfers (peer, direction, state);

CREATE TABLE file_hash_lists (
  local_id INTEGER PRIMARY KEY REFERENCES file_transfers (local_id) ON DELETE CASCADE,
  hashes   BLOB NOT NULL
);
`;

/**
 * Private groups (docs/PROTOCOL.md "Groups"; src/chat/store/groups.ts, group-bundles.ts). A group's history is
 * its signed entries (ops and messages, each by hash, with its bytes so it can be forwarded, and for a message
 * we could open its text); `group_heads` is kept in step with inserts (an entry is stored only after its
 * parents), `group_boundaries` are the hashes a joined member's history starts after (it never holds them).
 * Epoch keys are ours (each at the oldest ratchet step still kept); frontiers are what each member said it has
 * and has read (delivery states). Member endpoints let us reach members who are not friends. The bundle tables
 * are the group's DHT mailbox, as the offline-bundle tables are a friend's.
 */
const V4_GROUPS = `
CREATE TABLE groups (
  group_id   BLOB PRIMARY KEY CHECK (length(group_id) = 32),
  state      TEXT NOT NULL CHECK (state IN ('invited', 'joining', 'member', 'left', 'removed', 'declined')),
  name       TEXT,
  inviter    BLOB CHECK (inviter IS NULL OR length(inviter) = 32),
  join_op    BLOB CHECK (join_op IS NULL OR length(join_op) = 32),
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE group_entries (
  hash        BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
  group_id    BLOB NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
  kind        TEXT NOT NULL CHECK (kind IN ('op', 'message')),
  author      BLOB NOT NULL CHECK (length(author) = 32),
  seq         INTEGER NOT NULL,
  lamport     INTEGER NOT NULL,
  created_ms  INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  parents     BLOB NOT NULL,
  epoch       BLOB,
  bytes       BLOB NOT NULL,
  text        TEXT,
  status      TEXT NOT NULL CHECK (status IN ('ok', 'hidden', 'foreign')),
  is_read     INTEGER NOT NULL DEFAULT 0 CHECK (is_read IN (0, 1))
);

CREATE INDEX group_entries_order ON group_entries (group_id, kind, lamport, hash);
CREATE INDEX group_entries_author ON group_entries (group_id, author, seq);

CREATE TABLE group_heads (
  group_id BLOB NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
  kind     TEXT NOT NULL CHECK (kind IN ('op', 'message')),
  hash     BLOB NOT NULL,
  lamport  INTEGER NOT NULL,
  PRIMARY KEY (group_id, kind, hash)
) WITHOUT ROWID;

CREATE TABLE group_boundaries (
  group_id BLOB NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
  hash     BLOB NOT NULL,
  lamport  INTEGER NOT NULL,
  PRIMARY KEY (group_id, hash)
) WITHOUT ROWID;

CREATE TABLE group_keys (
  group_id   BLOB NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
  epoch      BLOB NOT NULL CHECK (length(epoch) = 32),
  step       INTEGER NOT NULL CHECK (step >= 0),
  key        BLOB NOT NULL CHECK (length(key) = 32),
  mailbox    BLOB NOT NULL CHECK (length(mailbox) = 32),
  start_ms   INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (group_id, epoch)
) WITHOUT ROWID;

CREATE TABLE group_frontiers (
  group_id   BLOB NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
  member     BLOB NOT NULL CHECK (length(member) = 32),
  kind       TEXT NOT NULL CHECK (kind IN ('have', 'ops', 'read')),
  heads      BLOB NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (group_id, member, kind)
) WITHOUT ROWID;

CREATE TABLE group_invites_sent (
  group_id   BLOB NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
  invitee    BLOB NOT NULL CHECK (length(invitee) = 32),
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (group_id, invitee)
) WITHOUT ROWID;

CREATE TABLE group_member_endpoints (
  public_key   BLOB NOT NULL CHECK (length(public_key) = 32),
  host         TEXT NOT NULL,
  port         INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  last_seen_ms INTEGER NOT NULL,
  PRIMARY KEY (public_key, host, port)
) WITHOUT ROWID;

CREATE TABLE group_bundles (
  head_target BLOB PRIMARY KEY CHECK (length(head_target) = 20),
  group_id    BLOB NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
  epoch       BLOB NOT NULL CHECK (length(epoch) = 32),
  created_ms  INTEGER NOT NULL,
  put_count   INTEGER NOT NULL DEFAULT 0,
  last_put_ms INTEGER
) WITHOUT ROWID;

CREATE TABLE group_bundle_parts (
  head_target BLOB NOT NULL REFERENCES group_bundles (head_target) ON DELETE CASCADE,
  part_index  INTEGER NOT NULL CHECK (part_index >= 0),
  target      BLOB NOT NULL CHECK (length(target) = 20),
  value       BLOB NOT NULL CHECK (length(value) <= 1000),
  PRIMARY KEY (head_target, part_index)
) WITHOUT ROWID;

CREATE TABLE group_bundle_entries (
  head_target BLOB NOT NULL REFERENCES group_bundles (head_target) ON DELETE CASCADE,
  hash        BLOB NOT NULL,
  PRIMARY KEY (head_target, hash)
) WITHOUT ROWID;

CREATE TABLE group_fetched (
  head_target BLOB PRIMARY KEY CHECK (length(head_target) = 20),
  group_id    BLOB NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
  fetched_ms  INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Files offered to a group (docs/PROTOCOL.md "Group files"): a transfer may belong to a group (the group it was
 * offered in; an outgoing one's peer is then our own key), and a group message may be a file offer (the id of
 * the transfer it offers; its text column holds the file's name). Older rows are friends' transfers and text
 * messages: NULL in both.
 */
const V5_GROUP_FILES = `
ALTER TABLE file_transfers ADD COLUMN group_id BLOB CHECK (group_id IS NULL OR length(group_id) = 32);
CREATE INDEX file_transfers_group ON file_transfers (id) WHERE group_id IS NOT NULL;
ALTER TABLE group_entries ADD COLUMN file_id BLOB CHECK (file_id IS NULL OR length(file_id) = 16);
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial schema', sql: V1_INITIAL },
  { version: 2, name: 'contact name keys and profile names', sql: V2_NAME_KEYS },
  { version: 3, name: 'file transfers', sql: V3_FILE_TRANSFERS },
  { version: 4, name: 'private groups', sql: V4_GROUPS },
  { version: 5, name: 'group files', sql: V5_GROUP_FILES },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION; returns the versions applied. Refuses a database from a newer build. */
export function migrate(
  db: SqliteDatabase,
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  const current = Number(db.pragma('user_version', { simple: true }));
  const latest = migrations.length;
  if (current > latest) {
    throw new DhtchatError(
      ChatStoreErrorCode.tooNew,
      `chat database ${path} has schema version ${current}, newer than this dhtchat knows (${latest}); upgrade dhtchat`,
    );
  }
  const applied: number[] = [];
  for (const migration of migrations.slice(current)) {
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
    applied.push(migration.version);
  }
  return applied;
}
