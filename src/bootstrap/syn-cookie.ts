/**
 * SYN-cookie transaction ids for the bootstrap server's pings: the first 4 bytes of SHA-1(secret ‖ ip ‖ port),
 * so the server keeps no per-ping state and a pong proves its sender received our ping at that address.
 *
 * Two secrets are valid at a time: the current one and the one before. Instead of a mutable pair rotated by a
 * timer, secret(n) = SHA-1(master ‖ n) for epoch n = floor(now / rotateMs): every worker process that shares the
 * master secret agrees on the secrets without messages, and a pong may arrive at a different worker than the one
 * that pinged. A cookie made in epoch n is accepted in epochs n and n + 1 (between rotateMs and 2 × rotateMs).
 */
import { DhtchatError } from '../runtime/index.ts';
import { createHash } from 'node:crypto';

export const COOKIE_BYTES = 4;

export class SynCookies {
  readonly #master: Buffer;
  readonly #rotateMs: number;
  #epoch = Number.NaN;
  #current: Buffer = Buffer.alloc(20);
  #previous: Buffer = Buffer.alloc(20);
  readonly #scratch = Buffer.alloc(COOKIE_BYTES);

  constructor(masterSecret: Buffer, rotateMs: number) {
    if (masterSecret.length < 16)
      throw new DhtchatError('BOOTSTRAP_BAD_OPTION', 'master secret must be at least 16 bytes');
    if (!(rotateMs > 0)) throw new DhtchatError('BOOTSTRAP_BAD_OPTION', 'rotateMs must be positive');
    this.#master = Buffer.from(masterSecret);
    this.#rotateMs = rotateMs;
  }

  /** Writes the 4-byte cookie for the compact address addr[offset .. offset+length) into out[0..4). */
  write(addr: Uint8Array, offset: number, length: number, nowMs: number, out: Uint8Array): void {
    this.#refresh(nowMs);
    cookieOf(this.#current, addr, offset, length, out);
  }

  /** Whether tid (4 bytes at src[tidOffset]) is a cookie of the current or previous secret for addr. */
  verify(
    src: Uint8Array,
    tidOffset: number,
    tidLength: number,
    addr: Uint8Array,
    offset: number,
    length: number,
    nowMs: number,
  ): boolean {
    if (tidLength !== COOKIE_BYTES) return false;
    this.#refresh(nowMs);
    cookieOf(this.#current, addr, offset, length, this.#scratch);
    if (equals4(this.#scratch, src, tidOffset)) return true;
    cookieOf(this.#previous, addr, offset, length, this.#scratch);
    return equals4(this.#scratch, src, tidOffset);
  }

  #refresh(nowMs: number): void {
    const epoch = Math.floor(nowMs / this.#rotateMs);
    if (epoch === this.#epoch) return;
    this.#current = this.#secret(epoch);
    this.#previous = this.#secret(epoch - 1);
    this.#epoch = epoch;
  }

  #secret(epoch: number): Buffer {
    const counter = Buffer.alloc(8);
    counter.writeDoubleBE(epoch);
    return createHash('sha1').update(this.#master).update(counter).digest();
  }
}

function cookieOf(secret: Buffer, addr: Uint8Array, offset: number, length: number, out: Uint8Array): void {
  const digest = createHash('sha1')
    .update(secret)
    .update(addr.subarray(offset, offset + length))
    .digest();
  for (let k = 0; k < COOKIE_BYTES; k++) out[k] = digest[k]!;
}

function equals4(a: Uint8Array, b: Uint8Array, offset: number): boolean {
  return a[0] === b[offset] && a[1] === b[offset + 1] && a[2] === b[offset + 2] && a[3] === b[offset + 3];
}
