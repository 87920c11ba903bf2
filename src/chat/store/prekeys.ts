/**
 * One-time prekeys for offline forward secrecy, per friend: the current secret (whose public half goes into our
 * record for that friend) and the previous one, kept because a friend may have sealed to it just before our
 * rotation reached them. Rotating writes the new secret before it is published, and forgets the one before the
 * previous: once forgotten, messages sealed to it can no longer be opened by anyone, which is the point.
 */
import { checkPublicKey, type StoreContext } from './store-context.ts';
import { badArgument } from './store-errors.ts';

export interface Prekey {
  readonly id: number;
  readonly secret: Buffer;
  readonly isCurrent: boolean;
  readonly createdMs: number;
}

export class Prekeys {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Makes (id, secret) the current prekey for this friend; the old current becomes previous. */
  rotate(contact: Uint8Array, id: number, secret: Uint8Array): void {
    const key = checkPublicKey(contact, 'contact key');
    if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) throw badArgument('a prekey id is a uint32');
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('rotating a prekey', () => {
      const db = this.#ctx.db;
      if (
        db.prepare('SELECT 1 FROM prekeys WHERE contact = ? AND prekey_id = ?').get(key, id) !== undefined
      ) {
        throw badArgument(`prekey id ${id} was already used for this friend`);
      }
      db.prepare('DELETE FROM prekeys WHERE contact = ? AND is_current = 0').run(key);
      db.prepare('UPDATE prekeys SET is_current = 0 WHERE contact = ?').run(key);
      db.prepare(
        'INSERT INTO prekeys (contact, prekey_id, secret, is_current, created_ms) VALUES (?, ?, ?, 1, ?)',
      ).run(key, id, Buffer.from(secret), now);
    });
  }

  current(contact: Uint8Array): Prekey | undefined {
    return this.list(contact).find((p) => p.isCurrent);
  }

  /** The secret for a prekey id the friend sealed to, if we still hold it (current or previous). */
  secret(contact: Uint8Array, id: number): Buffer | undefined {
    return this.list(contact).find((p) => p.id === id)?.secret;
  }

  /** Current first, then previous. */
  list(contact: Uint8Array): Prekey[] {
    const key = checkPublicKey(contact, 'contact key');
    return this.#ctx.read('reading prekeys', () =>
      this.#ctx.db
        .prepare('SELECT * FROM prekeys WHERE contact = ? ORDER BY is_current DESC, created_ms DESC')
        .all(key)
        .map((row) => ({
          id: Number(row['prekey_id']),
          secret: row['secret'] as Buffer,
          isCurrent: Number(row['is_current']) === 1,
          createdMs: Number(row['created_ms']),
        })),
    );
  }
}
