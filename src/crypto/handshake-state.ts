/**
 * Noise HandshakeState (§5.3) for any pattern of noise-patterns.ts, with 25519 and ChaChaPoly.
 *
 * Written the WireGuard way: writing and reading a message are each one loop over the message's tokens, one short
 * branch per token. Reading is remote input and returns a result; every failure, read or write, yields one error
 * code and leaves the state failed for good. DH outputs are wiped when each message ends, and ck and the
 * ephemeral private key when the handshake ends, either way.
 */
import type { KeyObject } from 'node:crypto';
import type { Random } from '../runtime/index.ts';
import { DhtchatError } from '../runtime/index.ts';
import type { CipherState } from './cipher-state.ts';
import { NOISE_HASHES } from './hash.ts';
import { NOISE_DHLEN, NOISE_MAX_MESSAGE_BYTES, NOISE_PSK_BYTES, NOISE_TAG_BYTES } from './labels.ts';
import { type HandshakePattern, keysNeeded, type NoiseToken, parseProtocolName } from './noise-patterns.ts';
import { SymmetricState } from './symmetric-state.ts';
import { type X25519KeyPair, x25519Dh, x25519Generate, x25519PublicKeyObject } from './x25519.ts';

export interface HandshakeOptions {
  /** A full protocol name, e.g. "Noise_IK_25519_ChaChaPoly_BLAKE2b". */
  protocolName: string;
  isInitiator: boolean;
  prologue: Uint8Array;
  /** Our static key pair, when the pattern sends or pre-shares it. */
  staticKeyPair?: X25519KeyPair;
  /** The peer's static public key, when the pattern pre-shares it (IK, NK, KK...). */
  remoteStaticPublicKey?: Uint8Array;
  /** Pre-shared keys, 32 bytes each, consumed in the order of the pattern's psk tokens. */
  psks?: readonly Uint8Array[];
  /** The source of ephemeral keys (cryptoRandom in production; fixed bytes replay the test vectors). */
  random: Random;
}

/** The result of reading a message: remote input never throws. */
export type NoiseReadResult = { ok: true; payload: Buffer } | { ok: false; code: string };

export interface NoiseTransport {
  send: CipherState;
  receive: CipherState;
  handshakeHash: Buffer;
}

export class HandshakeState {
  readonly pattern: HandshakePattern;
  readonly isInitiator: boolean;
  readonly #symmetric: SymmetricState;
  readonly #random: Random;
  readonly #s: X25519KeyPair | undefined;
  readonly #psks: Buffer[];
  #e: X25519KeyPair | undefined;
  #rs: Buffer | undefined;
  #re: Buffer | undefined;
  #messageIndex = 0;
  #transport: NoiseTransport | undefined;
  #failureCode: string | undefined;
  /** The DH outputs of the message being processed; wiped at its one exit, #endMessage. */
  #scratch: Buffer[] = [];
  /** re and rs imported once each, though each takes part in up to three DHs. */
  readonly #remoteKeyObjects = new WeakMap<Buffer, KeyObject>();

  constructor(opts: HandshakeOptions) {
    const protocol = parseProtocolName(opts.protocolName);
    const hash = protocol === undefined ? undefined : NOISE_HASHES[protocol.hashName];
    if (protocol === undefined || hash === undefined) {
      throw new DhtchatError('NOISE_UNKNOWN_PROTOCOL', `unsupported Noise protocol ${opts.protocolName}`);
    }
    this.pattern = protocol.pattern;
    this.isInitiator = opts.isInitiator;
    this.#random = opts.random;
    this.#s = opts.staticKeyPair;
    this.#rs = opts.remoteStaticPublicKey === undefined ? undefined : Buffer.from(opts.remoteStaticPublicKey);
    this.#psks = (opts.psks ?? []).map((psk) => Buffer.from(psk));
    this.#checkKeys();
    this.#symmetric = new SymmetricState(opts.protocolName, hash);
    this.#symmetric.mixHash(opts.prologue);
    // Pre-messages (§7.1): the initiator's known keys first, then the responder's. They hold only `s` here
    // (#checkKeys refuses a pre-shared `e`), so each token mixes in one static public key.
    for (const [isFromInitiator, tokens] of [
      [true, this.pattern.initiatorPre],
      [false, this.pattern.responderPre],
    ] as const) {
      const isMine = isFromInitiator === this.isInitiator;
      for (const _token of tokens) this.#symmetric.mixHash(isMine ? this.#needS().publicKey : this.#needRs());
    }
  }

  get isComplete(): boolean {
    return this.#transport !== undefined;
  }

