/**
 * Noise handshake messages (src/crypto handshake-state read paths) as a SecureSession receives them (src/net/secure:
 * length-prefixed frames, the pattern id, then HandshakeState.readMessage). The first input byte picks the message:
 *   0  IK message 1 into a fresh responder          2  XX message 2 into an initiator that sent message 1
 *   1  XX message 1 into a fresh responder          3  XX message 3 into a responder that answered message 1
 *                                                   4  IK message 2 into an initiator that sent message 1
 * Sessions use a fixed SeededRandom, so every fresh one has the same ephemeral keys and the captured messages
 * stay valid for it. Properties: never throws; every failure is an 'error' event with a NOISE_ / SECURE_STREAM_
 * code; no data before the handshake; a handshake that completes authenticates exactly the genuine identity.
 */
import assert from 'node:assert/strict';
import { ed25519FromSeed } from '../../../src/crypto/index.ts';
import { SecureSession, type SecureSessionEvent } from '../../../src/net/secure/index.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';
import type { FuzzTarget } from '../fuzz-target.ts';

const alice = ed25519FromSeed(Buffer.alloc(32, 0xa1));
const bob = ed25519FromSeed(Buffer.alloc(32, 0xb0));
const SELECTORS = 5;

type Role = 'ik-responder' | 'xx-responder' | 'xx-initiator' | 'xx-responder-2' | 'ik-initiator';
const ROLES: readonly Role[] = [
  'ik-responder',
  'xx-responder',
  'xx-initiator',
  'xx-responder-2',
  'ik-initiator',
];

const initiator = (pattern: 'IK' | 'XX') =>
  new SecureSession({
    isInitiator: true,
    identity: alice,
    random: new SeededRandom('fuzz-initiator'),
    pattern,
    ...(pattern === 'IK' ? { remoteIdentityPublicKey: bob.publicKey } : {}),
  });
const responder = () =>
  new SecureSession({ isInitiator: false, identity: bob, random: new SeededRandom('fuzz-responder') });

const sent = (events: SecureSessionEvent[]): Buffer =>
  Buffer.concat(events.flatMap((e) => (e.kind === 'send' ? [e.bytes] : [])));

/** The genuine messages, captured once from a real exchange. */
function capture(): Record<Role, Buffer> {
  const ik1 = Buffer.concat(initiator('IK').start());
  const ik2 = sent(responder().receive(ik1));
  const xxI = initiator('XX');
  const xx1 = Buffer.concat(xxI.start());
  const xx2 = sent(responder().receive(xx1));
  const xx3 = sent(xxI.receive(xx2));
  return {
    'ik-responder': ik1,
    'xx-responder': xx1,
    'xx-initiator': xx2,
    'xx-responder-2': xx3,
    'ik-initiator': ik2,
  };
}

let genuine: Record<Role, Buffer> | undefined;

/** A session in the state that expects the message of this role, and the identity it must end up with. */
function sessionFor(role: Role, messages: Record<Role, Buffer>): { session: SecureSession; peer: Buffer } {
  switch (role) {
    case 'ik-responder':
    case 'xx-responder':
      return { session: responder(), peer: alice.publicKey };
    case 'xx-initiator': {
      const session = initiator('XX');
      session.start();
      return { session, peer: bob.publicKey };
    }
    case 'xx-responder-2': {
      const session = responder();
      session.receive(messages['xx-responder']);
      return { session, peer: alice.publicKey };
    }
    case 'ik-initiator': {
      const session = initiator('IK');
      session.start();
      return { session, peer: bob.publicKey };
    }
  }
}

export const noiseHandshakeTarget: FuzzTarget = {
  name: 'noise-handshake',
  decoders: 'SecureSession.receive → HandshakeState.readMessage (IK 1-2, XX 1-3)',
  weight: 0.05,
  maxInputBytes: 600,
  dictionary: [
    Buffer.of(0, 0),
    Buffer.of(1),
    Buffer.of(2),
    Buffer.of(0, 0x60),
    Buffer.of(0xff, 0xff),
    Buffer.alloc(32),
  ],
  seeds(): Buffer[] {
    genuine ??= capture();
    const messages = genuine;
    return ROLES.map((role, i) => Buffer.concat([Buffer.of(i), messages[role]]));
  },
  run(input: Buffer): string {
    genuine ??= capture();
    const role = ROLES[(input[0] ?? 0) % SELECTORS] as Role;
    const { session, peer } = sessionFor(role, genuine);
    const events = [...session.receive(input.subarray(1)), ...session.receiveEnd()];
    let outcome = 'pending';
    for (const event of events) {
      if (event.kind === 'error') {
        assert.match(event.code, /^(NOISE|SECURE_STREAM)_[A-Z0-9_]+$/);
        outcome = event.code;
      } else if (event.kind === 'established') {
        assert.deepEqual(
          event.peer.identityPublicKey,
          peer,
          'a completed handshake authenticates the genuine identity',
        );
        outcome = 'established';
      } else if (event.kind === 'data') {
        assert.equal(session.state === 'handshaking', false, 'no data before the handshake');
      }
    }
    return `${role}:${outcome}`;
  },
};
