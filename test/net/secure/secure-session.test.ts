/** The sans-I/O secure session: IK/XX, identities, framing, rekey, and every way a frame can go wrong. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ed25519FromSeed,
  HandshakeState,
  x25519FromPrivate,
  ed25519SeedToX25519,
} from '../../../src/crypto/index.ts';
import {
  SecureSession,
  type SecureSessionEvent,
  type SecureSessionOptions,
} from '../../../src/net/secure/index.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';

const random = new SeededRandom('secure-session');
const alice = ed25519FromSeed(Buffer.alloc(32, 0xa1));
const bob = ed25519FromSeed(Buffer.alloc(32, 0xb0));
const mallory = ed25519FromSeed(Buffer.alloc(32, 0x66));

type Extra = Partial<SecureSessionOptions>;

interface Connected {
  initiator: SecureSession;
  responder: SecureSession;
  initiatorEvents: SecureSessionEvent[];
  responderEvents: SecureSessionEvent[];
}

/** Runs the handshake by shuttling 'send' events; returns both sessions and every non-send event. */
function connect(initiatorExtra: Extra = {}, responderExtra: Extra = {}): Connected {
  const initiator = new SecureSession({ isInitiator: true, identity: alice, random, ...initiatorExtra });
  const responder = new SecureSession({ isInitiator: false, identity: bob, random, ...responderExtra });
  const initiatorEvents: SecureSessionEvent[] = [];
  const responderEvents: SecureSessionEvent[] = [];
  let toResponder = initiator.start();
  for (let round = 0; round < 5 && toResponder.length > 0; round++) {
    const toInitiator: Buffer[] = [];
    for (const bytes of toResponder) {
      for (const e of responder.receive(bytes)) {
        if (e.kind === 'send') toInitiator.push(e.bytes);
        else responderEvents.push(e);
      }
    }
    toResponder = [];
    for (const bytes of toInitiator) {
      for (const e of initiator.receive(bytes)) {
        if (e.kind === 'send') toResponder.push(e.bytes);
        else initiatorEvents.push(e);
      }
    }
  }
  return { initiator, responder, initiatorEvents, responderEvents };
}

function established(): { initiator: SecureSession; responder: SecureSession } {
  const c = connect({ remoteIdentityPublicKey: bob.publicKey });
  assert.equal(c.initiator.state, 'established');
  assert.equal(c.responder.state, 'established');
  return c;
}

const errorOf = (events: SecureSessionEvent[]): string | undefined =>
  events.find((e): e is { kind: 'error'; code: string } => e.kind === 'error')?.code;

