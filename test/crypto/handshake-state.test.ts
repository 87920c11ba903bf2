/** Our suite (25519/ChaChaPoly/BLAKE2b): full IK and XX handshakes, then tamper, truncation, replay, wrong keys. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HandshakeState, type X25519KeyPair, x25519Generate } from '../../src/crypto/index.ts';
import { SeededRandom } from '../../src/runtime/index.ts';

const random = new SeededRandom('handshake-state');
const alice = x25519Generate(random);
const bob = x25519Generate(random);
const mallory = x25519Generate(random);
const prologue = Buffer.from('dhtchat/1');

function pair(
  pattern: string,
  opts: {
    initiatorS?: X25519KeyPair;
    responderS?: X25519KeyPair;
    initiatorRs?: Buffer;
    psks?: Buffer[][];
  } = {},
): [HandshakeState, HandshakeState] {
  const protocolName = `Noise_${pattern}_25519_ChaChaPoly_BLAKE2b`;
  const initiatorS = opts.initiatorS ?? alice;
  const responderS = opts.responderS ?? bob;
  const withRs = pattern.startsWith('IK') || pattern.startsWith('NK') || pattern.startsWith('XK');
  return [
    new HandshakeState({
      protocolName,
      isInitiator: true,
      prologue,
      random,
      staticKeyPair: initiatorS,
      ...(withRs ? { remoteStaticPublicKey: opts.initiatorRs ?? responderS.publicKey } : {}),
      ...(opts.psks?.[0] ? { psks: opts.psks[0] } : {}),
    }),
    new HandshakeState({
      protocolName,
      isInitiator: false,
      prologue,
      random,
      staticKeyPair: responderS,
      ...(opts.psks?.[1] ? { psks: opts.psks[1] } : {}),
    }),
  ];
}

/** Runs the handshake to the end; returns the messages sent. */
function run(initiator: HandshakeState, responder: HandshakeState): Buffer[] {
  const sent: Buffer[] = [];
  for (let i = 0; !initiator.isComplete && i < 10; i++) {
    const [from, to] = initiator.isMyTurn ? [initiator, responder] : [responder, initiator];
    const message = from.writeMessage(Buffer.from(`payload ${i}`));
    sent.push(message);
    assert.deepEqual(to.readMessage(message), { ok: true, payload: Buffer.from(`payload ${i}`) });
  }
  return sent;
}

function assertFailed(state: HandshakeState, code: string | undefined): void {
  assert.equal(state.failureCode, code);
  assert.equal(state.isMyTurn, false);
  assert.deepEqual(state.readMessage(Buffer.alloc(100)), { ok: false, code: 'NOISE_STATE_FAILED' });
  assert.throws(() => state.writeMessage(Buffer.alloc(0)), { code: 'NOISE_STATE_FAILED' });
}

