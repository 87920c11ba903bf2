/**
 * Crashes during a burst, end to end (issue 5: "`kill -9` of either daemon at random moments during a burst of
 * 200 messages, then restart: every message arrives exactly once"), in separate processes on a loopback testnet
 * (`dhtchat testnet --nodes 30`).
 *
 * Alice and Bob become friends and are both online. Alice sends 200 messages to Bob at a steady pace through
 * the local API while Bob sends 60 to Alice. Meanwhile 2–4 SIGKILLs (at least one of each daemon) land at seeded
 * random moments, each within milliseconds of one of Alice's sends (so the receiver dies with her messages in
 * flight: checked); each killed daemon restarts at once on the same data dir (no --port: it takes its last port
 * back, as a user's restart does).
 *
 * The clients are honest: a send whose HTTP call failed (the daemon died under it) has an unknown outcome, so
 * once the daemon is back the client looks for that text in its own conversation and resends only if it is
 * absent. Checked: every id the API returned is in the sender's store after each crash (written to SQLite before
 * the answer), every message a killed daemon logged as received is still in its store after the restart, and at
 * the end each text is at the receiver exactly once, with the sender's id, in the sender's order, and `delivered`
 * (or `read`) at the sender.
 *
 * DHTCHAT_CRASH_SEED=<hex> replays a run's kill plan (the seed is printed). Daemons run with
 * DHTCHAT_LOG_LEVEL=debug so a failure's dump has delivery's and the session manager's account;
 * DHTCHAT_E2E_DUMP=1 dumps them after a pass too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test, type TestContext } from 'node:test';
import { SeededRandom } from '../../src/runtime/index.ts';
import { bounded, newSide, Progress, type Side, type Stats, sendAll, sleep } from './chat-crash-client.ts';
import {
  DEBUG_ENV,
  dumpingLogs,
  eventually,
  type JsonLinesProcess,
  messagesWith,
  STEP_MS,
  startChatDaemon,
  startFriendsOnTestnet,
  stopAll,
} from './chat-processes.ts';

interface Kill {
  side: 'alice' | 'bob';
  /**
   * Fires this long after Alice's send #afterAliceSent started: often while her API call is being handled (Alice
   * killed) or while that message is on its way to Bob or being committed there (Bob killed).
   */
  afterAliceSent: number;
  delayMs: number;
  /** Time between the kill and the restart. */
  downMs: number;
  /** Traffic flows at least this long after the previous restart's reconnect (then the next send is waited for). */
  settleMs: number;
}

const ALICE_COUNT = 200;
const BOB_COUNT = 60;
const ALICE_PACE_MS = 120;
const BOB_PACE_MS = 400;
/** A restart's spawn → ready, and ready → the friend's session up again (the acceptance asks ≤ 5 s). */
const RESTART_MS = 30_000;
const RECONNECT_MS = 30_000;
/** After the last send: everything delivered and acknowledged. */
const DRAIN_MS = 60_000;
/** A send's API call and its trip to the friend take milliseconds: kills land within this of one. */
const KILL_JITTER_MS = 40;
const running: JsonLinesProcess[] = [];

/** 2–4 kills, at least one of each side, spread over Alice's burst (one random point per segment). */
function killPlan(random: SeededRandom): Kill[] {
  const count = 2 + random.int(3);
  const sides: Kill['side'][] = ['alice', 'bob'];
  while (sides.length < count) sides.push(random.int(2) === 0 ? 'alice' : 'bob');
  for (let i = sides.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [sides[i], sides[j]] = [sides[j] as Kill['side'], sides[i] as Kill['side']];
  }
  const first = 15;
  const segment = Math.floor((ALICE_COUNT - 20 - first) / count);
  return sides.map((side, i) => ({
    side,
    afterAliceSent: first + i * segment + random.int(segment - 10),
    delayMs: random.int(KILL_JITTER_MS),
    // Bob stays down over at least two of Alice's sends, so her messages are in flight towards a dead session
    // even where a quiet machine delivers one in a few ms (a kill that lands just after an ack finds none).
    downMs: (side === 'bob' ? 2 * ALICE_PACE_MS : 0) + random.int(1500),
    settleMs: 500 + random.int(1000),
  }));
}

