/**
 * Contacts: who we know, in what relationship, how they were last reached and when they were last seen. The
 * last known endpoints are what a restarted daemon tries first (before any DHT poll), newest first.
 *
 * Names: the name we give a contact picks it on the command line, so no two contacts have names that read alike
 * (src/chat/name-key.ts: case, look-alike characters). Each named row carries its two name keys (indexed); a
 * name clashing with another contact's under either key is refused with CHAT_CONTACT_NAME_TAKEN, naming that
 * contact. The name a friend gives themself (their profile) is kept apart and never picks anyone.
 */
import { DhtchatError, type UdpAddress } from '../../runtime/index.ts';
import { checkName, NameErrorCode } from '../contact-name.ts';
import { encodeFriendCode } from '../friend-code.ts';
import { NAME_KEY_VERSION, type NameKeys, nameKeys } from '../name-key.ts';
import { type KeyValue, KvKey } from './kv.ts';
import type { SqlRow, Statement } from './sqlite.ts';
import { checkPublicKey, optionalNumber, type StoreContext } from './store-context.ts';
import { badArgument, ChatStoreErrorCode } from './store-errors.ts';

export const ContactState = {
  pendingOutgoing: 'pending-outgoing',
  pendingIncoming: 'pending-incoming',
  accepted: 'accepted',
  declined: 'declined',
  blocked: 'blocked',
} as const;
export type ContactState = (typeof ContactState)[keyof typeof ContactState];

export const Presence = { online: 'online', away: 'away', offline: 'offline' } as const;
export type Presence = (typeof Presence)[keyof typeof Presence];

export interface Contact {
  readonly publicKey: Buffer;
  readonly name: string | undefined;
  readonly state: ContactState;
  readonly createdMs: number;
  readonly updatedMs: number;
  readonly lastSeenMs: number | undefined;
  readonly presence: Presence;
  readonly presenceMs: number | undefined;
  /** The name the contact gives themself (their profile frame), if they sent one. */
  readonly profileName: string | undefined;
}

export interface ContactEndpoint extends UdpAddress {
  /** Where we learned it (for example 'session', 'record', 'lan'); the chat layer names the sources. */
  readonly source: string;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

/** How many endpoints are remembered per contact; the least recently seen are forgotten first. */
export const MAX_ENDPOINTS_PER_CONTACT = 8;
/** Where the store notes which NAME_KEY_VERSION made the stored keys. */

export class Contacts {
  readonly #ctx: StoreContext;
  /** Prepared once: every send and every received frame looks its contact up (preparing costs ~40 µs). */
  readonly #byKey: Statement;
  readonly #byName: Statement;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    this.#byKey = ctx.db.prepare('SELECT * FROM contacts WHERE public_key = ?');
    this.#byName = ctx.db.prepare('SELECT * FROM contacts WHERE name = ?');
  }

  /** Adds a contact or changes its state (and name, when given). Returns the stored contact. */
  upsert(publicKey: Uint8Array, state: ContactState, name?: string): Contact {
    const key = checkPublicKey(publicKey);
    const keys = name === undefined ? undefined : checkedKeys(name);
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('saving a contact', () => {
      if (name !== undefined && keys !== undefined) this.#assertNameFree(name, keys, key);
      this.#ctx.db
        .prepare(
          `INSERT INTO contacts (public_key, name, name_key, name_skeleton_key, state, created_ms, updated_ms)
           VALUES (@key, @name, @folded, @skeletonFirst, @state, @now, @now)
           ON CONFLICT (public_key) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms,
             name = coalesce(excluded.name, contacts.name),
             name_key = coalesce(excluded.name_key, contacts.name_key),
             name_skeleton_key = coalesce(excluded.name_skeleton_key, contacts.name_skeleton_key)`,
        )
        .run({ key, name: name ?? null, ...keyParams(keys), state, now });
      return this.#mustGet(key);
    });
  }