  get failureCode(): string | undefined {
    return this.#failureCode;
  }

  /** True when the next message is ours to write. */
  get isMyTurn(): boolean {
    const isInitiatorTurn = this.#messageIndex % 2 === 0;
    return !this.isComplete && this.#failureCode === undefined && isInitiatorTurn === this.isInitiator;
  }

  /** The peer's static public key, once known (pre-shared or received). */
  get remoteStaticPublicKey(): Buffer | undefined {
    return this.#rs;
  }

  /** The split transport ciphers and h, once the handshake is complete. */
  get transport(): NoiseTransport | undefined {
    return this.#transport;
  }

  /** WriteMessage(payload): the next handshake message. Throws DhtchatError (local misuse or DH failure). */
  writeMessage(payload: Uint8Array): Buffer {
    const tokens = this.#beginMessage(true);
    const out: Buffer[] = [];
    const failure = this.#runMessage(
      tokens,
      (token) => {
        switch (token) {
          case 'e': {
            // e
            this.#e = x25519Generate(this.#random);
            out.push(this.#e.publicKey);
            this.#mixEphemeral(this.#e.publicKey);
            return;
          }
          case 's': {
            // s
            out.push(this.#symmetric.encryptAndHash(this.#needS().publicKey));
            return;
          }
          default:
            this.#mixToken(token);
        }
      },
      () => {
        const tagBytes = this.#symmetric.cipher.hasKey() ? NOISE_TAG_BYTES : 0;
        const totalBytes = out.reduce((sum, b) => sum + b.length, 0) + payload.length + tagBytes;
        if (totalBytes > NOISE_MAX_MESSAGE_BYTES) this.#throw('NOISE_MESSAGE_TOO_LARGE');
        out.push(this.#symmetric.encryptAndHash(payload));
      },
    );
    this.#endMessage(failure);
    if (failure !== undefined) throw new DhtchatError(failure, `Noise handshake write failed: ${failure}`);
    return Buffer.concat(out);
  }

  /** ReadMessage(message): the payload, or a failure code (after which the state is unusable). */
  readMessage(message: Uint8Array): NoiseReadResult {
    if (this.#failureCode !== undefined) return { ok: false, code: 'NOISE_STATE_FAILED' };
    const tokens = this.#beginMessage(false);
    if (message.length > NOISE_MAX_MESSAGE_BYTES) this.#fail('NOISE_MESSAGE_TOO_LARGE');
    if (this.#failureCode !== undefined) return { ok: false, code: this.#failureCode };
    let offset = 0;
    const take = (n: number): Buffer => {
      if (message.length - offset < n) this.#throw('NOISE_MESSAGE_TOO_SHORT');
      const bytes = Buffer.from(message.subarray(offset, offset + n));
      offset += n;
      return bytes;
    };
    let payload: Buffer = Buffer.alloc(0);
    const failure = this.#runMessage(
      tokens,
      (token) => {
        switch (token) {
          case 'e': {
            // e
            this.#re = take(NOISE_DHLEN);
            this.#mixEphemeral(this.#re);
            return;
          }
          case 's': {
            // s
            const sealed = take(NOISE_DHLEN + (this.#symmetric.cipher.hasKey() ? NOISE_TAG_BYTES : 0));
            this.#rs = this.#symmetric.decryptAndHash(sealed) ?? this.#throw('NOISE_DECRYPT_FAILED');
            return;
          }
          default:
            this.#mixToken(token);
        }
      },
      () => {
        payload =
          this.#symmetric.decryptAndHash(message.subarray(offset)) ?? this.#throw('NOISE_DECRYPT_FAILED');
      },
    );
    this.#endMessage(failure);
    return failure === undefined ? { ok: true, payload } : { ok: false, code: failure };
  }

  /** The DH and psk tokens, shared by both directions: ee, es, se, ss each mix one DH output into ck. */
  #mixToken(token: NoiseToken): void {
    switch (token) {
      case 'ee':
        // ee
        this.#mixDh(this.#e, this.#re);
        break;
      case 'es':
        // es: the initiator's ephemeral with the responder's static
        if (this.isInitiator) this.#mixDh(this.#e, this.#rs);
        else this.#mixDh(this.#s, this.#re);
        break;
      case 'se':
        // se: the initiator's static with the responder's ephemeral
        if (this.isInitiator) this.#mixDh(this.#s, this.#re);
        else this.#mixDh(this.#e, this.#rs);
        break;
      case 'ss':
        // ss
        this.#mixDh(this.#s, this.#rs);
        break;
      case 'psk': {
        // psk
        const psk = this.#psks.shift() ?? this.#throw('NOISE_MISSING_KEY');
        this.#symmetric.mixKeyAndHash(psk);
        psk.fill(0);
        break;
      }
      default:
        this.#throw('NOISE_BAD_PATTERN');
    }
  }

  #mixDh(local: X25519KeyPair | undefined, remote: Buffer | undefined): void {
    if (local === undefined || remote === undefined) this.#throw('NOISE_MISSING_KEY');
    let remoteKey = this.#remoteKeyObjects.get(remote);
    if (remoteKey === undefined) {
      remoteKey = x25519PublicKeyObject(remote) ?? this.#throw('NOISE_BAD_KEY');
      this.#remoteKeyObjects.set(remote, remoteKey);
    }
    const shared = x25519Dh(local, remoteKey) ?? this.#throw('NOISE_BAD_KEY');
    this.#scratch.push(shared);
    this.#symmetric.mixKey(shared);
  }

  /** §9.2: in a psk handshake every ephemeral public key is also mixed into the key. */
  #mixEphemeral(publicKey: Buffer): void {
    this.#symmetric.mixHash(publicKey);
    if (this.pattern.hasPsk) this.#symmetric.mixKey(publicKey);
  }

  /** Writing out of turn is local misuse (throws); reading out of turn is remote input (fails the state). */
  #beginMessage(isWrite: boolean): readonly NoiseToken[] {
    if (this.#failureCode !== undefined) this.#throw('NOISE_STATE_FAILED');
    if (isWrite && !this.isMyTurn) this.#throw('NOISE_WRONG_TURN');
    if (!isWrite && (this.isComplete || this.isMyTurn)) this.#fail('NOISE_WRONG_TURN');
    return this.pattern.messages[this.#messageIndex] ?? [];
  }

  /** Runs the token loop, then the payload; returns the failure code, or undefined when all went through. */
  #runMessage(
    tokens: readonly NoiseToken[],
    step: (token: NoiseToken) => void,
    payloadStep: () => void,
  ): string | undefined {
    try {
      for (const token of tokens) step(token);
      payloadStep();
      return undefined;
    } catch (error) {
      return error instanceof DhtchatError ? error.code : 'NOISE_INTERNAL_ERROR';
    }
  }

  /** The one exit of every message: wipes DH outputs; on success advances, on the last message splits. */
  #endMessage(failureCode: string | undefined): void {
    for (const b of this.#scratch) b.fill(0);
    this.#scratch = [];
    if (failureCode !== undefined) {
      this.#fail(failureCode);
      return;
    }
    this.#messageIndex++;
    if (this.#messageIndex < this.pattern.messages.length) return;
    const [toResponder, toInitiator] = this.#symmetric.split();
    const handshakeHash = this.#symmetric.handshakeHash;
    this.#transport = this.isInitiator
      ? { send: toResponder, receive: toInitiator, handshakeHash }
      : { send: toInitiator, receive: toResponder, handshakeHash };
    this.#wipeSecrets();
  }

  #fail(code: string): void {
    this.#failureCode ??= code;
    this.#wipeSecrets();
  }

  #wipeSecrets(): void {
    this.#symmetric.wipe();
    this.#e?.privateKey.fill(0);
    this.#e = undefined;
    for (const psk of this.#psks) psk.fill(0);
  }

  /** Inside a message, failures are thrown to the one exit (#runMessage), which turns them into the code. */
  #throw(code: string): never {
    throw new DhtchatError(code, `Noise handshake failed: ${code}`);
  }

  #needS(): X25519KeyPair {
    return this.#s ?? this.#throw('NOISE_MISSING_KEY');
  }

  #needRs(): Buffer {
    return this.#rs ?? this.#throw('NOISE_MISSING_KEY');
  }

  /** Local misuse is caught at construction: keys the pattern needs, psks of the right size and number. */
  #checkKeys(): void {
    const needs = keysNeeded(this.pattern, this.isInitiator);
    const problems = [
      needs.isStaticNeeded && this.#s === undefined ? 'our static key pair' : '',
      needs.isRemoteStaticNeeded && this.#rs === undefined ? "the peer's static public key" : '',
      this.#psks.length !== needs.pskCount || this.#psks.some((p) => p.length !== NOISE_PSK_BYTES)
        ? 'psks'
        : '',
      needs.hasPreEphemeral ? 'a pre-shared ephemeral (unsupported)' : '',
    ].filter((p) => p !== '');
    if (problems.length > 0) {
      throw new DhtchatError('NOISE_MISSING_KEY', `${this.pattern.name} needs ${problems.join(', ')}`);
    }
  }
}
