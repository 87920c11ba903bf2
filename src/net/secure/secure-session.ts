/**
 * The secure stream's sans-I/O core: a Noise handshake (IK when the initiator knows the responder's identity,
 * XX otherwise), then encrypted frames. It never touches a socket or a clock: feed it received bytes, it returns
 * events (bytes to send, the peer once authenticated, data, the peer's clean close, or one fatal error).
 *
 * Identities are Ed25519 keys; the Noise static keys are their X25519 forms. Each side also sends its Ed25519
 * public key, encrypted, as the payload of the handshake messages listed in IDENTITY_MESSAGES; the reader
 * accepts it only if it maps to the static key Noise authenticated. Remote input never throws out of here.
 */
import {
  type CipherState,
  DHTCHAT_NOISE_SUITE,
  DHTCHAT_PROLOGUE,
  type Ed25519KeyPair,
  ed25519PublicToX25519,
  ed25519SeedToX25519,
  HandshakeState,
  type X25519KeyPair,
  x25519FromPrivate,
} from '../../crypto/index.ts';
import { DhtchatError, type Random } from '../../runtime/index.ts';
import {
  DEFAULT_REKEY_AFTER_FRAMES,
  encodeFrame,
  FRAME_TYPES,
  FrameDecoder,
  MAX_FRAME_DATA_BYTES,
  openTransportFrameParts,
  SECURE_PATTERN_IDS,
  sealTransportFrame,
  type SecurePattern,
  channelPrologue,
  firstHandshakeByte,
  MAX_SECURE_CHANNEL,
} from './frame-format.ts';

/** Handshake messages whose payload is the writer's Ed25519 identity; every other payload is empty. */
const IDENTITY_MESSAGES: Readonly<Record<SecurePattern, readonly number[]>> = { IK: [0, 1], XX: [1, 2] };
const IDENTITY_BYTES = 32;
const EMPTY = Buffer.alloc(0);

export interface SecureSessionOptions {
  isInitiator: boolean;
  identity: Ed25519KeyPair;
  /** The peer's Ed25519 identity, if known: the initiator then uses IK (or XX with pattern: 'XX') and checks it. */
  remoteIdentityPublicKey?: Uint8Array;
  /** Force a pattern (initiator only); default IK when remoteIdentityPublicKey is given, else XX. */
  pattern?: SecurePattern;
  random: Random;
  prologue?: Uint8Array;
  /** The channel the initiator opens (frame-format.ts, 0..15; default 0, the chat session). */
  channel?: number;
  rekeyAfterFrames?: number;
  maxFrameBytes?: number;
  /**
   * Responder only: asked when the initiator's first frame names its pattern, before any DH is computed. False
   * ends the session with SECURE_STREAM_REFUSED, so a peer turned away costs a frame decode and nothing more
   * (the chat layer rations stranger XX handshakes per source here).
   */
  admitPattern?(pattern: SecurePattern): boolean;
}

export interface SecurePeer {
  identityPublicKey: Buffer;
  staticPublicKey: Buffer;
  handshakeHash: Buffer;
  pattern: SecurePattern;
  /** The channel the initiator named (0: the chat session). */
  channel: number;
}

export type SecureSessionEvent =
  | { kind: 'send'; bytes: Buffer }
  | { kind: 'established'; peer: SecurePeer }
  | { kind: 'data'; bytes: Buffer }
  | { kind: 'close' }
  | { kind: 'error'; code: string };

export type SecureSessionState = 'handshaking' | 'established' | 'remote-closed' | 'failed';

export class SecureSession {
  readonly #opts: SecureSessionOptions;
  readonly #decoder: FrameDecoder;
  readonly #rekeyAfterFrames: number;
  #handshake: HandshakeState | undefined;
  #pattern: SecurePattern | undefined;
  #channel = 0;
  #messageIndex = 0;
  #send: CipherState | undefined;
  #receive: CipherState | undefined;
  #sentFrames = 0;
  #receivedFrames = 0;
  #state: SecureSessionState = 'handshaking';
  #peer: SecurePeer | undefined;
  /** The peer's identity once its handshake message proved it; it becomes #peer when the handshake ends. */
  #remoteIdentity: Buffer | undefined;

