/**
 * A wall-clock step (NTP, a suspended laptop, the user) of ±1 hour: the session keepalive runs on monotonic time
 * and carries on as if nothing happened, while the timestamps stored with messages follow wall time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryNetwork } from '../../../sim/memory-network.ts';
import { identityFromSeed } from '../../../src/chat/identity.ts';
import { ChatSession, DEFAULT_SESSION_TIMING } from '../../../src/chat/session/session.ts';
import { UtpEndpoint } from '../../../src/net/index.ts';
import { ManualClock, nullLogger, SeededRandom } from '../../../src/runtime/index.ts';
import { ChatSim, startFriends } from './chat-harness.ts';

const HOUR_MS = 3_600_000;
const { keepaliveMs, deadAfterMs } = DEFAULT_SESSION_TIMING;

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function step(clock: ManualClock, ms: number, stepMs = 50): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(stepMs);
    await flush();
  }
}

/** Two bare sessions over uTP on one ManualClock (no manager: only the session's own keepalive runs). */
async function sessionPair(
  clock: ManualClock,
): Promise<{ alice: ChatSession; bob: ChatSession; close(): void }> {
  const network = new MemoryNetwork(clock, new SeededRandom('wall-jump/net'), { latencyMs: 5 });
  const ctx = (seedByte: number) => ({
    identity: identityFromSeed(Buffer.alloc(32, seedByte)),
    clock,
    random: new SeededRandom(`wall-jump/${seedByte}`),
    logger: nullLogger,
    timing: DEFAULT_SESSION_TIMING,
  });
  const bobCtx = ctx(2);
  const endpoint = (host: string) =>
    new UtpEndpoint({
      transport: network.createTransport({ host, port: 7000 }),
      clock,
      random: new SeededRandom(`wall-jump/${host}`),
    });
  const utpA = endpoint('10.0.0.1');
  const utpB = endpoint('10.0.0.2');
  const handlers = { onFrame: () => {}, onClose: () => {} };
  let bob: ChatSession | undefined;
  utpB.listen((socket) => {
    bob = ChatSession.accept(bobCtx, socket);
    bob.admit(handlers);
  });
  const alice = ChatSession.connect(
    ctx(1),
    utpA,
    { host: '10.0.0.2', port: 7000 },
    bobCtx.identity.publicKey,
  );
  alice.admit(handlers);
  for (let i = 0; i < 400 && (alice.establishedMs === undefined || bob?.establishedMs === undefined); i++) {
    await step(clock, 10, 10);
  }
  assert.ok(bob !== undefined && alice.establishedMs !== undefined && bob.establishedMs !== undefined);
  const established = bob;
  return {
    alice,
    bob: established,
    close: () => {
      alice.close();
      established.close();
      utpA.close();
      utpB.close();
    },
  };
}

describe('a wall-clock jump of one hour', { timeout: 60_000 }, () => {
  for (const jumpMs of [HOUR_MS, -HOUR_MS]) {
    test(`${jumpMs > 0 ? '+' : '-'}1 h: the idle session pings every keepaliveMs and stays up`, async () => {
      const clock = new ManualClock();
      const pair = await sessionPair(clock);
      try {
        await step(clock, 1000); // the handshake's last packets are in: from here on only keepalives flow
        clock.jumpWall(jumpMs);
        const jumpedAtMs = clock.monotonicMs();
        const heardAtMs: number[] = [];
        let last = pair.bob.lastReceivedMs;
        const idleMs = 3 * deadAfterMs;
        for (let t = 0; t < idleMs; t += 100) {
          await step(clock, 100);
          if (pair.bob.lastReceivedMs !== last) {
            last = pair.bob.lastReceivedMs;
            heardAtMs.push(last - jumpedAtMs);
          }
        }
        assert.ok(
          pair.alice.isOpen && pair.bob.isOpen,
          `closed: ${pair.alice.closeCode} ${pair.bob.closeCode}`,
        );
        // Alice's pings (and Bob's pongs to his own pings) reach Bob steadily: no gap near deadAfterMs.
        assert.ok(heardAtMs.length >= idleMs / keepaliveMs - 1, `heard at ${heardAtMs}`);
        const gaps = heardAtMs.slice(1).map((at, i) => at - (heardAtMs[i] as number));
        assert.ok(Math.max(...gaps, heardAtMs[0] ?? Infinity) <= keepaliveMs + 500, `heard at ${heardAtMs}`);
      } finally {
        pair.close();
      }
    });
  }

  test('message timestamps follow wall time, forwards and back, on a session that stays up', async () => {
    const sim = new ChatSim('wall-jump');
    try {
      const { alice, bob } = await startFriends(sim);
      const sendAfterJump = async (jumpMs: number, text: string) => {
        sim.clock.jumpWall(jumpMs);
        const sentAtWallMs = sim.clock.wallMs();
        const sent = await alice.node.send('bob', text);
        await sim.until(
          () => alice.node.messages('bob').find((m) => m.id === sent.id)?.state === 'delivered',
        );
        const ours = alice.store.messages.get(Buffer.from(sent.id, 'hex'));
        const theirs = bob.store.messages.get(Buffer.from(sent.id, 'hex'));
        assert.equal(ours?.createdMs, sentAtWallMs);
        assert.ok(theirs?.receivedMs !== undefined);
        assert.ok(theirs.receivedMs >= sentAtWallMs && theirs.receivedMs < sentAtWallMs + 10_000);
        return sentAtWallMs;
      };
      const later = await sendAfterJump(HOUR_MS, 'an hour on');
      const earlier = await sendAfterJump(-2 * HOUR_MS, 'an hour back');
      assert.ok(
        earlier < later - HOUR_MS,
        'the second message is stamped before the first: wall time went back',
      );
      await sim.sim.settle(deadAfterMs + keepaliveMs, 100);
      assert.ok(
        alice.node.isConnected('bob') && bob.node.isConnected('alice'),
        'the session outlived both jumps',
      );
    } finally {
      sim.close();
    }
  });
});
