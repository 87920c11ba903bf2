/**
 * When SessionLiveness probes (issue 11 §9, issue 13 §4), on a ManualClock with fake sessions: a session in use
 * (a frame other than ping/pong within activeForMs) is probed after quietMs of quiet, an idle one only after
 * idleQuietMs (checked every idleCheckEveryMs), and an idle one whose friend turned suspect is probed quickly
 * again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LIVENESS, SessionLiveness } from '../../../src/chat/session/session-liveness.ts';
import type { ChatSession } from '../../../src/chat/session/session.ts';
import { ManualClock } from '../../../src/runtime/index.ts';

const PEER = Buffer.alloc(32, 0x0b);

/** What the watch reads of a session; probe() answers as `isAnswering` says, at once (alive) or at the timeout. */
class FakeSession {
  isOpen = true;
  isAnswering = true;
  lastReceivedMs: number;
  lastFrameMs: number;
  readonly probedAtMs: number[] = [];
  readonly #clock: ManualClock;

  constructor(clock: ManualClock, lastFrameMs: number) {
    this.#clock = clock;
    this.lastReceivedMs = clock.monotonicMs();
    this.lastFrameMs = lastFrameMs;
  }

  probe(timeoutMs: number): Promise<boolean> {
    this.probedAtMs.push(this.#clock.monotonicMs());
    if (this.isAnswering) {
      this.lastReceivedMs = this.#clock.monotonicMs();
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.#clock.setTimer(timeoutMs, () => resolve(false)));
  }

  close(): void {
    this.isOpen = false;
  }
}

function watch(clock: ManualClock, session: FakeSession, suspects: Buffer[] = []): SessionLiveness {
  const liveness = new SessionLiveness({
    clock,
    sessions: () => [{ peer: PEER, session: session as unknown as ChatSession }],
    onSuspect: (peer) => suspects.push(peer),
  });
  liveness.start();
  return liveness;
}

/** Advances in check-sized steps, letting probe results (promises) settle between them. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  for (let spentMs = 0; spentMs < ms; spentMs += LIVENESS.checkEveryMs) {
    clock.advance(Math.min(LIVENESS.checkEveryMs, ms - spentMs));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('a session in use is probed after quietMs of quiet', async () => {
  const clock = new ManualClock();
  const session = new FakeSession(clock, clock.monotonicMs());
  const liveness = watch(clock, session);
  await advance(clock, LIVENESS.quietMs - LIVENESS.checkEveryMs);
  assert.deepEqual(session.probedAtMs, [], 'not before quietMs');
  await advance(clock, LIVENESS.checkEveryMs);
  assert.equal(session.probedAtMs.length, 1);
  await advance(clock, 10 * LIVENESS.quietMs);
  assert.ok(session.probedAtMs.length >= 9, `about one probe per quietMs: ${session.probedAtMs.length}`);
  liveness.close();
});

test('an idle session is probed only after idleQuietMs of quiet; a frame makes it quick again', async () => {
  const clock = new ManualClock();
  const session = new FakeSession(clock, clock.monotonicMs() - LIVENESS.activeForMs);
  const liveness = watch(clock, session);
  await advance(clock, LIVENESS.quietMs + LIVENESS.idleCheckEveryMs);
  assert.deepEqual(session.probedAtMs, [], 'quiet well past quietMs, but idle: no probe');
  await advance(
    clock,
    LIVENESS.idleQuietMs - LIVENESS.quietMs - LIVENESS.idleCheckEveryMs - LIVENESS.checkEveryMs,
  );
  assert.deepEqual(session.probedAtMs, [], 'not before idleQuietMs');
  await advance(clock, LIVENESS.idleCheckEveryMs);
  assert.equal(session.probedAtMs.length, 1, 'probed at the first check past idleQuietMs');
  await advance(clock, 6 * LIVENESS.idleQuietMs);
  assert.ok(session.probedAtMs.length <= 8, `about one probe per idleQuietMs: ${session.probedAtMs.length}`);

  // A message either way: the session is in use again (the check may be on its idle cadence still).
  session.lastFrameMs = clock.monotonicMs();
  const before = session.probedAtMs.length;
  await advance(clock, LIVENESS.quietMs + LIVENESS.idleCheckEveryMs);
  assert.ok(session.probedAtMs.length > before, 'probed soon once in use');
  await advance(clock, 4 * LIVENESS.quietMs);
  assert.ok(session.probedAtMs.length >= before + 4, 'then about one probe per quietMs');
  liveness.close();
});

test('an idle session that fails a probe makes its friend suspect and is probed again quickly', async () => {
  const clock = new ManualClock();
  const session = new FakeSession(clock, clock.monotonicMs() - LIVENESS.activeForMs);
  const suspects: Buffer[] = [];
  const liveness = watch(clock, session, suspects);
  session.isAnswering = false;
  const limitMs =
    clock.monotonicMs() + LIVENESS.idleQuietMs + LIVENESS.idleCheckEveryMs + LIVENESS.probeTimeoutMs;
  while (suspects.length === 0 && clock.monotonicMs() < limitMs) await advance(clock, LIVENESS.checkEveryMs);
  assert.deepEqual(suspects, [PEER], 'suspect once the first probe timed out');
  assert.equal(liveness.isSuspect(PEER), true);
  assert.equal(session.isOpen, true);
  // The second probe comes on the quick schedule (not idleQuietMs later), and its failure closes the session.
  await advance(clock, LIVENESS.quietMs + LIVENESS.probeTimeoutMs);
  const [firstMs, secondMs] = session.probedAtMs;
  assert.equal(session.isOpen, false, `closed after ${LIVENESS.failuresToClose} failures`);
  assert.ok(firstMs !== undefined && secondMs !== undefined, 'two probes');
  assert.ok(
    secondMs - firstMs < LIVENESS.idleQuietMs,
    `second probe ${secondMs - firstMs} ms after the first`,
  );
  liveness.close();
});
