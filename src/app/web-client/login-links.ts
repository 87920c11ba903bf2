/**
 * One-time login links: `http://127.0.0.1:<port>/login?token=<32 random bytes, hex>`. The daemon prints one on
 * its terminal at start, and `dhtchat web` asks it for a fresh one (through the bearer-token API). A token works
 * once and for LOGIN_LINK_TTL_MS; opening it sets the browser's session cookie (web-sessions.ts), so the token
 * itself never reaches the page's JavaScript or its storage. Tokens live in memory only; a few unused ones are
 * kept (the oldest is dropped first).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const LOGIN_LINK_TTL_MS = 60 * 60_000;
const MAX_UNUSED_LINKS = 8;
const TOKEN_BYTES = 32;

interface Pending {
  /** SHA-256 of the token: compared in constant time, and a memory dump shows no usable token. */
  readonly hash: Buffer;
  readonly expiresMs: number;
}

export class LoginLinks {
  readonly #pending: Pending[] = [];
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A new token (hex) for a login link. */
  create(): string {
    const token = randomBytes(TOKEN_BYTES).toString('hex');
    this.#pending.push({ hash: hashOf(token), expiresMs: this.#now() + LOGIN_LINK_TTL_MS });
    while (this.#pending.length > MAX_UNUSED_LINKS) this.#pending.shift();
    return token;
  }

  /** True once for a token we made that has not expired; it is gone afterwards either way. */
  consume(token: string): boolean {
    if (!/^[0-9a-f]{64}$/.test(token)) return false;
    const hash = hashOf(token);
    const now = this.#now();
    const index = this.#pending.findIndex((p) => timingSafeEqual(p.hash, hash));
    if (index < 0) return false;
    const [found] = this.#pending.splice(index, 1);
    return found !== undefined && found.expiresMs > now;
  }
}

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
