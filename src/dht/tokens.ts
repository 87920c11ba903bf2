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
import * as crypto from 'node:crypto';
import type { Clock, Random } from '../runtime/index.ts';
import { ipBytesOf } from './address-class.ts';
import { TOKEN_BYTES, TOKEN_ROTATE_MS, TOKEN_SECRET_BYTES } from './constants.ts';

/** Requester IPs whose bytes we keep parsed (every get_peers/get reply issues a token): bounded, emptied when full. */
const MAX_CACHED_IPS = 4_096;
/** secret ‖ IPv6 bytes ‖ a 20-byte target: the usual hash input fits here without allocating. */
const SCRATCH_BYTES = TOKEN_SECRET_BYTES + 16 + 20;

export class TokenIssuer {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #rotateMs: number;
  #current: Buffer;
  #previous: Buffer;
  #rotatedAtMs: number;
  readonly #ipBytes = new Map<string, Buffer>();
  readonly #scratch = Buffer.alloc(SCRATCH_BYTES);

  constructor(clock: Clock, random: Random, opts?: { rotateMs?: number }) {
    this.#clock = clock;
    this.#random = random;
    this.#rotateMs = opts?.rotateMs ?? TOKEN_ROTATE_MS;
    this.#current = random.bytes(TOKEN_SECRET_BYTES);
    this.#previous = random.bytes(TOKEN_SECRET_BYTES);
    this.#rotatedAtMs = clock.monotonicMs();
  }

  /** A token for this requester IP and this target (info-hash or item target). */
  issue(host: string, target: Buffer): Buffer {
    this.#rotate();
    return this.#tokenFor(this.#current, host, target);
  }

  /** True when the token was issued to this IP for this target under the current or the previous secret. */
  isValid(token: Buffer, host: string, target: Buffer): boolean {
    if (token.length !== TOKEN_BYTES) return false;
    this.#rotate();
    // Both comparisons always run, so the timing does not tell which secret matched.
    const current = crypto.timingSafeEqual(token, this.#tokenFor(this.#current, host, target));
    const previous = crypto.timingSafeEqual(token, this.#tokenFor(this.#previous, host, target));
    return current || previous;
  }

  #rotate(): void {
    // Monotonic: only we check our tokens (a peer just echoes one), so no other clock is involved.
    const elapsedMs = this.#clock.monotonicMs() - this.#rotatedAtMs;
    if (elapsedMs < this.#rotateMs) return;
    // After two or more periods of silence the current secret is too old to keep even as "previous".
    this.#previous = elapsedMs >= 2 * this.#rotateMs ? this.#random.bytes(TOKEN_SECRET_BYTES) : this.#current;
    this.#current = this.#random.bytes(TOKEN_SECRET_BYTES);
    this.#rotatedAtMs += Math.floor(elapsedMs / this.#rotateMs) * this.#rotateMs;
  }

  #tokenFor(secret: Buffer, host: string, target: Buffer): Buffer {
    let ip = this.#ipBytes.get(host);
    if (ip === undefined) {
      ip = ipBytesOf(host) ?? Buffer.from(host, 'utf8');
      if (this.#ipBytes.size >= MAX_CACHED_IPS) this.#ipBytes.clear();
      this.#ipBytes.set(host, ip);
    }
    const length = secret.length + ip.length + target.length;
    let input: Buffer;
    if (length <= SCRATCH_BYTES) {
      input = this.#scratch.subarray(0, length);
      secret.copy(input, 0);
      ip.copy(input, secret.length);
      target.copy(input, secret.length + ip.length);
    } else {
      input = Buffer.concat([secret, ip, target]);
    }
    return sha1(input).subarray(0, TOKEN_BYTES);
  }
}

/** One-shot SHA-1: crypto.hash (Node >= 20.12) is several times cheaper than createHash for a short input. */
function sha1(input: Buffer): Buffer {
  if (typeof crypto.hash === 'function') return crypto.hash('sha1', input, 'buffer');
  return crypto.createHash('sha1').update(input).digest();
}