  get(publicKey: Uint8Array): Contact | undefined {
    const key = checkPublicKey(publicKey);
    return this.#ctx.read('reading a contact', () => {
      const row = this.#byKey.get(key);
      return row === undefined ? undefined : toContact(row);
    });
  }

  /** The contact with exactly this name. */
  findByName(name: string): Contact | undefined {
    return this.#ctx.read('reading a contact', () => {
      const row = this.#byName.get(name);
      return row === undefined ? undefined : toContact(row);
    });
  }

  /** Contacts whose names read like `name` (either name key equal), in list order; [] for no such contact. */
  findConfusable(name: string): Contact[] {
    const keys = nameKeys(name);
    return this.#ctx.read('reading contacts', () => this.#confusableRows(keys).map(toContact));
  }

  /** All contacts, optionally only those in the given states; ordered by name, unnamed last. */
  list(states?: readonly ContactState[]): Contact[] {
    return this.#ctx.read('listing contacts', () => {
      const rows = this.#ctx.db
        .prepare('SELECT * FROM contacts ORDER BY name IS NULL, name, created_ms, public_key')
        .all();
      const all = rows.map(toContact);
      return states === undefined ? all : all.filter((c) => states.includes(c.state));
    });
  }

  /** Throws CHAT_UNKNOWN_FRIEND when the contact does not exist. */
  setState(publicKey: Uint8Array, state: ContactState): Contact {
    const key = checkPublicKey(publicKey);
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('changing a contact', () => {
      this.#ctx.db
        .prepare('UPDATE contacts SET state = ?, updated_ms = ? WHERE public_key = ?')
        .run(state, now, key);
      return this.#mustGet(key);
    });
  }

  /** Gives the contact a name (undefined: none). Throws CHAT_NAME_INVALID or CHAT_CONTACT_NAME_TAKEN. */
  rename(publicKey: Uint8Array, name: string | undefined): Contact {
    const key = checkPublicKey(publicKey);
    const keys = name === undefined ? undefined : checkedKeys(name);
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('renaming a contact', () => {
      if (name !== undefined && keys !== undefined) this.#assertNameFree(name, keys, key);
      this.#ctx.db
        .prepare(
          `UPDATE contacts SET name = @name, name_key = @folded, name_skeleton_key = @skeletonFirst,
             updated_ms = @now WHERE public_key = @key`,
        )
        .run({ key, name: name ?? null, ...keyParams(keys), now });
      return this.#mustGet(key);
    });
  }

  /**
   * Records the name a friend gives themself; returns false (nothing written) when it did not change. The
   * caller validates it (it is remote input): the store only refuses a name that breaks the rules.
   */
  setProfileName(publicKey: Uint8Array, profileName: string | undefined): boolean {
    const key = checkPublicKey(publicKey);
    if (profileName !== undefined) checkName(profileName, "a friend's profile name");
    return this.#ctx.write('saving a profile name', () => {
      const current = this.#mustGet(key);
      if (current.profileName === profileName) return false;
      this.#ctx.db
        .prepare('UPDATE contacts SET profile_name = ? WHERE public_key = ?')
        .run(profileName ?? null, key);
      return true;
    });
  }

  /**
   * Computes the name keys of every named contact again when the rule that made them changed (a new Unicode
   * table or engine, see name-key.ts), or was never applied (a database from before name keys). Run at open.
   */
  refreshNameKeys(kv: KeyValue, opts: { isForced?: boolean } = {}): number {
    const version = Buffer.from(NAME_KEY_VERSION, 'utf8');
    if (opts.isForced !== true && kv.get(KvKey.nameKeyVersion)?.equals(version) === true) return 0;
    const refreshed = this.#ctx.write('computing contact name keys', () => {
      const rows = this.#ctx.db.prepare('SELECT public_key, name FROM contacts WHERE name IS NOT NULL').all();
      const update = this.#ctx.db.prepare(
        'UPDATE contacts SET name_key = @folded, name_skeleton_key = @skeletonFirst WHERE public_key = @key',
      );
      for (const row of rows)
        update.run({ key: row['public_key'], ...keyParams(nameKeys(String(row['name']))) });
      return rows.length;
    });
    kv.set(KvKey.nameKeyVersion, version);
    return refreshed;
  }

  /** Records presence; `online` also counts as seen now. */
  setPresence(publicKey: Uint8Array, presence: Presence): void {
    const key = checkPublicKey(publicKey);
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('saving presence', () => {
      const seen = presence === Presence.offline ? null : now;
      const result = this.#ctx.db
        .prepare(
          `UPDATE contacts SET presence = ?, presence_ms = ?, last_seen_ms = coalesce(?, last_seen_ms)
           WHERE public_key = ?`,
        )
        .run(presence, now, seen, key);
      if (result.changes === 0) throw unknownFriend(key);
    });
  }

  /** Remembers that the contact was reached at `address` now; keeps the MAX_ENDPOINTS_PER_CONTACT newest. */
  noteEndpoint(publicKey: Uint8Array, address: UdpAddress, source: string): void {
    const key = checkPublicKey(publicKey);
    if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65_535) {
      throw badArgument(`endpoint port ${address.port} is outside 1-65535`);
    }
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('saving an endpoint', () => {
      this.#mustGet(key);
      const db = this.#ctx.db;
      db.prepare(
        `INSERT INTO contact_endpoints (public_key, host, port, source, first_seen_ms, last_seen_ms)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (public_key, host, port) DO UPDATE SET source = excluded.source, last_seen_ms = excluded.last_seen_ms`,
      ).run(key, address.host, address.port, source, now, now);
      db.prepare(
        `DELETE FROM contact_endpoints WHERE public_key = @key AND (host, port) NOT IN
           (SELECT host, port FROM contact_endpoints WHERE public_key = @key
            ORDER BY last_seen_ms DESC, host, port LIMIT @keep)`,
      ).run({ key, keep: MAX_ENDPOINTS_PER_CONTACT });
    });
  }

  /** Last known endpoints, most recently seen first. */
  endpoints(publicKey: Uint8Array): ContactEndpoint[] {
    const key = checkPublicKey(publicKey);
    return this.#ctx.read('reading endpoints', () =>
      this.#ctx.db
        .prepare(
          'SELECT * FROM contact_endpoints WHERE public_key = ? ORDER BY last_seen_ms DESC, host, port',
        )
        .all(key)
        .map((row) => ({
          host: String(row['host']),
          port: Number(row['port']),
          source: String(row['source']),
          firstSeenMs: Number(row['first_seen_ms']),
          lastSeenMs: Number(row['last_seen_ms']),
        })),
    );
  }

  forgetEndpoint(publicKey: Uint8Array, address: UdpAddress): void {
    const key = checkPublicKey(publicKey);
    this.#ctx.write('forgetting an endpoint', () => {
      this.#ctx.db
        .prepare('DELETE FROM contact_endpoints WHERE public_key = ? AND host = ? AND port = ?')
        .run(key, address.host, address.port);
    });
  }

  #mustGet(key: Buffer): Contact {
    const row = this.#byKey.get(key);
    if (row === undefined) throw unknownFriend(key);
    return toContact(row);
  }

  #confusableRows(keys: NameKeys): SqlRow[] {
    return this.#ctx.db
      .prepare(
        `SELECT * FROM contacts WHERE name_key = @folded OR name_skeleton_key = @skeletonFirst
         ORDER BY name, created_ms, public_key`,
      )
      .all(keyParams(keys));
  }

  /** Another contact named alike: refused, naming it (its name is ours, checked when it was given). */
  #assertNameFree(name: string, keys: NameKeys, key: Buffer): void {
    const other = this.#confusableRows(keys)
      .map(toContact)
      .find((c) => !key.equals(c.publicKey));
    if (other === undefined) return;
    const who = `"${other.name ?? ''}" (${encodeFriendCode(other.publicKey)})`;
    throw new DhtchatError(
      NameErrorCode.taken,
      other.name === name
        ? `you already have a contact named ${who}`
        : `"${name}" reads like your contact ${who}: choose a name that cannot be taken for another`,
    );
  }
}

export function unknownFriend(key: Uint8Array): DhtchatError {
  return new DhtchatError(
    ChatStoreErrorCode.unknownFriend,
    `no contact with key ${Buffer.from(key).toString('hex').slice(0, 16)}…`,
  );
}

/** Names are how the CLI picks a contact: the rules are in contact-name.ts (CHAT_NAME_INVALID). */
function checkedKeys(name: string): NameKeys {
  checkName(name, 'a contact name');
  return nameKeys(name);
}

function keyParams(keys: NameKeys | undefined): { folded: string | null; skeletonFirst: string | null } {
  return { folded: keys?.folded ?? null, skeletonFirst: keys?.skeletonFirst ?? null };
}

function toContact(row: SqlRow): Contact {
  return {
    publicKey: row['public_key'] as Buffer,
    name: row['name'] === null ? undefined : String(row['name']),
    state: row['state'] as ContactState,
    createdMs: Number(row['created_ms']),
    updatedMs: Number(row['updated_ms']),
    lastSeenMs: optionalNumber(row['last_seen_ms']),
    presence: row['presence'] as Presence,
    presenceMs: optionalNumber(row['presence_ms']),
    profileName: row['profile_name'] === null ? undefined : String(row['profile_name']),
  };
}
