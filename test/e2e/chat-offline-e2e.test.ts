/**
 * Offline messages end to end (issue 5, second acceptance scenario), in separate processes on a loopback testnet
 * (`dhtchat testnet --nodes 30`): Alice and Bob become friends and one message each way is delivered; Bob's
 * daemon stops; Alice sends 5 messages, each reaches `stored` (sealed into the DHT); Alice's daemon stops; Bob's
 * starts and fetches all 5, in order, from the DHT (nobody else could hand them over: Alice's process has
 * exited); Alice's starts and sees the 5 `delivered` (Bob's record acknowledges them).
 *
 * Daemons run with DHTCHAT_LOG_LEVEL=debug so a failure's dump shows the mailbox's and rendezvous' own account.
 * DHTCHAT_E2E_DUMP=1 dumps them after a pass too. Restarts take no --port: the daemon reuses its last port, as a user's restart does.
 */
import assert from 'node:assert/strict';
import { after, describe, test, type TestContext } from 'node:test';
import {
  cliJson,
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

/** The mailbox takes over 8 s after the session is lost; then seal, refresh the prekey, put 5 items' worth. */
const STORED_MS = 60_000;
/** Fetching at start: the friend's record, then the bundle's items. Generous, for a loaded 2-core CI machine. */
const FETCH_MS = 60_000;
const OFFLINE_COUNT = 5;
const running: JsonLinesProcess[] = [];

describe('offline messages end to end on a loopback testnet', { timeout: 300_000 }, () => {
  after(() => stopAll(running));
  test('Bob offline: 5 messages wait in the DHT, Bob fetches them with Alice offline, Alice sees delivered', (t) =>
    dumpingLogs(running, () => offlineScenario(t)));
});

async function offlineScenario(t: TestContext): Promise<void> {
  const t0 = Date.now();
  const mark = (what: string, sinceMs: number): number => {
    const ms = Date.now() - sinceMs;
    t.diagnostic(`${what}: ${ms} ms (at +${Date.now() - t0} ms)`);
    return ms;
  };
  // Testnet, then friends: Alice adds Bob, Bob (started once the request is in the DHT) accepts.
  let since = t0;
  const friends = await startFriendsOnTestnet(running, {
    env: DEBUG_ENV,
    onInitialised: () => {
      mark('testnet formed and both initialised', t0);
      since = Date.now();
    },
  });
  const { bootstrap } = friends;
  const { dir: aliceDir, code: aliceCode } = friends.alice;
  const { dir: bobDir } = friends.bob;
  let alice = friends.alice.daemon;
  let bob = friends.bob.daemon;
  mark('friends and online', since);

  // The pair works: one message each way reaches delivered.
  since = Date.now();
  const hello = (await cliJson(aliceDir, 'send', 'bob', 'hello Bob')) as { id: string };
  const reply = (await cliJson(bobDir, 'send', aliceCode, 'hello Alice')) as { id: string };
  for (const [dir, who, id] of [
    [aliceDir, 'bob', hello.id],
    [bobDir, aliceCode, reply.id],
  ] as const) {
    await eventually(
      `message ${id} delivered`,
      async () => {
        const m = (await messagesWith(dir, who)).find((x) => x.id === id);
        return m !== undefined && ['delivered', 'read'].includes(m.state) ? true : undefined;
      },
      STEP_MS,
    );
  }
  mark('one message each way delivered', since);

  // Bob stops; Alice's 5 messages go to the DHT.
  assert.equal(await bob.proc.stop(), 0, "Bob's daemon exits cleanly on SIGTERM");
  since = Date.now();
  const texts = Array.from({ length: OFFLINE_COUNT }, (_, i) => `offline ${i + 1} of ${OFFLINE_COUNT}`);
  const ids: string[] = [];
  for (const text of texts) {
    const sent = (await cliJson(aliceDir, 'send', 'bob', text)) as { id: string; state: string };
    assert.match(sent.id, /^[0-9a-f]{32}$/);
    ids.push(sent.id);
  }
  const stored = await eventually(
    `all ${OFFLINE_COUNT} messages stored`,
    async () => {
      const list = await messagesWith(aliceDir, 'bob');
      const ours = ids.map((id) => list.find((m) => m.id === id));
      return ours.every((m) => m?.state === 'stored') ? ours : undefined;
    },
    STORED_MS,
  );
  assert.deepEqual(
    stored.map((m) => m?.text),
    texts,
  );
  mark(`Bob stopped → all ${OFFLINE_COUNT} stored in the DHT`, since);

  // Alice stops; Bob starts and finds the 5 in the DHT (Alice's process has exited: no session can bring them).
  assert.equal(await alice.proc.stop(), 0, "Alice's daemon exits cleanly on SIGTERM");
  since = Date.now();
  bob = await startChatDaemon(bobDir, bootstrap, running, { env: DEBUG_ENV });
  const readyMs = Date.now() - since;
  const atBob = await eventually(
    `all ${OFFLINE_COUNT} messages at Bob`,
    async () => {
      const list = await messagesWith(bobDir, aliceCode);
      return ids.every((id) => list.some((m) => m.id === id)) ? list : undefined;
    },
    FETCH_MS,
    200,
  );
  const fetchMs = mark(
    `Bob's start → all ${OFFLINE_COUNT} fetched from the DHT (ready after ${readyMs} ms)`,
    since,
  );
  const received = atBob.filter((m) => ids.includes(m.id));
  assert.deepEqual(
    received.map((m) => m.id),
    ids,
    'in the order Alice sent them',
  );
  assert.deepEqual(
    received.map((m) => ({ from: m.from, text: m.text })),
    texts.map((text) => ({ from: aliceCode, text })),
  );
  assert.equal(new Set(atBob.map((m) => m.id)).size, atBob.length, 'each message once');
  assert.ok(fetchMs < FETCH_MS);
  // The daemon's own clock: when it had joined the DHT, and when it logged the 5 messages (received events).
  const timeOf = (pred: (l: Record<string, unknown>) => boolean): number | undefined =>
    bob.proc.lines.filter(pred).map((l) => l['time'] as number)[0];
  const joinedAt = timeOf((l) => l['event'] === 'bootstrapped');
  const logged = await bob.proc.waitFor(
    () => ids.every((id) => bob.proc.lines.some((l) => l['event'] === 'message' && l['id'] === id)),
    STEP_MS,
  );
  const lastAt = Math.max(
    ...bob.proc.lines
      .filter((l) => l['event'] === 'message' && ids.includes(l['id'] as string))
      .map((l) => l['time'] as number),
  );
  assert.ok(logged !== undefined);
  t.diagnostic(
    `Bob's log: spawn → bootstrapped ${joinedAt === undefined ? '?' : joinedAt - since} ms, ` +
      `spawn → 5th message event ${lastAt - since} ms`,
  );

  // Alice starts: Bob's record (or a session) acknowledges the 5.
  since = Date.now();
  alice = await startChatDaemon(aliceDir, bootstrap, running, { env: DEBUG_ENV });
  await eventually(
    `all ${OFFLINE_COUNT} messages delivered at Alice`,
    async () => {
      const list = await messagesWith(aliceDir, 'bob');
      return ids.every((id) => ['delivered', 'read'].includes(list.find((m) => m.id === id)?.state ?? ''))
        ? true
        : undefined;
    },
    FETCH_MS,
    200,
  );
  mark(`Alice's start → all ${OFFLINE_COUNT} delivered`, since);
  mark('whole scenario', t0);
}
