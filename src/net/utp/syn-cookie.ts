/**
 * SYN cookies for uTP: the sequence number of our SYN-ACK (the ST_STATE that answers an ST_SYN) is a keyed MAC
 * of who sent the SYN, so we keep no state for a SYN. The initiator's next packet acks that number
 * (ack_nr = cookie - 1, as BEP 29 initiators, libtorrent and ours, ack the ST_STATE's seq_nr minus one); only
 * someone who received our SYN-ACK at the SYN's address can send it, and only then does a connection exist.
 *
 *   cookie = first 16 bits of HMAC-SHA256(secret, LABEL ‖ host ‖ 0 ‖ port ‖ connection_id ‖ syn seq_nr)
 *
 * connection_id is the SYN's (the initiator's receive id; its later packets carry it + 1) and syn seq_nr is the
 * SYN's (its later packets start at seq_nr + 1), so the initiator's first packet after the SYN-ACK carries every
 * input. Secrets come from the injected Random and rotate every COOKIE_ROTATE_MS, lazily on use; the previous
 * one is still accepted, so a cookie lives between one and two rotations, long enough for an initiator that
 * retransmits its first packet until its connect timeout.
 *
 * Strength: 16 bits, because seq_nr is all a SYN-ACK can carry. A blind (spoofing) attacker guesses right once
 * in 32,768 packets (two live secrets), and what a right guess buys is one stranger connection under the
 * admission caps (admission.ts) that is evicted first; anyone who can receive at its address needs no guess.
 *
 * HMAC is computed as RFC 2104 defines it, H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), with the two padded keys
 * prepared once per secret and one-shot hashes: a third of createHmac's cost, which matters on a SYN flood
 * (the test checks the cookie against createHmac).
 */
import * as crypto from 'node:crypto';
import type { Clock, Random, UdpAddress } from '../../runtime/index.ts';

/** Domain separation: this MAC is used for nothing else. */
export const SYN_COOKIE_LABEL = 'dhtchat/utp-syn-cookie/v1';
/** How often the secret changes; a cookie is accepted for one to two of these. */
export const COOKIE_ROTATE_MS = 16_000;
const SECRET_BYTES = 32;
/** SHA-256's block size: HMAC pads its key to this. */
const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;
/** LABEL ‖ host (at most 45 characters of IPv6 text) ‖ 0 ‖ port ‖ id ‖ seq, with room to spare. */
const MAX_MESSAGE_BYTES = 128;

/** The SYN fields a cookie is bound to, as the SYN carried them. */
export interface SynIdentity {
  readonly remote: UdpAddress;
  /** The SYN's connection_id (the initiator's receive id). */
  readonly connectionId: number;
  /** The SYN's seq_nr. */
  readonly synSeq: number;
}

interface PaddedKey {
  /** (K ⊕ ipad) followed by room for the message: the inner hash input is assembled in place. */
  readonly inner: Buffer;
  /** (K ⊕ opad) followed by room for the inner digest. */
  readonly outer: Buffer;
}

export class SynCookies {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #rotateMs: number;
  #current: PaddedKey;
  #previous: PaddedKey;
  #rotatedAtMs: number;

  constructor(clock: Clock, random: Random, rotateMs = COOKIE_ROTATE_MS) {
    this.#clock = clock;
    this.#random = random;
    this.#rotateMs = rotateMs;
    this.#current = padKey(random.bytes(SECRET_BYTES));
    this.#previous = padKey(random.bytes(SECRET_BYTES));
    this.#rotatedAtMs = clock.monotonicMs();
  }

  /** The seq_nr to put in the SYN-ACK for this SYN. */
  issue(syn: SynIdentity): number {
    this.#rotate();
    return cookieOf(this.#current, syn);
  }

  /** True when `cookie` was issued for this SYN under the current or the previous secret. */
  isValid(cookie: number, syn: SynIdentity): boolean {
    this.#rotate();
    // Both always run: the timing does not tell which secret matched.
    const isCurrent = cookieOf(this.#current, syn) === cookie;
    const isPrevious = cookieOf(this.#previous, syn) === cookie;
    return isCurrent || isPrevious;
  }

  #rotate(): void {
    // Monotonic: only this endpoint checks its cookies.
    const elapsedMs = this.#clock.monotonicMs() - this.#rotatedAtMs;
    if (elapsedMs < this.#rotateMs) return;
    // After two or more periods the current secret is too old to keep even as "previous".
    this.#previous =
      elapsedMs >= 2 * this.#rotateMs ? padKey(this.#random.bytes(SECRET_BYTES)) : this.#current;
    this.#current = padKey(this.#random.bytes(SECRET_BYTES));
    this.#rotatedAtMs += Math.floor(elapsedMs / this.#rotateMs) * this.#rotateMs;
  }
}

function padKey(secret: Buffer): PaddedKey {
  if (secret.length > BLOCK_BYTES) secret = sha256(secret);
  const inner = Buffer.alloc(BLOCK_BYTES + MAX_MESSAGE_BYTES);
  const outer = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES);
  for (let i = 0; i < BLOCK_BYTES; i++) {
    const k = secret[i] ?? 0;
    inner[i] = k ^ 0x36;
    outer[i] = k ^ 0x5c;
  }
  return { inner, outer };
}

function cookieOf(key: PaddedKey, syn: SynIdentity): number {
  const m = key.inner;
  let at = BLOCK_BYTES;
  at += m.write(SYN_COOKIE_LABEL, at, 'latin1');
  // Host text is normalised by the transport (dotted quad, lower-case IPv6): one address, one spelling.
  at += m.write(syn.remote.host, at, Math.min(45, syn.remote.host.length), 'latin1');
  m[at++] = 0;
  at = m.writeUInt16BE(syn.remote.port & 0xffff, at);
  at = m.writeUInt16BE(syn.connectionId & 0xffff, at);
  at = m.writeUInt16BE(syn.synSeq & 0xffff, at);
  return finish(key, at).readUInt16BE(0);
}

function finish(key: PaddedKey, innerLength: number): Buffer {
  sha256(key.inner.subarray(0, innerLength)).copy(key.outer, BLOCK_BYTES);
  return sha256(key.outer);
}

/** One-shot SHA-256: crypto.hash (Node >= 20.12) is several times cheaper than createHash for a short input. */
function sha256(input: Buffer): Buffer {
  if (typeof crypto.hash === 'function') return crypto.hash('sha256', input, 'buffer');
  return crypto.createHash('sha256').update(input).digest();
}
