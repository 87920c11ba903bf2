/**
 * Replays every cacophony vector (25519, ChaChaPoly; BLAKE2b, BLAKE2s, SHA256, SHA512; all 59 patterns incl.
 * deferred and psk ones) through both roles, byte for byte: each handshake message as written by its sender,
 * the payload as read by its receiver, the handshake hash, then the transport messages.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HandshakeState, parseProtocolName, x25519FromPrivate } from '../../src/crypto/index.ts';
import type { CipherState } from '../../src/crypto/index.ts';
import type { Random } from '../../src/runtime/index.ts';
import { readVectors } from '../helpers/vectors.ts';

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  init_psks?: string[];
  resp_prologue: string;
  resp_static?: string;
  resp_ephemeral?: string;
  resp_remote_static?: string;
  resp_psks?: string[];
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

const file = readVectors<{ vectors: Vector[] }>('noise-cacophony-25519-chachapoly.json');
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** A Random that hands out one fixed ephemeral key, once. */
function fixedRandom(ephemeralHex: string | undefined): Random {
  let isUsed = false;
  return {
    bytes(n) {
      assert.ok(ephemeralHex !== undefined && !isUsed && n === 32, 'unexpected ephemeral request');
      isUsed = true;
      return hex(ephemeralHex);
    },
    int: () => assert.fail('int() not expected'),
  };
}

function side(v: Vector, isInitiator: boolean): HandshakeState {
  const p = isInitiator ? 'init' : 'resp';
  const get = (k: string): string | undefined =>
    (v as unknown as Record<string, string | undefined>)[`${p}_${k}`];
  const psks = (isInitiator ? v.init_psks : v.resp_psks) ?? [];
  const staticHex = get('static');
  const remoteHex = get('remote_static');
  return new HandshakeState({
    protocolName: v.protocol_name,
    isInitiator,
    prologue: hex(get('prologue') ?? ''),
    ...(staticHex === undefined ? {} : { staticKeyPair: x25519FromPrivate(hex(staticHex)) }),
    ...(remoteHex === undefined ? {} : { remoteStaticPublicKey: hex(remoteHex) }),
    psks: psks.map(hex),
    random: fixedRandom(get('ephemeral')),
  });
}

function replay(v: Vector): void {
  const initiator = side(v, true);
  const responder = side(v, false);
  let transport: { initiator: CipherState[]; responder: CipherState[] } | undefined;
  for (const [i, m] of v.messages.entries()) {
    const isInitiatorSending = initiator.pattern.isOneWay || i % 2 === 0;
    if (transport === undefined) {
      const [sender, receiver] = isInitiatorSending ? [initiator, responder] : [responder, initiator];
      assert.equal(sender.writeMessage(hex(m.payload)).toString('hex'), m.ciphertext, `message ${i} written`);
      const read = receiver.readMessage(hex(m.ciphertext));
      assert.deepEqual(read, { ok: true, payload: hex(m.payload) }, `message ${i} read`);
      assert.equal(initiator.isComplete, responder.isComplete);
      const a = initiator.transport;
      const b = responder.transport;
      if (a !== undefined && b !== undefined) {
        assert.equal(a.handshakeHash.toString('hex'), v.handshake_hash, 'handshake hash (initiator)');
        assert.equal(b.handshakeHash.toString('hex'), v.handshake_hash, 'handshake hash (responder)');
        transport = { initiator: [a.send, a.receive], responder: [b.send, b.receive] };
      }
      continue;
    }
    const [send] = isInitiatorSending ? transport.initiator : transport.responder;
    const receive = (isInitiatorSending ? transport.responder : transport.initiator)[1];
    assert.ok(send !== undefined && receive !== undefined);
    assert.equal(
      send.encryptWithAd(Buffer.alloc(0), hex(m.payload)).toString('hex'),
      m.ciphertext,
      `transport ${i}`,
    );
    assert.deepEqual(receive.decryptWithAd(Buffer.alloc(0), hex(m.ciphertext)), hex(m.payload));
  }
  assert.ok(transport !== undefined, 'handshake completed');
}

test('every cacophony 25519/ChaChaPoly vector replays byte for byte in both roles', () => {
  const supported = file.vectors.filter((v) => parseProtocolName(v.protocol_name) !== undefined);
  const failures: string[] = [];
  for (const v of supported) {
    try {
      replay(v);
    } catch (error) {
      failures.push(`${v.protocol_name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  assert.deepEqual(failures, []);
  // The engine runs every pattern and hash in the file: nothing is skipped.
  assert.equal(supported.length, file.vectors.length);
  assert.equal(file.vectors.length, 236);
  const blake2b = supported.filter((v) => v.protocol_name.endsWith('_BLAKE2b'));
  assert.equal(blake2b.length, 59);
  for (const name of ['NN', 'XX', 'IK', 'NK', 'KK', 'XK', 'XXpsk3', 'IKpsk2']) {
    assert.ok(
      blake2b.some((v) => v.protocol_name === `Noise_${name}_25519_ChaChaPoly_BLAKE2b`),
      name,
    );
  }
});