describe('kill -9 during a burst of 200 messages on a loopback testnet', { timeout: 240_000 }, () => {
  after(() => stopAll(running));
  test('every message arrives exactly once, in order, and is delivered', (t) =>
    dumpingLogs(running, () => crashScenario(t)));
});

async function crashScenario(t: TestContext): Promise<void> {
  const seed = process.env['DHTCHAT_CRASH_SEED'] ?? randomBytes(4).toString('hex');
  const plan = killPlan(new SeededRandom(`crash-e2e/${seed}`));
  t.diagnostic(`seed ${seed} (replay: DHTCHAT_CRASH_SEED=${seed}); kills: ${JSON.stringify(plan)}`);
  const t0 = Date.now();
  const mark = (what: string, sinceMs: number): number => {
    const ms = Date.now() - sinceMs;
    t.diagnostic(`${what}: ${ms} ms (at +${Date.now() - t0} ms)`);
    return ms;
  };

  // Friends, both online.
  const alice = newSide('Alice');
  const bob = newSide('Bob');
  const friends = await startFriendsOnTestnet(running, {
    dirs: { alice: alice.dir, bob: bob.dir },
    env: DEBUG_ENV,
  });
  const { bootstrap } = friends;
  alice.code = friends.alice.code;
  bob.code = friends.bob.code;
  alice.peerCode = bob.code;
  bob.peerCode = alice.code;
  alice.proc = friends.alice.daemon.proc;
  bob.proc = friends.bob.daemon.proc;
  mark('testnet, friends and online', t0);

  // The burst, both ways, with the kills running alongside.
  let since = Date.now();
  const stats: Stats = { failedCalls: 0, failedLookups: 0, foundAfterCrash: 0, resent: 0 };
  const aliceTexts = Array.from({ length: ALICE_COUNT }, (_, i) => `a→b ${i + 1}/${ALICE_COUNT} ${seed}`);
  const bobTexts = Array.from({ length: BOB_COUNT }, (_, i) => `b→a ${i + 1}/${BOB_COUNT} ${seed}`);
  const aliceProgress = new Progress();
  let lastOnlineAt = 0;
  let bobKillsInFlight = 0;
  const killer = async (): Promise<void> => {
    for (const [n, kill] of plan.entries()) {
      const side = kill.side === 'alice' ? alice : bob;
      const other = side === alice ? bob : alice;
      await bounded(
        `Alice's send #${kill.afterAliceSent}`,
        aliceProgress.reached(kill.afterAliceSent),
        STEP_MS + RESTART_MS,
      );
      const settleMs = lastOnlineAt + kill.settleMs - Date.now();
      if (settleMs > 0) {
        await sleep(settleMs);
        const next = aliceProgress.started + 1;
        if (next <= ALICE_COUNT) await bounded(`Alice's send #${next}`, aliceProgress.reached(next), STEP_MS);
      }
      await sleep(kill.delayMs);
      const at = `Alice's #${alice.sent.length}, Bob's #${bob.sent.length}`;
      const old = side.proc as JsonLinesProcess;
      side.up = new Promise<void>((resolve) => {
        side.markUp = resolve;
      });
      const killedAt = Date.now();
      const returnedIds = side.sent.map((s) => s.id);
      old.child.kill('SIGKILL');
      await old.stop();
      // What the other side had sent that was not yet acknowledged: in flight when the kill landed, and sent
      // into the dead session (it does not know yet) until the restart.
      const unacked = async (): Promise<string[]> =>
        (await messagesWith(other.dir, other.peerCode))
          .filter((m) => m.from === other.code && m.state === 'queued')
          .map((m) => m.id);
      const inFlight = await unacked();
      await sleep(kill.downMs);
      const waiting = (await unacked()).length;
      const spawnedAt = Date.now();
      const restarted = await startChatDaemon(side.dir, bootstrap, running, { env: DEBUG_ENV });
      side.proc = restarted.proc;
      const readyMs = Date.now() - spawnedAt;
      // Nothing committed is lost: every id the API returned, every message the dead daemon logged as received.
      const own = new Set((await messagesWith(side.dir, side.peerCode)).map((m) => m.id));
      for (const id of returnedIds) assert.ok(own.has(id), `${side.label}'s sent ${id} survives the crash`);
      const logged = old.lines.filter((l) => l['event'] === 'message').map((l) => l['id'] as string);
      // Committed by the dead daemon but its ack lost: the friend resends them, the store must deduplicate.
      const committedUnacked = inFlight.filter((id) => logged.includes(id)).length;
      for (const id of logged) assert.ok(own.has(id), `${side.label}'s received ${id} survives the crash`);
      side.markUp();
      const online = await restarted.proc.waitFor(
        (l) => l['event'] === 'presence' && l['code'] === side.peerCode && l['presence'] === 'online',
        RECONNECT_MS,
      );
      const onlineAt = (online['time'] as number | undefined) ?? Date.now();
      lastOnlineAt = Date.now();
      if (side === bob && inFlight.length + waiting > 0) bobKillsInFlight++;
      t.diagnostic(
        `kill ${n + 1}: ${side.label} at ${at} returned (+${killedAt - t0} ms; ${other.label} had ` +
          `${inFlight.length} unacknowledged, ${committedUnacked} of them committed here, ${waiting} at the ` +
          `restart); down ${spawnedAt - killedAt} ms, spawn → ready ${readyMs} ms, spawn → friend online ` +
          `${onlineAt - spawnedAt} ms; ${returnedIds.length} sent and ${logged.length} received ids survived`,
      );
    }
  };
  await Promise.all([
    sendAll(alice, aliceTexts, ALICE_PACE_MS, stats, aliceProgress),
    sendAll(bob, bobTexts, BOB_PACE_MS, stats),
    killer(),
  ]);
  mark(
    `burst of ${ALICE_COUNT} + ${BOB_COUNT} with ${plan.length} kills (failed sends ${stats.failedCalls}, ` +
      `failed look-ups ${stats.failedLookups}, ` +
      `found stored after the crash ${stats.foundAfterCrash}, resent ${stats.resent})`,
    since,
  );
  assert.ok(bobKillsInFlight > 0, "at least one of Bob's kills landed with Alice's messages in flight");

  // Drain: everything at the receiver and acknowledged at the sender.
  since = Date.now();
  const isDone = async (from: Side, to: Side): Promise<boolean> => {
    const out = await messagesWith(from.dir, from.peerCode);
    const got = new Set((await messagesWith(to.dir, to.peerCode)).map((m) => m.id));
    const isAcked = out.every((m) => m.from !== from.code || m.state === 'delivered' || m.state === 'read');
    return isAcked && from.sent.every((s) => got.has(s.id));
  };
  await eventually(
    'every message delivered both ways',
    async () => ((await isDone(alice, bob)) && (await isDone(bob, alice)) ? true : undefined),
    DRAIN_MS,
    250,
  );
  mark('drain: last send → all delivered both ways', since);

  for (const [from, to, texts] of [
    [alice, bob, aliceTexts],
    [bob, alice, bobTexts],
  ] as const) {
    const own = (await messagesWith(from.dir, from.peerCode)).filter((m) => m.from === from.code);
    const received = (await messagesWith(to.dir, to.peerCode)).filter((m) => m.from === from.code);
    // The client's account: each text once, in its order, with the ids the sender's store holds.
    assert.deepEqual(
      from.sent.map((s) => s.text),
      texts,
    );
    assert.deepEqual(
      own.map((m) => ({ id: m.id, text: m.text })),
      from.sent,
      `${from.label}'s store holds each text once, in the client's order`,
    );
    assert.deepEqual(
      received.map((m) => ({ id: m.id, text: m.text })),
      from.sent,
      `each of ${from.label}'s messages at ${to.label} exactly once, in ${from.label}'s order`,
    );
    for (const m of own) assert.ok(['delivered', 'read'].includes(m.state), `${m.id} is ${m.state}`);
  }
  mark('whole scenario', t0);
}
