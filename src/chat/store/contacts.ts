/**
 * Contacts: who we know, in what relationship, how they were last reached and when they were last seen. The
 * last known endpoints are what a restarted daemon tries first (before any DHT poll), newest first.
 */
import { DhtchatError, type UdpAddress } from '../../runtime/index.ts';
import type { SqlRow } from './sqlite.ts';
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
}

export interface ContactEndpoint extends UdpAddress {
  /** Where we learned it (for example 'session', 'record', 'lan'); the chat layer names the sources. */
  readonly source: string;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

/** How many endpoints are remembered per contact; the least recently seen are forgotten first. */
export const MAX_ENDPOINTS_PER_CONTACT = 8;
export const MAX_CONTACT_NAME_CHARS = 64;

export class Contacts {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Adds a contact or changes its state (and name, when given). Returns the stored contact. */
  upsert(publicKey: Uint8Array, state: ContactState, name?: string): Contact {
    const key = checkPublicKey(publicKey);
    if (name !== undefined) checkName(name);
    const now = this.#ctx.clock.now();
    return this.#ctx.write('saving a contact', () => {
      if (name !== undefined) this.#assertNameFree(name, key);
      this.#ctx.db
        .prepare(
          `INSERT INTO contacts (public_key, name, state, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (public_key) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms,
             name = coalesce(excluded.name, contacts.name)`,
        )
        .run(key, name ?? null, state, now, now);
      return this.#mustGet(key);
    });
  }

  get(publicKey: Uint8Array): Contact | undefined {
    const key = checkPublicKey(publicKey);
    return this.#ctx.read('reading a contact', () => {
      const row = this.#ctx.db.prepare('SELECT * FROM contacts WHERE public_key = ?').get(key);
      return row === undefined ? undefined : toContact(row);
    });
  }

  findByName(name: string): Contact | undefined {
    return this.#ctx.read('reading a contact', () => {
      const row = this.#ctx.db.prepare('SELECT * FROM contacts WHERE name = ?').get(name);
      return row === undefined ? undefined : toContact(row);
    });
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
    const now = this.#ctx.clock.now();
    return this.#ctx.write('changing a contact', () => {
      this.#ctx.db
        .prepare('UPDATE contacts SET state = ?, updated_ms = ? WHERE public_key = ?')
        .run(state, now, key);
      return this.#mustGet(key);
    });
  }

  rename(publicKey: Uint8Array, name: string | undefined): Contact {
    const key = checkPublicKey(publicKey);
    if (name !== undefined) checkName(name);
    const now = this.#ctx.clock.now();
    return this.#ctx.write('renaming a contact', () => {
      if (name !== undefined) this.#assertNameFree(name, key);
      this.#ctx.db
        .prepare('UPDATE contacts SET name = ?, updated_ms = ? WHERE public_key = ?')
        .run(name ?? null, now, key);
      return this.#mustGet(key);
    });
  }

  /** Records presence; `online` also counts as seen now. */
  setPresence(publicKey: Uint8Array, presence: Presence): void {
    const key = checkPublicKey(publicKey);
    const now = this.#ctx.clock.now();
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
    const now = this.#ctx.clock.now();
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
    const row = this.#ctx.db.prepare('SELECT * FROM contacts WHERE public_key = ?').get(key);
    if (row === undefined) throw unknownFriend(key);
    return toContact(row);
  }

  #assertNameFree(name: string, key: Buffer): void {
    const row = this.#ctx.db.prepare('SELECT public_key FROM contacts WHERE name = ?').get(name);
    if (row !== undefined && !key.equals(row['public_key'] as Buffer)) {
      throw new DhtchatError(ChatStoreErrorCode.nameTaken, `a contact named "${name}" already exists`);
    }
  }
}

export function unknownFriend(key: Uint8Array): DhtchatError {
  return new DhtchatError(
    ChatStoreErrorCode.unknownFriend,
    `no contact with key ${Buffer.from(key).toString('hex').slice(0, 16)}…`,
  );
}

/** Names are how the CLI picks a contact, so they must be printable, short, and never look like a friend code. */
function checkName(name: string): void {
  if (name.length === 0 || name.length > MAX_CONTACT_NAME_CHARS) {
    throw badArgument(`a contact name must be 1-${MAX_CONTACT_NAME_CHARS} characters`);
  }
  if (/[\u0000-\u001f\u007f]/.test(name) || name.trim() !== name) {
    throw badArgument('a contact name may not contain control characters or surrounding spaces');
  }
  if (name.toLowerCase().startsWith('dhtchat:'))
    throw badArgument('a contact name may not start with "dhtchat:"');
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
  };
}
