/**
 * Noise CipherState (§5.1): a key k (or none) and a counter nonce n. With no key it passes plaintext through,
 * as the spec says, which is how handshake payloads before the first DH travel.
 */
import { DhtchatError } from '../runtime/index.ts';
import {
  chachaPolyDecrypt,
  chachaPolyDecryptParts,
  chachaPolyEncrypt,
  chachaPolyEncryptParts,
  chachaPolyNonce,
} from './aead.ts';
import { NOISE_KEY_BYTES, NOISE_MAX_NONCE } from './labels.ts';

/** Noise §4.2: REKEY encrypts 32 zero bytes under the reserved nonce 2^64 − 1. */
const REKEY_NONCE = chachaPolyNonce(0xffff_ffff_ffff_ffffn);
const EMPTY = Buffer.alloc(0);

export class CipherState {
  #key: Buffer | undefined;
  #nonce = 0;

  constructor(key?: Uint8Array) {
    if (key !== undefined) this.initializeKey(key);
  }

  /** InitializeKey(k): sets the key (copied) and resets the nonce. */
  initializeKey(key: Uint8Array): void {
    this.wipe();
    this.#key = Buffer.from(key.subarray(0, NOISE_KEY_BYTES));
    this.#nonce = 0;
  }

  hasKey(): boolean {
    return this.#key !== undefined;
  }

  /** The next nonce to be used (for tests and for rekey scheduling). */
  get nonce(): number {
    return this.#nonce;
  }

  /** SetNonce(n), for out-of-order transports; dhtchat's stream transport never calls it. */
  setNonce(n: number): void {
    this.#nonce = n;
  }

  /** EncryptWithAd: ciphertext ‖ tag, or the plaintext (copied) when there is no key. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Buffer {
    return Buffer.concat(this.encryptWithAdParts(ad, [plaintext]));
  }

  /** EncryptWithAd over a plaintext in parts, returned in parts (see chachaPolyEncryptParts). */
  encryptWithAdParts(ad: Uint8Array, parts: readonly Uint8Array[]): Buffer[] {
    if (this.#key === undefined) return parts.map((part) => Buffer.from(part));
    if (this.#nonce > NOISE_MAX_NONCE) {
      throw new DhtchatError('NOISE_NONCE_EXHAUSTED', 'nonce space exhausted');
    }
    const out = chachaPolyEncryptParts(this.#key, chachaPolyNonce(this.#nonce), ad, parts);
    this.#nonce++;
    return out;
  }

  /**
   * DecryptWithAd: the plaintext, or undefined when authentication fails (remote input). On failure n is not
   * incremented (§5.1); callers treat any failure as fatal for the session anyway.
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Buffer | undefined {
    if (this.#key === undefined) return Buffer.from(ciphertext);
    if (this.#nonce > NOISE_MAX_NONCE) return undefined;
    const out = chachaPolyDecrypt(this.#key, chachaPolyNonce(this.#nonce), ad, ciphertext);
    if (out !== undefined) this.#nonce++;
    return out;
  }

  /** DecryptWithAd over a ciphertext in parts, the plaintext in parts (see chachaPolyDecryptParts). */
  decryptWithAdParts(ad: Uint8Array, parts: readonly Uint8Array[]): Buffer[] | undefined {
    if (this.#key === undefined) return parts.map((part) => Buffer.from(part));
    if (this.#nonce > NOISE_MAX_NONCE) return undefined;
    const out = chachaPolyDecryptParts(this.#key, chachaPolyNonce(this.#nonce), ad, parts);
    if (out !== undefined) this.#nonce++;
    return out;
  }

  /** Rekey(): k = REKEY(k). The nonce is not reset (§4.2, §11.3). */
  rekey(): void {
    if (this.#key === undefined) return;
    const next = chachaPolyEncrypt(this.#key, REKEY_NONCE, EMPTY, Buffer.alloc(NOISE_KEY_BYTES));
    this.#key.set(next.subarray(0, NOISE_KEY_BYTES));
    next.fill(0);
  }

  /** Overwrites the key; afterwards the state has no key. */
  wipe(): void {
    this.#key?.fill(0);
    this.#key = undefined;
  }
}
