/**
 * Fuzz target: the Noise and secure-stream decoders, 100,000+ mutated messages in all, from a seed (printed on
 * failure). Nothing may throw out of a decoder; anything that still authenticates must be exactly what was sent.
 *
 *   handshake  — mutated IK message 1 into fresh responders, mutated XX message 2 into fresh initiators
 *                (each needs a fresh state and its DH work, so they are the smaller share)
 *   transport  — mutated frame streams through FrameDecoder (in random chunkings) and openTransportFrame
 *   session    — random and mutated bytes into a fresh responder SecureSession
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CipherState, ed25519FromSeed, HandshakeState, x25519FromPrivate } from '../../src/crypto/index.ts';
import {
  FRAME_TYPES,
  FrameDecoder,
  openTransportFrame,
  SecureSession,
  sealTransportFrame,
} from '../../src/net/secure/index.ts';
import { cryptoRandom, SeededRandom } from '../../src/runtime/index.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261125);
const HANDSHAKE_CASES = 2_000;
const TRANSPORT_CASES = 92_000;
const SESSION_CASES = 10_000;

/** xorshift32: a fast, seeded source of mutation choices. */
function prng(seed: number): (maxExclusive: number) => number {
  let x = seed >>> 0 || 1;
  return (maxExclusive) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % maxExclusive;
  };
}

/** One to three random mutations: bit flip, byte set, truncate, insert, delete, duplicate a slice. */
function mutate(input: Buffer, rand: (n: number) => number): Buffer {
  let out = Buffer.from(input);
  const count = 1 + rand(3);
  for (let i = 0; i < count; i++) {
    const at = rand(out.length + 1);
    switch (rand(6)) {
      case 0:
        if (out.length > 0) out[at % out.length] = (out[at % out.length] ?? 0) ^ (1 << rand(8));
        break;
      case 1:
        if (out.length > 0) out[at % out.length] = rand(256);
        break;
      case 2:
        out = out.subarray(0, at);
        break;
      case 3:
        out = Buffer.concat([out.subarray(0, at), Buffer.from([rand(256), rand(256)]), out.subarray(at)]);
        break;
      case 4:
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + rand(4))]);
        break;
      default:
        out = Buffer.concat([out, out.subarray(at, at + 1 + rand(40))]);
    }
  }
  return out;
}

const alice = ed25519FromSeed(Buffer.alloc(32, 0xa1));
const bob = ed25519FromSeed(Buffer.alloc(32, 0xb0));
const bobX = x25519FromPrivate(Buffer.alloc(32, 0xb1));
const aliceX = x25519FromPrivate(Buffer.alloc(32, 0xa2));
const prologue = Buffer.from('dhtchat/1');

function noThrow(what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    assert.fail(`${what} threw (FUZZ_SEED=${SEED}): ${(error as Error).stack}`);
  }
}

test(`noise fuzz: ${HANDSHAKE_CASES + TRANSPORT_CASES + SESSION_CASES} mutated messages, nothing escapes`, () => {
  const rand = prng(SEED);
  const random = new SeededRandom(SEED);
  let authenticated = 0;

  // Handshake messages.
  const state = (isInitiator: boolean, pattern: 'IK' | 'XX'): HandshakeState =>
    new HandshakeState({
      protocolName: `Noise_${pattern}_25519_ChaChaPoly_BLAKE2b`,
      isInitiator,
      prologue,
      random: cryptoRandom,
      staticKeyPair: isInitiator ? aliceX : bobX,
      ...(isInitiator && pattern === 'IK' ? { remoteStaticPublicKey: bobX.publicKey } : {}),
    });
  const ikMessage1 = state(true, 'IK').writeMessage(Buffer.from('hello'));
  const xxInitiator = state(true, 'XX');
  const xxResponder = state(false, 'XX');
  xxResponder.readMessage(xxInitiator.writeMessage(Buffer.alloc(0)));
  const xxMessage2 = xxResponder.writeMessage(Buffer.from('identity'));
  for (let i = 0; i < HANDSHAKE_CASES; i++) {
    const isIk = i % 2 === 0;
    const reader = isIk ? state(false, 'IK') : state(true, 'XX');
    if (!isIk) reader.writeMessage(Buffer.alloc(0));
    const bad = mutate(isIk ? ikMessage1 : xxMessage2, rand);
    noThrow('HandshakeState.readMessage', () => {
      const result = reader.readMessage(bad);
      if (result.ok) {
        authenticated++;
        assert.equal(typeof result.payload.length, 'number');
      } else {
        assert.match(result.code, /^NOISE_[A-Z_]+$/);
        assert.equal(reader.failureCode, result.code);
      }
    });
  }

  // Transport frames: three frames sealed under one key, mutated, then decoded in random chunks.
  const key = random.bytes(32);
  const sender = new CipherState(key);
  // (the second frame is above the small-frame size, so it is sealed as separate chunks)
  const plaintexts = [Buffer.from('first frame'), Buffer.alloc(5000, 7), Buffer.alloc(0)];
  const stream = Buffer.concat([
    ...sealTransportFrame(sender, FRAME_TYPES.DATA, plaintexts[0] ?? Buffer.alloc(0)),
    ...sealTransportFrame(sender, FRAME_TYPES.DATA, plaintexts[1] ?? Buffer.alloc(0)),
    ...sealTransportFrame(sender, FRAME_TYPES.CLOSE, Buffer.alloc(0)),
  ]);
  for (let i = 0; i < TRANSPORT_CASES; i++) {
    const bad = mutate(stream, rand);
    const decoder = new FrameDecoder(rand(4) === 0 ? 200 : undefined);
    const receiver = new CipherState(key);
    noThrow('FrameDecoder/openTransportFrame', () => {
      let index = 0;
      for (let offset = 0; offset < bad.length; ) {
        const size = 1 + rand(bad.length);
        const decoded = decoder.push(bad.subarray(offset, offset + size));
        offset += size;
        if (!decoded.ok) return;
        for (const body of decoded.frames) {
          const frame = openTransportFrame(receiver, body);
          if (!frame.ok) return;
          // Authenticity: a frame that opens is the one sent at that position.
          authenticated++;
          if (frame.type === FRAME_TYPES.DATA) assert.deepEqual(frame.data, plaintexts[index]);
          else assert.equal(index, 2);
          index++;
        }
      }
    });
  }

  // Whole sessions: garbage and mutated first frames into fresh responders (no DH unless the pattern id is right).
  const [validFirst] = new SecureSession({
    isInitiator: true,
    identity: alice,
    random,
    remoteIdentityPublicKey: bob.publicKey,
  }).start();
  for (let i = 0; i < SESSION_CASES; i++) {
    const responder = new SecureSession({ isInitiator: false, identity: bob, random });
    const input =
      i % 10 === 0 && validFirst !== undefined
        ? mutate(validFirst, rand)
        : Buffer.from(Array.from({ length: rand(80) }, () => rand(256)));
    noThrow('SecureSession.receive', () => {
      const events = [...responder.receive(input), ...responder.receiveEnd()];
      assert.ok(
        events.every((e) => e.kind !== 'data'),
        'no data before a handshake',
      );
    });
  }
  assert.ok(authenticated >= 0);
});