  constructor(opts: SecureSessionOptions) {
    this.#opts = opts;
    this.#decoder = new FrameDecoder(opts.maxFrameBytes);
    this.#rekeyAfterFrames = opts.rekeyAfterFrames ?? DEFAULT_REKEY_AFTER_FRAMES;
  }

  get state(): SecureSessionState {
    return this.#state;
  }

  /** The authenticated peer, once the handshake has completed. */
  get peer(): SecurePeer | undefined {
    return this.#peer;
  }

  /** The initiator's first frame (empty for a responder). Call once, before anything else. */
  start(): Buffer[] {
    if (!this.#opts.isInitiator) return [];
    if (this.#handshake !== undefined || this.#state !== 'handshaking') {
      throw new DhtchatError('SECURE_STREAM_NOT_ESTABLISHED', 'start() was already called');
    }
    const remote = this.#opts.remoteIdentityPublicKey;
    const pattern = this.#opts.pattern ?? (remote === undefined ? 'XX' : 'IK');
    if (remote !== undefined && ed25519PublicToX25519(remote) === undefined) {
      throw new DhtchatError(
        'SECURE_STREAM_BAD_IDENTITY',
        'the expected remote identity is not an Ed25519 key',
      );
    }
    if (pattern === 'IK' && remote === undefined) {
      throw new DhtchatError('SECURE_STREAM_BAD_IDENTITY', 'IK needs the remote identity');
    }
    const channel = this.#opts.channel ?? 0;
    if (!Number.isInteger(channel) || channel < 0 || channel > MAX_SECURE_CHANNEL) {
      throw new DhtchatError('SECURE_STREAM_BAD_CHANNEL', `a channel is 0-${MAX_SECURE_CHANNEL}`);
    }
    this.#beginHandshake(pattern, channel);
    const message = this.#writeHandshake();
    return [encodeFrame(Buffer.concat([Buffer.of(firstHandshakeByte(pattern, channel)), message]))];
  }

  /** Feeds received bytes. After an 'error' event the session is dead and ignores further input. */
  receive(bytes: Uint8Array): SecureSessionEvent[] {
    if (this.#state === 'failed') return [];
    const events: SecureSessionEvent[] = [];
    // Frames as the parts they arrived in: transport frames are decrypted from them without being gathered.
    const decoded = this.#decoder.pushParts(bytes);
    if (!decoded.ok) return this.#failWith(events, decoded.code);
    try {
      for (const frame of decoded.frames) {
        if (this.#state === 'remote-closed') this.#throw('SECURE_STREAM_DATA_AFTER_CLOSE');
        if (this.#state === 'handshaking') {
          this.#onHandshakeFrame(frame.length === 1 ? (frame[0] as Buffer) : Buffer.concat(frame), events);
        } else this.#onTransportFrame(frame, events);
      }
    } catch (error) {
      return this.#failWith(
        events,
        error instanceof DhtchatError ? error.code : 'SECURE_STREAM_INTERNAL_ERROR',
      );
    }
    return events;
  }

  /** The underlying stream ended: clean only after the peer's authenticated CLOSE frame. */
  receiveEnd(): SecureSessionEvent[] {
    if (this.#state === 'failed' || this.#state === 'remote-closed') return [];
    return this.#failWith([], 'SECURE_STREAM_TRUNCATED');
  }

  /** Encrypts data into as many DATA frames as needed: the wire bytes. Local: throws if not established. */
  seal(data: Uint8Array): Buffer {
    return Buffer.concat(this.sealChunks(data));
  }

  /**
   * As seal(), but as chunks to write in order (a writev of them copies nothing: see sealTransportFrame). data
   * may be several buffers (a writev): they are framed as one byte sequence, full frames across their seams.
   */
  sealChunks(data: Uint8Array | readonly Uint8Array[]): Buffer[] {
    const parts = data instanceof Uint8Array ? [data] : data;
    const chunks: Buffer[] = [];
    let frame: Uint8Array[] = [];
    let frameBytes = 0;
    for (const part of parts) {
      for (let offset = 0; offset < part.length; ) {
        const end = Math.min(part.length, offset + MAX_FRAME_DATA_BYTES - frameBytes);
        frame.push(offset === 0 && end === part.length ? part : part.subarray(offset, end));
        frameBytes += end - offset;
        offset = end;
        if (frameBytes === MAX_FRAME_DATA_BYTES) {
          for (const chunk of this.#sealFrame(FRAME_TYPES.DATA, frame)) chunks.push(chunk);
          frame = [];
          frameBytes = 0;
        }
      }
    }
    // The rest, or one empty frame for empty data (as before: a write always makes a frame).
    if (frameBytes > 0 || chunks.length === 0) {
      for (const chunk of this.#sealFrame(FRAME_TYPES.DATA, frame)) chunks.push(chunk);
    }
    return chunks;
  }

  /** The authenticated end of our direction: the wire bytes of a CLOSE frame. */
  sealClose(): Buffer {
    return Buffer.concat(this.#sealFrame(FRAME_TYPES.CLOSE, EMPTY));
  }

  /** Forgets the keys (after an error or when the stream is destroyed). */
  wipe(): void {
    this.#send?.wipe();
    this.#receive?.wipe();
  }

  #sealFrame(type: number, data: Uint8Array | readonly Uint8Array[]): Buffer[] {
    const send = this.#send;
    if (send === undefined || this.#state === 'failed') {
      throw new DhtchatError('SECURE_STREAM_NOT_ESTABLISHED', 'the secure session is not established');
    }
    const frame = sealTransportFrame(send, type, data);
    if (++this.#sentFrames % this.#rekeyAfterFrames === 0) send.rekey();
    return frame;
  }

  #onTransportFrame(body: readonly Buffer[], events: SecureSessionEvent[]): void {
    const receive = this.#receive ?? this.#throw('SECURE_STREAM_INTERNAL_ERROR');
    const frame = openTransportFrameParts(receive, body);
    if (!frame.ok) this.#throw(frame.code);
    if (++this.#receivedFrames % this.#rekeyAfterFrames === 0) receive.rekey();
    if (frame.type === FRAME_TYPES.CLOSE) {
      this.#state = 'remote-closed';
      events.push({ kind: 'close' });
    } else {
      for (const bytes of frame.data) events.push({ kind: 'data', bytes });
    }
  }

  #onHandshakeFrame(frame: Buffer, events: SecureSessionEvent[]): void {
    let message = frame;
    if (this.#handshake === undefined) {
      // The responder's first frame names the pattern (low 4 bits) and the channel (high 4 bits).
      const first = frame[0] ?? 0;
      const pattern = patternOfId(first & 0x0f) ?? this.#throw('SECURE_STREAM_UNKNOWN_PATTERN');
      if (this.#opts.admitPattern?.(pattern) === false) this.#throw('SECURE_STREAM_REFUSED');
      this.#beginHandshake(pattern, first >> 4);
      message = frame.subarray(1);
    }
    const handshake = this.#handshake ?? this.#throw('SECURE_STREAM_INTERNAL_ERROR');
    const read = handshake.readMessage(message);
    if (!read.ok) this.#throw(read.code);
    this.#checkPayload(read.payload, handshake);
    this.#messageIndex++;
    if (handshake.isMyTurn) events.push({ kind: 'send', bytes: encodeFrame(this.#writeHandshake()) });
    if (handshake.isComplete) this.#establish(handshake, events);
  }

  #beginHandshake(pattern: SecurePattern, channel: number): void {
    const remote = this.#opts.remoteIdentityPublicKey;
    const remoteStatic = remote === undefined ? undefined : ed25519PublicToX25519(remote);
    this.#pattern = pattern;
    this.#channel = channel;
    this.#handshake = new HandshakeState({
      protocolName: `Noise_${pattern}_${DHTCHAT_NOISE_SUITE}`,
      isInitiator: this.#opts.isInitiator,
      prologue: channelPrologue(this.#opts.prologue ?? DHTCHAT_PROLOGUE, channel),
      staticKeyPair: staticKeyPairOf(this.#opts.identity),
      ...(pattern === 'IK' && this.#opts.isInitiator && remoteStatic !== undefined
        ? { remoteStaticPublicKey: remoteStatic }
        : {}),
      random: this.#opts.random,
    });
  }

  /** Writes our next handshake message (with our identity where IDENTITY_MESSAGES says so). */
  #writeHandshake(): Buffer {
    const handshake = this.#handshake ?? this.#throw('SECURE_STREAM_INTERNAL_ERROR');
    const isIdentity = IDENTITY_MESSAGES[this.#pattern ?? 'XX'].includes(this.#messageIndex);
    const message = handshake.writeMessage(isIdentity ? this.#opts.identity.publicKey : EMPTY);
    this.#messageIndex++;
    return message;
  }

  /** The identity payload must map to the static key Noise just authenticated, and be the one expected. */
  #checkPayload(payload: Buffer, handshake: HandshakeState): void {
    const isIdentity = IDENTITY_MESSAGES[this.#pattern ?? 'XX'].includes(this.#messageIndex);
    if (!isIdentity) {
      if (payload.length !== 0) this.#throw('SECURE_STREAM_BAD_PAYLOAD');
      return;
    }
    const staticKey = handshake.remoteStaticPublicKey;
    const mapped = payload.length === IDENTITY_BYTES ? ed25519PublicToX25519(payload) : undefined;
    if (mapped === undefined || staticKey === undefined || !mapped.equals(staticKey)) {
      this.#throw('SECURE_STREAM_BAD_IDENTITY');
    }
    const expected = this.#opts.remoteIdentityPublicKey;
    if (expected !== undefined && !Buffer.from(expected).equals(payload))
      this.#throw('SECURE_STREAM_WRONG_REMOTE_KEY');
    this.#remoteIdentity = Buffer.from(payload);
  }

  #establish(handshake: HandshakeState, events: SecureSessionEvent[]): void {
    const transport = handshake.transport;
    const identityPublicKey = this.#remoteIdentity;
    const staticPublicKey = handshake.remoteStaticPublicKey;
    if (transport === undefined || identityPublicKey === undefined || staticPublicKey === undefined) {
      this.#throw('SECURE_STREAM_INTERNAL_ERROR');
    }
    this.#send = transport.send;
    this.#receive = transport.receive;
    this.#peer = {
      identityPublicKey,
      staticPublicKey: Buffer.from(staticPublicKey),
      handshakeHash: Buffer.from(transport.handshakeHash),
      pattern: this.#pattern ?? 'XX',
      channel: this.#channel,
    };
    this.#handshake = undefined;
    this.#state = 'established';
    events.push({ kind: 'established', peer: this.#peer });
  }

  #failWith(events: SecureSessionEvent[], code: string): SecureSessionEvent[] {
    this.#state = 'failed';
    this.wipe();
    events.push({ kind: 'error', code });
    return events;
  }

  /** Inside frame handling, failures are thrown to receive()'s one exit, which turns them into an event. */
  #throw(code: string): never {
    throw new DhtchatError(code, `secure session failed: ${code}`);
  }
}

// Deriving the X25519 form of an identity costs a hash and a key import; a node reuses one identity for every
// session, so the form is kept with the identity object (and dies with it).
const staticKeyPairs = new WeakMap<Ed25519KeyPair, X25519KeyPair>();

function staticKeyPairOf(identity: Ed25519KeyPair): X25519KeyPair {
  let keyPair = staticKeyPairs.get(identity);
  if (keyPair === undefined) {
    keyPair = x25519FromPrivate(ed25519SeedToX25519(identity.seed));
    staticKeyPairs.set(identity, keyPair);
  }
  return keyPair;
}

function patternOfId(id: number | undefined): SecurePattern | undefined {
  for (const [pattern, patternId] of Object.entries(SECURE_PATTERN_IDS)) {
    if (patternId === id) return pattern as SecurePattern;
  }
  return undefined;
}