describe('HandshakeState (Noise_*_25519_ChaChaPoly_BLAKE2b)', () => {
  for (const pattern of ['IK', 'XX', 'NN', 'NK', 'KK', 'XK', 'IX', 'XXpsk3']) {
    test(`${pattern}: completes, both sides agree on h, keys and the transport works both ways`, () => {
      const psk = Buffer.alloc(32, 7);
      const [initiator, responder] =
        pattern === 'KK'
          ? [
              new HandshakeState({
                protocolName: 'Noise_KK_25519_ChaChaPoly_BLAKE2b',
                isInitiator: true,
                prologue,
                random,
                staticKeyPair: alice,
                remoteStaticPublicKey: bob.publicKey,
              }),
              new HandshakeState({
                protocolName: 'Noise_KK_25519_ChaChaPoly_BLAKE2b',
                isInitiator: false,
                prologue,
                random,
                staticKeyPair: bob,
                remoteStaticPublicKey: alice.publicKey,
              }),
            ]
          : pair(pattern, pattern.includes('psk') ? { psks: [[psk], [psk]] } : {});
      run(initiator, responder);
      const a = initiator.transport;
      const b = responder.transport;
      assert.ok(a !== undefined && b !== undefined && responder.isComplete);
      assert.deepEqual(a.handshakeHash, b.handshakeHash);
      if (pattern !== 'NN' && pattern !== 'NK') {
        assert.deepEqual(responder.remoteStaticPublicKey, alice.publicKey);
      }
      if (pattern !== 'NN') assert.deepEqual(initiator.remoteStaticPublicKey, bob.publicKey);
      const ad = Buffer.alloc(0);
      assert.deepEqual(
        b.receive.decryptWithAd(ad, a.send.encryptWithAd(ad, Buffer.from('hi bob'))),
        Buffer.from('hi bob'),
      );
      assert.deepEqual(
        a.receive.decryptWithAd(ad, b.send.encryptWithAd(ad, Buffer.from('hi'))),
        Buffer.from('hi'),
      );
    });
  }

  /**
   * Delivers message `index` altered by `alter`, then carries on honestly. Every message is authenticated except
   * XX's first (e and a clear payload): its alteration changes h, so the very next read fails instead.
   */
  function deliverAltered(pattern: string, index: number, alter: (m: Buffer) => Buffer): HandshakeState {
    const [initiator, responder] = pair(pattern);
    for (let i = 0; i < 5; i++) {
      const [from, to] = initiator.isMyTurn ? [initiator, responder] : [responder, initiator];
      const m = from.writeMessage(Buffer.from(`payload ${i}`));
      const result = to.readMessage(i === index ? alter(m) : m);
      if (!result.ok) return to;
      const isUnauthenticated = i === index && pattern === 'XX' && index === 0;
      assert.ok(i < index || isUnauthenticated, `message ${i} after a change at ${index} was not caught`);
    }
    assert.fail(`change at message ${index} never detected`);
  }

  for (const pattern of ['IK', 'XX']) {
    test(`${pattern}: flipping a bit at any position of any handshake message fails the handshake`, () => {
      const sent = run(...pair(pattern));
      for (const [index, message] of sent.entries()) {
        for (let pos = 0; pos < message.length; pos++) {
          const reader = deliverAltered(pattern, index, (m) => {
            const bad = Buffer.from(m);
            bad[pos] = (bad[pos] ?? 0) ^ (1 << (pos % 8));
            return bad;
          });
          assert.match(
            reader.failureCode ?? '',
            /^NOISE_(DECRYPT_FAILED|BAD_KEY)$/,
            `message ${index} byte ${pos}`,
          );
          assertFailed(reader, reader.failureCode);
        }
      }
    });

    test(`${pattern}: every truncation of every handshake message fails the handshake`, () => {
      const sent = run(...pair(pattern));
      for (const [index, message] of sent.entries()) {
        for (let length = 0; length < message.length; length++) {
          const reader = deliverAltered(pattern, index, (m) => m.subarray(0, length));
          assert.match(reader.failureCode ?? '', /^NOISE_(MESSAGE_TOO_SHORT|DECRYPT_FAILED|BAD_KEY)$/);
        }
      }
    });
  }

  test('replay: a message read twice, or an old session replayed to a new one, fails', () => {
    const [i1, r1] = pair('XX');
    const m1 = i1.writeMessage(Buffer.alloc(0));
    assert.equal(r1.readMessage(m1).ok, true);
    assert.deepEqual(r1.readMessage(m1), { ok: false, code: 'NOISE_WRONG_TURN' });
    // Message 2 of session A, replayed to the initiator of session B.
    const [ia, ra] = pair('XX');
    ra.readMessage(ia.writeMessage(Buffer.alloc(0)));
    const m2a = ra.writeMessage(Buffer.alloc(0));
    const [ib, rb] = pair('XX');
    rb.readMessage(ib.writeMessage(Buffer.alloc(0)));
    assert.deepEqual(ib.readMessage(m2a), { ok: false, code: 'NOISE_DECRYPT_FAILED' });
  });

  test('IK with the wrong responder key: the real responder cannot read message 1', () => {
    const [initiator, responder] = pair('IK', { initiatorRs: mallory.publicKey });
    assert.deepEqual(responder.readMessage(initiator.writeMessage(Buffer.from('hello'))), {
      ok: false,
      code: 'NOISE_DECRYPT_FAILED',
    });
  });

  test('IK: an impostor without the responder key cannot forge message 2', () => {
    const [initiator] = pair('IK');
    initiator.writeMessage(Buffer.alloc(0));
    // Mallory plays a responder that "knows" the message from a KK-like view but with her own key.
    const [, impostor] = pair('IK', { responderS: mallory });
    const [fakeInitiator] = pair('IK', { responderS: mallory });
    impostor.readMessage(fakeInitiator.writeMessage(Buffer.alloc(0)));
    assert.deepEqual(initiator.readMessage(impostor.writeMessage(Buffer.alloc(0))), {
      ok: false,
      code: 'NOISE_DECRYPT_FAILED',
    });
  });

  test('psk mismatch fails; a different prologue fails', () => {
    const [i, r] = pair('XXpsk3', { psks: [[Buffer.alloc(32, 1)], [Buffer.alloc(32, 2)]] });
    r.readMessage(i.writeMessage(Buffer.alloc(0)));
    i.readMessage(r.writeMessage(Buffer.alloc(0)));
    assert.deepEqual(r.readMessage(i.writeMessage(Buffer.alloc(0))), {
      ok: false,
      code: 'NOISE_DECRYPT_FAILED',
    });
    const other = new HandshakeState({
      protocolName: 'Noise_IK_25519_ChaChaPoly_BLAKE2b',
      isInitiator: false,
      prologue: Buffer.from('dhtchat/2'),
      random,
      staticKeyPair: bob,
    });
    const [initiator] = pair('IK');
    assert.equal(other.readMessage(initiator.writeMessage(Buffer.alloc(0))).ok, false);
  });

  test('size limits: a message over 65535 bytes is refused on both sides', () => {
    const [initiator, responder] = pair('NN');
    assert.throws(() => initiator.writeMessage(Buffer.alloc(65535 - 31)), {
      code: 'NOISE_MESSAGE_TOO_LARGE',
    });
    assertFailed(initiator, 'NOISE_MESSAGE_TOO_LARGE');
    assert.deepEqual(responder.readMessage(Buffer.alloc(65536)), {
      ok: false,
      code: 'NOISE_MESSAGE_TOO_LARGE',
    });
    const [ok] = pair('NN');
    assert.equal(ok.writeMessage(Buffer.alloc(65535 - 32)).length, 65535);
  });

  test('local misuse throws stable codes', () => {
    assert.throws(
      () =>
        new HandshakeState({
          protocolName: 'Noise_ZZ_25519_ChaChaPoly_BLAKE2b',
          isInitiator: true,
          prologue,
          random,
        }),
      { code: 'NOISE_UNKNOWN_PROTOCOL' },
    );
    assert.throws(
      () =>
        new HandshakeState({
          protocolName: 'Noise_XX_448_ChaChaPoly_BLAKE2b',
          isInitiator: true,
          prologue,
          random,
        }),
      { code: 'NOISE_UNKNOWN_PROTOCOL' },
    );
    assert.throws(
      () =>
        new HandshakeState({
          protocolName: 'Noise_IK_25519_ChaChaPoly_BLAKE2b',
          isInitiator: true,
          prologue,
          random,
          staticKeyPair: alice,
        }),
      { code: 'NOISE_MISSING_KEY' },
    );
    assert.throws(
      () =>
        new HandshakeState({
          protocolName: 'Noise_XX_25519_ChaChaPoly_BLAKE2b',
          isInitiator: false,
          prologue,
          random,
        }),
      { code: 'NOISE_MISSING_KEY' },
    );
    assert.throws(
      () =>
        new HandshakeState({
          protocolName: 'Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b',
          isInitiator: true,
          prologue,
          random,
          psks: [Buffer.alloc(31)],
        }),
      { code: 'NOISE_MISSING_KEY' },
    );
    const [, responder] = pair('XX');
    assert.throws(() => responder.writeMessage(Buffer.alloc(0)), { code: 'NOISE_WRONG_TURN' });
  });
});
