/**
 * Noise SymmetricState (§5.2): the chaining key ck and handshake hash h, mixed with every DH output, public key
 * and payload of the handshake, around one CipherState.
 */
import { CipherState } from './cipher-state.ts';
import type { NoiseHash } from './hash.ts';

export class SymmetricState {
  readonly #hash: NoiseHash;
  readonly cipher = new CipherState();
  #chainingKey: Buffer;
  #handshakeHash: Buffer;

  /** InitializeSymmetric(protocol_name). */
  constructor(protocolName: string, hash: NoiseHash) {
    this.#hash = hash;
    const name = Buffer.from(protocolName, 'ascii');
    this.#handshakeHash = name.length <= hash.hashLen ? Buffer.concat([name], hash.hashLen) : hash.hash(name);
    this.#chainingKey = Buffer.from(this.#handshakeHash);
  }

  /** h: after the handshake, a unique id of the session (channel binding). */
  get handshakeHash(): Buffer {
    return this.#handshakeHash;
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [chainingKey, tempKey] = this.#hash.hkdf(this.#chainingKey, inputKeyMaterial, 2);
    this.#replaceChainingKey(chainingKey);
    this.#initializeCipher(tempKey);
  }

  mixHash(data: Uint8Array): void {
    this.#handshakeHash = this.#hash.hash(this.#handshakeHash, data);
  }

  /** For psk tokens (§9.2). */
  mixKeyAndHash(inputKeyMaterial: Uint8Array): void {
    const [chainingKey, tempHash, tempKey] = this.#hash.hkdf(this.#chainingKey, inputKeyMaterial, 3);
    this.#replaceChainingKey(chainingKey);
    if (tempHash !== undefined) this.mixHash(tempHash);
    this.#initializeCipher(tempKey);
  }

  encryptAndHash(plaintext: Uint8Array): Buffer {
    const ciphertext = this.cipher.encryptWithAd(this.#handshakeHash, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** The plaintext, or undefined when authentication fails (h is then left unchanged; the caller gives up). */
  decryptAndHash(ciphertext: Uint8Array): Buffer | undefined {
    const plaintext = this.cipher.decryptWithAd(this.#handshakeHash, ciphertext);
    if (plaintext !== undefined) this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split(): the two transport CipherStates, initiator→responder first. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = this.#hash.hkdf(this.#chainingKey, Buffer.alloc(0), 2);
    const pair: [CipherState, CipherState] = [new CipherState(k1), new CipherState(k2)];
    k1?.fill(0);
    k2?.fill(0);
    return pair;
  }

  /** Overwrites ck and the handshake cipher's key; h stays (it is public: a transcript hash). */
  wipe(): void {
    this.#chainingKey.fill(0);
    this.cipher.wipe();
  }

  #replaceChainingKey(next: Buffer | undefined): void {
    this.#chainingKey.fill(0);
    this.#chainingKey = Buffer.from(next ?? Buffer.alloc(this.#hash.hashLen));
    next?.fill(0);
  }

  /** HASHLEN 64 gives 64-byte temp keys; Noise §5.2 truncates them to 32. */
  #initializeCipher(tempKey: Buffer | undefined): void {
    if (tempKey === undefined) return;
    this.cipher.initializeKey(tempKey.subarray(0, 32));
    tempKey.fill(0);
  }
}
