/**
 * Write tokens for announce_peer (BEP 5) and put (BEP 44): proof that the writer received our get_peers/get
 * reply at the IP it writes from, so nobody can store on behalf of a spoofed address.
 * https://www.bittorrent.org/beps/bep_0005.html §announce_peer
 *
 * token = first 8 bytes of SHA-1(secret ‖ ip bytes ‖ target). The secret rotates every 5 minutes and the
 * previous one is still accepted, so a token lives 5 to 10 minutes (BEP 5: "tokens up to ten minutes old are
 * accepted"). Bound to the IP only, not the port: a NATed peer may write from another port than it read from.
 * Rotation is lazy (checked on use against the injected clock), so there is no timer to cancel.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock, Random } from '../runtime/index.ts';
import { ipBytesOf } from './address-class.ts';
import { TOKEN_BYTES, TOKEN_ROTATE_MS, TOKEN_SECRET_BYTES } from './constants.ts';

export class TokenIssuer {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #rotateMs: number;
  #current: Buffer;
  #previous: Buffer;
  #rotatedAtMs: number;

  constructor(clock: Clock, random: Random, opts?: { rotateMs?: number }) {
    this.#clock = clock;
    this.#random = random;
    this.#rotateMs = opts?.rotateMs ?? TOKEN_ROTATE_MS;
    this.#current = random.bytes(TOKEN_SECRET_BYTES);
    this.#previous = random.bytes(TOKEN_SECRET_BYTES);
    this.#rotatedAtMs = clock.now();
  }

  /** A token for this requester IP and this target (info-hash or item target). */
  issue(host: string, target: Buffer): Buffer {
    this.#rotate();
    return tokenFor(this.#current, host, target);
  }

  /** True when the token was issued to this IP for this target under the current or the previous secret. */
  isValid(token: Buffer, host: string, target: Buffer): boolean {
    if (token.length !== TOKEN_BYTES) return false;
    this.#rotate();
    // Both comparisons always run, so the timing does not tell which secret matched.
    const current = timingSafeEqual(token, tokenFor(this.#current, host, target));
    const previous = timingSafeEqual(token, tokenFor(this.#previous, host, target));
    return current || previous;
  }

  #rotate(): void {
    const elapsedMs = this.#clock.now() - this.#rotatedAtMs;
    if (elapsedMs < this.#rotateMs) return;
    // After two or more periods of silence the current secret is too old to keep even as "previous".
    this.#previous = elapsedMs >= 2 * this.#rotateMs ? this.#random.bytes(TOKEN_SECRET_BYTES) : this.#current;
    this.#current = this.#random.bytes(TOKEN_SECRET_BYTES);
    this.#rotatedAtMs += Math.floor(elapsedMs / this.#rotateMs) * this.#rotateMs;
  }
}

function tokenFor(secret: Buffer, host: string, target: Buffer): Buffer {
  const ip = ipBytesOf(host) ?? Buffer.from(host, 'utf8');
  return createHash('sha1').update(secret).update(ip).update(target).digest().subarray(0, TOKEN_BYTES);
}