describe('SecureSession handshake', () => {
  for (const [name, extra] of [
    ['IK', { remoteIdentityPublicKey: bob.publicKey }],
    ['XX', {}],
    ['XX with an expected identity', { remoteIdentityPublicKey: bob.publicKey, pattern: 'XX' as const }],
  ] as const) {
    test(`${name}: both sides learn each other's Ed25519 identity and agree on h`, () => {
      const c = connect(extra);
      const a = c.initiatorEvents.find((e) => e.kind === 'established');
      const b = c.responderEvents.find((e) => e.kind === 'established');
      assert.ok(a?.kind === 'established' && b?.kind === 'established');
      assert.deepEqual(a.peer.identityPublicKey, bob.publicKey);
      assert.deepEqual(b.peer.identityPublicKey, alice.publicKey);
      assert.deepEqual(a.peer.handshakeHash, b.peer.handshakeHash);
      assert.equal(a.peer.pattern, name.slice(0, 2));
      assert.deepEqual(b.peer.staticPublicKey, x25519FromPrivate(ed25519SeedToX25519(alice.seed)).publicKey);
    });
  }

  test('IK to an impostor: the impostor cannot read message 1', () => {
    const c = connect({ remoteIdentityPublicKey: bob.publicKey }, { identity: mallory });
    assert.equal(errorOf(c.responderEvents), 'NOISE_DECRYPT_FAILED');
    assert.equal(c.initiator.state, 'handshaking');
  });

  test('XX expecting bob but reaching mallory: the initiator rejects and never sends its identity', () => {
    const c = connect({ remoteIdentityPublicKey: bob.publicKey, pattern: 'XX' }, { identity: mallory });
    assert.equal(errorOf(c.initiatorEvents), 'SECURE_STREAM_WRONG_REMOTE_KEY');
    assert.equal(c.responder.state, 'handshaking', 'message 3 was never sent');
  });

  test('an identity that does not match the Noise static key is refused', () => {
    const responder = new SecureSession({ isInitiator: false, identity: bob, random });
    const forger = new HandshakeState({
      protocolName: 'Noise_XX_25519_ChaChaPoly_BLAKE2b',
      isInitiator: true,
      prologue: Buffer.from('dhtchat/1'),
      staticKeyPair: x25519FromPrivate(ed25519SeedToX25519(mallory.seed)),
      random,
    });
    const frame = (body: Buffer): Buffer =>
      Buffer.concat([Buffer.of(body.length >> 8, body.length & 255), body]);
    const m1 = Buffer.concat([Buffer.of(2), forger.writeMessage(Buffer.alloc(0))]);
    const reply = responder.receive(frame(m1)).find((e) => e.kind === 'send');
    assert.ok(reply?.kind === 'send');
    assert.equal(forger.readMessage(reply.bytes.subarray(2)).ok, true);
    // Mallory claims to be alice.
    const events = responder.receive(frame(forger.writeMessage(alice.publicKey)));
    assert.equal(errorOf(events), 'SECURE_STREAM_BAD_IDENTITY');
  });

  test('a different prologue (protocol version) fails the handshake', () => {
    const c = connect({ remoteIdentityPublicKey: bob.publicKey, prologue: Buffer.from('dhtchat/2') });
    assert.equal(errorOf(c.responderEvents), 'NOISE_DECRYPT_FAILED');
  });

  test('an unknown pattern id is refused; a forged pattern id fails Noise', () => {
    const responder = new SecureSession({ isInitiator: false, identity: bob, random });
    assert.equal(errorOf(responder.receive(Buffer.from([0, 1, 9]))), 'SECURE_STREAM_UNKNOWN_PATTERN');
    const initiator = new SecureSession({
      isInitiator: true,
      identity: alice,
      random,
      remoteIdentityPublicKey: bob.publicKey,
    });
    const [m1] = initiator.start();
    assert.ok(m1 !== undefined);
    const forged = Buffer.from(m1);
    forged[2] = 2; // IK message claimed to be XX
    const r2 = new SecureSession({ isInitiator: false, identity: bob, random });
    assert.match(errorOf(r2.receive(forged)) ?? '', /^(NOISE_|SECURE_STREAM_BAD_PAYLOAD)/);
  });

  test('admitPattern: asked once on the first frame; a refusal ends it before any reply (no DH done)', () => {
    const asked: string[] = [];
    const admitPattern = (pattern: 'IK' | 'XX') => {
      asked.push(pattern);
      return pattern === 'IK';
    };
    const xx = new SecureSession({ isInitiator: true, identity: mallory, random });
    const refusing = new SecureSession({ isInitiator: false, identity: bob, random, admitPattern });
    const [m1] = xx.start();
    assert.ok(m1 !== undefined);
    const events = refusing.receive(m1);
    assert.deepEqual(events, [{ kind: 'error', code: 'SECURE_STREAM_REFUSED' }]);
    assert.equal(refusing.state, 'failed');
    const ik = connect({ remoteIdentityPublicKey: bob.publicKey }, { admitPattern });
    assert.equal(ik.responder.state, 'established');
    assert.deepEqual(asked, ['XX', 'IK']);
  });

  test('a channel is carried in the first byte, reported to both sides, and a forged one fails Noise', () => {
    const c = connect({ remoteIdentityPublicKey: bob.publicKey, channel: 1 });
    const a = c.initiatorEvents.find((e) => e.kind === 'established');
    const b = c.responderEvents.find((e) => e.kind === 'established');
    assert.ok(a?.kind === 'established' && b?.kind === 'established');
    assert.equal(a.peer.channel, 1);
    assert.equal(b.peer.channel, 1);
    assert.equal(connect({ remoteIdentityPublicKey: bob.publicKey }).responder.peer?.channel, 0);
    const initiator = new SecureSession({
      isInitiator: true,
      identity: alice,
      random,
      remoteIdentityPublicKey: bob.publicKey,
      channel: 1,
    });
    const [m1] = initiator.start();
    assert.ok(m1 !== undefined);
    assert.equal(m1[2], 0x11, 'channel 1, IK');
    const forged = Buffer.from(m1);
    forged[2] = 0x21; // channel 2 claimed
    const responder = new SecureSession({ isInitiator: false, identity: bob, random });
    assert.equal(errorOf(responder.receive(forged)), 'NOISE_DECRYPT_FAILED');
    assert.throws(
      () => new SecureSession({ isInitiator: true, identity: alice, random, channel: 16 }).start(),
      /a channel is 0-15/,
    );
  });

  test('local misuse: IK without the remote identity, sealing before the handshake', () => {
    const s = new SecureSession({ isInitiator: true, identity: alice, random, pattern: 'IK' });
    assert.throws(() => s.start(), { code: 'SECURE_STREAM_BAD_IDENTITY' });
    assert.throws(() => s.seal(Buffer.from('x')), { code: 'SECURE_STREAM_NOT_ESTABLISHED' });
  });
});

