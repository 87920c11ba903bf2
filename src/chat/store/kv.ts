/**
 * Small settings that must survive a restart, by name: the store's owner key, the DHT routing table snapshot,
 * and whatever else the chat layer needs that is not worth a table. Values are bytes; JSON helpers on top.
 */
import type { StoreContext } from './store-context.ts';

/** Well-known keys, so no two callers invent different spellings. */
export const KvKey = {
  ownPublicKey: 'own-public-key',
  routingTable: 'dht-routing-table',
  /** Which Unicode tables computed the contacts' name keys (contacts.ts refreshNameKeys): local, derived state. */
  nameKeyVersion: 'contacts/name-key-version',
} as const;

export class KeyValue {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  get(key: string): Buffer | undefined {
    return this.#ctx.read('reading a setting', () => {
      const row = this.#ctx.db.prepare('SELECT value FROM kv WHERE key = ?').get(key);
      return row === undefined ? undefined : (row['value'] as Buffer);
    });
  }

  set(key: string, value: Uint8Array): void {
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('saving a setting', () => {
      this.#ctx.db
        .prepare(
          `INSERT INTO kv (key, value, updated_ms) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms`,
        )
        .run(key, Buffer.from(value), now);
    });
  }

  delete(key: string): boolean {
    return this.#ctx.write(
      'deleting a setting',
      () => this.#ctx.db.prepare('DELETE FROM kv WHERE key = ?').run(key).changes > 0,
    );
  }

  getJson(key: string): unknown {
    const bytes = this.get(key);
    return bytes === undefined ? undefined : JSON.parse(bytes.toString('utf8'));
  }

  setJson(key: string, value: unknown): void {
    this.set(key, Buffer.from(JSON.stringify(value), 'utf8'));
  }
}
