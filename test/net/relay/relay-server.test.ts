/**
 * RelayServer with joinRelay clients on virtual time: a Noise IK session runs end to end through the splice (the
 * relay hears only ciphertext), an unmatched half is refused after its wait, a half that talks before MATCHED or
 * sends no JOIN is dropped, the rate and byte caps hold, and closing the relay tells waiting halves so.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ed25519FromSeed } from '../../../src/crypto/index.ts';
import { SecureStream, UtpStream } from '../../../src/net/index.ts';
import { encodeRelayFrame, RelayErrorCode } from '../../../src/net/relay/index.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';
import { collect, createRelayLab, outcome } from './relay-harness.ts';

const alice = ed25519FromSeed(Buffer.alloc(32, 0xa1));
const bob = ed25519FromSeed(Buffer.alloc(32, 0xb0));
const token = Buffer.alloc(32, 0x42);

describe('RelayServer and joinRelay (virtual time)', { timeout: 60_000 }, () => {
  test('two halves matched: Noise IK end to end, messages both ways, the relay hears only ciphertext', async () => {
    const lab = createRelayLab('relay-ik');
    try {
      const a = lab.join(lab.client('10.1.0.1'), 0, token);
      await lab.sim.settle(500);
      assert.equal(a.isWaiting, true, 'the relay answered WAITING');
      assert.equal(lab.relay.stats().waiting, 1);
      const b = lab.join(lab.client('10.2.0.1'), 1, token);
      const [streamA, streamB] = await lab.sim.run(Promise.all([a.matched, b.matched]));
      assert.equal(lab.relay.stats().pairs, 1);
      const clock = lab.sim.clock;
      const random = new SeededRandom('relay-ik/noise');
      const secureA = new SecureStream(streamA, {
        isInitiator: true,
        identity: alice,
        remoteIdentityPublicKey: bob.publicKey,
        clock,
        random,
      });
      const secureB = new SecureStream(streamB, { isInitiator: false, identity: bob, clock, random });
      streamA.resume();
      streamB.resume();
      const atA = collect(secureA);
      const atB = collect(secureB);
      const peerAtB = await lab.sim.run(secureB.handshake);
      assert.deepEqual(peerAtB.identityPublicKey, alice.publicKey);
      const secret = 'the plaintext the relay must never see';
      secureA.write(secret);
      secureB.write('and back');
      await lab.sim.until(() => atB.bytes().length > 0 && atA.bytes().length > 0, 10_000);
      assert.equal(atB.bytes().toString(), secret);
      assert.equal(atA.bytes().toString(), 'and back');
      const heard = Buffer.concat(lab.relayHeard);
      assert.equal(heard.includes(Buffer.from(secret)), false, 'no plaintext at the relay');
      assert.ok(lab.relay.stats().bytesRelayed > secret.length);
      secureA.end();
      await lab.sim.until(() => atB.isEnded(), 10_000);
      await lab.sim.until(() => lab.relay.stats().pairs === 0, 30_000);
      assert.equal(lab.relay.stats().pairsEnded.ended + lab.relay.stats().pairsEnded.closed, 1);
    } finally {
      lab.close();
    }
  });

  test('a half nobody joins is refused with RELAY_NO_PARTNER after the wait', async () => {
    const lab = createRelayLab('relay-wait', { waitMs: 3000 });
    try {
      const a = outcome(lab.join(lab.client('10.1.0.1'), 0, token).matched);
      await lab.sim.until(() => a.error !== undefined, 10_000);
      assert.equal(a.error?.code, RelayErrorCode.noPartner);
      assert.ok(lab.sim.clock.monotonicMs() >= 3000);
      assert.equal(lab.relay.stats().refused['noPartner'], 1);
      await lab.sim.settle(200);
      assert.equal(lab.relay.stats().waiting, 0);
    } finally {
      lab.close();
    }
  });

  test('a joiner that leaves frees its place; the same role joining again replaces the waiting half', async () => {
    const lab = createRelayLab('relay-replace');
    try {
      const utp = lab.client('10.1.0.1');
      const first = lab.join(utp, 0, token);
      await lab.sim.settle(500);
      const firstOutcome = outcome(first.matched);
      const second = lab.join(utp, 0, token);
      await lab.sim.until(() => firstOutcome.error !== undefined, 5000);
      assert.equal(firstOutcome.error?.code, RelayErrorCode.replaced);
      const b = lab.join(lab.client('10.2.0.1'), 1, token);
      await lab.sim.run(Promise.all([second.matched, b.matched]));
      // Cancelled while waiting: the relay frees the place.
      const other = lab.join(utp, 0, Buffer.alloc(32, 9));
      await lab.sim.settle(500);
      assert.equal(lab.relay.stats().waiting, 1);
      other.cancel();
      await lab.sim.until(() => lab.relay.stats().waiting === 0, 5000);
    } finally {
      lab.close();
    }
  });

  test('no JOIN, garbage, or bytes before MATCHED: dropped or refused, and nothing is held', async () => {
    const lab = createRelayLab('relay-bad', { joinTimeoutMs: 2000 });
    try {
      const utp = lab.client('10.1.0.1');
      const silent = collect(new UtpStream(utp.connect(lab.relayAddress)));
      const garbage = new UtpStream(utp.connect(lab.relayAddress));
      collect(garbage);
      garbage.write(Buffer.from([0, 3, 1, 2, 3]));
      const early = new UtpStream(utp.connect(lab.relayAddress));
      const earlyIn = collect(early);
      early.write(
        Buffer.concat([
          encodeRelayFrame({ type: 'join', join: { role: 0, tokens: [token] } }),
          Buffer.from('x'),
        ]),
      );
      await lab.sim.until(() => lab.relay.stats().badStreams >= 2 && silent.isClosed(), 10_000);
      await lab.sim.until(() => earlyIn.isEnded() || earlyIn.isClosed(), 5000);
      assert.deepEqual(earlyIn.bytes(), encodeRelayFrame({ type: 'refused', reason: 6 }));
      assert.equal(lab.relay.stats().refused['badJoin'], 1);
      // A waiting half that talks is refused too.
      const waiting = new UtpStream(utp.connect(lab.relayAddress));
      const waitingIn = collect(waiting);
      waiting.write(encodeRelayFrame({ type: 'join', join: { role: 1, tokens: [token] } }));
      await lab.sim.until(() => waitingIn.bytes().length === 5, 5000);
      waiting.write('too soon');
      await lab.sim.until(() => lab.relay.stats().refused['badJoin'] === 2, 5000);
      assert.equal(lab.relay.stats().waiting, 0);
    } finally {
      lab.close();
    }
  });

  test('each direction is capped in rate; a pair over its byte budget is cut and refused again', async () => {
    const bytesPerSec = 20_000;
    const lab = createRelayLab('relay-caps', {
      pairBytesPerSec: bytesPerSec,
      pairBurstBytes: 10_000,
      pairBudgetBytes: 150_000,
    });
    try {
      const ua = lab.client('10.1.0.1');
      const ub = lab.client('10.2.0.1');
      const a = lab.join(ua, 0, token);
      const b = lab.join(ub, 1, token);
      const [streamA, streamB] = await lab.sim.run(Promise.all([a.matched, b.matched]));
      const atB = collect(streamB);
      collect(streamA);
      const startMs = lab.sim.clock.monotonicMs();
      streamA.write(Buffer.alloc(100_000, 1));
      await lab.sim.until(() => atB.bytes().length === 100_000, 60_000, 20);
      const tookMs = lab.sim.clock.monotonicMs() - startMs;
      assert.ok(
        tookMs >= ((100_000 - 10_000 - 1500) / bytesPerSec) * 1000 * 0.9,
        `rate cap: took ${tookMs} ms`,
      );
      streamA.write(Buffer.alloc(100_000, 2));
      await lab.sim.until(() => atB.isClosed() && lab.relay.stats().pairs === 0, 60_000, 20);
      assert.equal(lab.relay.stats().pairsEnded.budget, 1);
      assert.ok(atB.bytes().length < 200_000, 'the budget cut the pair before everything went through');
      const again = outcome(lab.join(ua, 0, token).matched);
      await lab.sim.until(() => again.error !== undefined, 10_000);
      assert.equal(again.error?.code, RelayErrorCode.budgetSpent);
    } finally {
      lab.close();
    }
  });

  test('closing the relay tells waiting halves, and cuts pairs', async () => {
    const lab = createRelayLab('relay-close');
    try {
      const waiting = outcome(lab.join(lab.client('10.1.0.1'), 0, Buffer.alloc(32, 1)).matched);
      const a = lab.join(lab.client('10.2.0.1'), 0, token);
      const b = lab.join(lab.client('10.3.0.1'), 1, token);
      const [streamA] = await lab.sim.run(Promise.all([a.matched, b.matched]));
      const atA = collect(streamA);
      lab.relay.close();
      await lab.sim.until(() => waiting.error !== undefined && (atA.isEnded() || atA.isClosed()), 10_000);
      assert.equal(waiting.error?.code, RelayErrorCode.closing);
    } finally {
      lab.close();
    }
  });

  test('a relay that does not answer: RELAY_NO_ANSWER', async () => {
    const lab = createRelayLab('relay-gone');
    try {
      lab.relayUtp.close();
      const a = outcome(lab.join(lab.client('10.1.0.1'), 0, token).matched);
      await lab.sim.until(() => a.error !== undefined, 20_000, 20);
      assert.equal(a.error?.code, RelayErrorCode.noAnswer);
    } finally {
      lab.close();
    }
  });
});