describe('SecureSession transport', () => {
  test('data both ways, byte-exact, in any chunking; large writes span frames', () => {
    const { initiator, responder } = established();
    const big = Buffer.alloc(200_000, 0x5a);
    big.writeUInt32BE(0xdeadbeef, 150_000);
    const wire = Buffer.concat([
      initiator.seal(Buffer.from('hello')),
      initiator.seal(big),
      initiator.sealClose(),
    ]);
    const received: Buffer[] = [];
    let isClosed = false;
    for (let i = 0; i < wire.length; i += 997) {
      for (const e of responder.receive(wire.subarray(i, i + 997))) {
        if (e.kind === 'data') received.push(e.bytes);
        else if (e.kind === 'close') isClosed = true;
        else assert.fail(`unexpected ${e.kind}`);
      }
    }
    assert.deepEqual(Buffer.concat(received), Buffer.concat([Buffer.from('hello'), big]));
    assert.ok(isClosed);
    assert.equal(responder.state, 'remote-closed');
    assert.deepEqual(responder.receiveEnd(), []);
    const back = initiator.receive(responder.seal(Buffer.from('bye')));
    assert.deepEqual(back, [{ kind: 'data', bytes: Buffer.from('bye') }]);
  });

  test('sealChunks of several buffers frames them as one sequence: full frames across the seams', () => {
    const { initiator, responder } = established();
    const head = Buffer.from('head of a piece');
    const body = Buffer.alloc(3 * 65_535, 0x33);
    body.writeUInt32BE(0xfeedface, 65_500);
    const chunks = initiator.sealChunks([head, body, Buffer.alloc(0), Buffer.from('tail')]);
    const wire = Buffer.concat(chunks);
    // Frame lengths as sent: all full but the last.
    const lengths: number[] = [];
    for (let at = 0; at < wire.length; at += 2 + wire.readUInt16BE(at)) lengths.push(wire.readUInt16BE(at));
    assert.deepEqual(lengths.slice(0, -1), [65_535, 65_535, 65_535]);
    assert.equal(lengths.length, 4);
    const got: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 32_000) {
      for (const e of responder.receive(wire.subarray(i, i + 32_000))) {
        if (e.kind === 'data') got.push(e.bytes);
        else assert.fail(`unexpected ${e.kind}`);
      }
    }
    assert.deepEqual(Buffer.concat(got), Buffer.concat([head, body, Buffer.from('tail')]));
    assert.ok(
      got.every((bytes) => bytes.length > 0),
      'no empty data events',
    );
  });

  test('one byte at a time works too', () => {
    const { initiator, responder } = established();
    const wire = initiator.seal(Buffer.from('slowly'));
    const got: Buffer[] = [];
    for (const byte of wire)
      for (const e of responder.receive(Buffer.of(byte))) if (e.kind === 'data') got.push(e.bytes);
    assert.deepEqual(Buffer.concat(got), Buffer.from('slowly'));
  });

  test('a flipped bit anywhere in a frame ends the session with NOISE_DECRYPT_FAILED (or a length error)', () => {
    const { initiator } = established();
    const frame = initiator.seal(Buffer.from('attack at dawn'));
    for (let pos = 0; pos < frame.length; pos++) {
      const { initiator: i2, responder: r2 } = established();
      const bad = Buffer.from(i2.seal(Buffer.from('attack at dawn')));
      bad[pos] = (bad[pos] ?? 0) ^ 0x10;
      const events = r2.receive(bad);
      if (pos >= 2)
        assert.deepEqual(events, [{ kind: 'error', code: 'NOISE_DECRYPT_FAILED' }], `byte ${pos}`);
      else if (events.length === 0)
        assert.equal(errorOf(r2.receiveEnd()), 'SECURE_STREAM_TRUNCATED', 'longer');
      else assert.match(errorOf(events) ?? '', /^(NOISE_DECRYPT_FAILED|SECURE_STREAM_FRAME_TOO_SHORT)$/);
      assert.equal(r2.state, 'failed');
      assert.deepEqual(r2.receive(i2.seal(Buffer.from('more'))), [], 'a failed session stays dead');
    }
  });

  test('replayed, reordered and dropped frames each end the session', () => {
    for (const scenario of ['replay', 'reorder', 'drop'] as const) {
      const { initiator, responder } = established();
      const f1 = initiator.seal(Buffer.from('one'));
      const f2 = initiator.seal(Buffer.from('two'));
      const order = scenario === 'replay' ? [f1, f1] : scenario === 'reorder' ? [f2, f1] : [f2];
      const events = order.flatMap((f) => responder.receive(f));
      assert.equal(errorOf(events), 'NOISE_DECRYPT_FAILED', scenario);
      assert.equal(responder.state, 'failed');
    }
  });

  test('the transport ending without CLOSE, or mid-frame, is truncation', () => {
    const { initiator, responder } = established();
    responder.receive(initiator.seal(Buffer.from('complete')));
    assert.equal(errorOf(responder.receiveEnd()), 'SECURE_STREAM_TRUNCATED');
    const c = established();
    c.responder.receive(c.initiator.sealClose().subarray(0, 10));
    assert.equal(errorOf(c.responder.receiveEnd()), 'SECURE_STREAM_TRUNCATED');
    const h = new SecureSession({ isInitiator: false, identity: bob, random });
    assert.equal(errorOf(h.receiveEnd()), 'SECURE_STREAM_TRUNCATED', 'during the handshake');
  });

  test('frames: too large for the limit, too short for a tag, bad type, data after close', () => {
    const small = connect({ remoteIdentityPublicKey: bob.publicKey }, { maxFrameBytes: 1000 });
    assert.equal(
      errorOf(small.responder.receive(small.initiator.seal(Buffer.alloc(2000)))),
      'SECURE_STREAM_FRAME_TOO_LARGE',
    );
    const a = established();
    assert.equal(
      errorOf(a.responder.receive(Buffer.from([0, 16, ...Buffer.alloc(16)]))),
      'SECURE_STREAM_FRAME_TOO_SHORT',
    );
    const b = established();
    assert.equal(errorOf(b.responder.receive(Buffer.from([0, 0]))), 'SECURE_STREAM_FRAME_TOO_SHORT');
    const c = established();
    const closed = Buffer.concat([c.initiator.sealClose(), c.initiator.seal(Buffer.from('late'))]);
    assert.deepEqual(c.responder.receive(closed), [
      { kind: 'close' },
      { kind: 'error', code: 'SECURE_STREAM_DATA_AFTER_CLOSE' },
    ]);
  });

  test('rekey every N frames keeps both sides in step; mismatched settings fail right at frame N + 1', () => {
    const c = connect(
      { remoteIdentityPublicKey: bob.publicKey, rekeyAfterFrames: 3 },
      { rekeyAfterFrames: 3 },
    );
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(c.responder.receive(c.initiator.seal(Buffer.from(`m${i}`))), [
        { kind: 'data', bytes: Buffer.from(`m${i}`) },
      ]);
      assert.deepEqual(c.initiator.receive(c.responder.seal(Buffer.from(`r${i}`))), [
        { kind: 'data', bytes: Buffer.from(`r${i}`) },
      ]);
    }
    const m = connect(
      { remoteIdentityPublicKey: bob.publicKey, rekeyAfterFrames: 3 },
      { rekeyAfterFrames: 4 },
    );
    for (let i = 0; i < 3; i++)
      assert.equal(m.responder.receive(m.initiator.seal(Buffer.from('x'))).length, 1);
    assert.equal(errorOf(m.responder.receive(m.initiator.seal(Buffer.from('x')))), 'NOISE_DECRYPT_FAILED');
  });
});
