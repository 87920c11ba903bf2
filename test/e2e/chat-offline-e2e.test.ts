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
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import { decodeFriendCode } from '../../src/chat/index.ts';
import { runCli } from '../helpers/cli-runner.ts';
import {
  dumpLogs,
  eventually,
  type JsonLinesProcess,
  startChatDaemon,
  startJsonLines,
  waitForAnnouncement,
} from './chat-processes.ts';

interface Message {
  id: string;
  from: string;
  text: string;
  state: string;
}
interface Contact {
  code: string;
  presence: string;
}

const STEP_MS = 45_000;
/** A daemon polls for requests at start and every minute: one missed poll must not fail the test. */
const REQUEST_POLL_MS = 100_000;
/** The mailbox takes over 8 s after the session is lost; then seal, refresh the prekey, put 5 items' worth. */
const STORED_MS = 60_000;
/** Fetching at start: the friend's record, then the bundle's items. Generous, for a loaded 2-core CI machine. */
const FETCH_MS = 60_000;
const OFFLINE_COUNT = 5;
const DEBUG_ENV = { DHTCHAT_LOG_LEVEL: 'debug' };
const running: JsonLinesProcess[] = [];

async function cliJson(dir: string, ...args: string[]): Promise<unknown> {
  const result = await runCli(['--data-dir', dir, ...args, '--json'], { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`${args.join(' ')}: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout);
}

/** The conversation without marking it read (the test reads states, it is not a user reading). */
async function messagesWith(dir: string, who: string): Promise<Message[]> {
  return (await callDaemon(dir, 'GET', `/v1/messages?with=${encodeURIComponent(who)}`)) as Message[];
}

describe('offline messages end to end on a loopback testnet', { timeout: 300_000 }, () => {
  after(async () => {
    await Promise.all(running.map((p) => p.stop()));
  });
  test('Bob offline: 5 messages wait in the DHT, Bob fetches them with Alice offline, Alice sees delivered', async (t) => {
    try {
      await offlineScenario(t);
      if (process.env['DHTCHAT_E2E_DUMP'] === '1') dumpLogs(running);
    } catch (error) {
      dumpLogs(running);
      throw error;
    }
  });
});

async function offlineScenario(t: TestContext): Promise<void> {
  const t0 = Date.now();
  const mark = (what: string, sinceMs: number): number => {
    const ms = Date.now() - sinceMs;
    t.diagnostic(`${what}: ${ms} ms (at +${Date.now() - t0} ms)`);
    return ms;
  };
  const testnet = startJsonLines(['testnet', '--nodes', '30', '--json']);
  running.push(testnet);
  const aliceDir = mkdtempSync(join(tmpdir(), 'dhtchat-alice-'));
  const bobDir = mkdtempSync(join(tmpdir(), 'dhtchat-bob-'));
  const [formed, aliceInit, bobInit] = await Promise.all([
    testnet.waitFor((l) => typeof l['bootstrap'] === 'string', 60_000),
    cliJson(aliceDir, 'init', '--name', 'Alice'),
    cliJson(bobDir, 'init', '--name', 'Bob'),
  ]);
  const bootstrap = formed['bootstrap'] as string;
  const aliceCode = (aliceInit as { code: string }).code;
  const bobCode = (bobInit as { code: string }).code;
  mark('testnet formed and both initialised', t0);

  // Friends: Alice adds Bob, Bob (started once the request is in the DHT) accepts.
  let since = Date.now();
  let alice = await startChatDaemon(aliceDir, bootstrap, running, { port: 0, env: DEBUG_ENV });
  await cliJson(aliceDir, 'add', bobCode, '--name', 'bob');
  await waitForAnnouncement(bootstrap, decodeFriendCode(bobCode), alice.port, STEP_MS);
  let bob = await startChatDaemon(bobDir, bootstrap, running, { port: 0, env: DEBUG_ENV });
  await eventually(
    "Alice's request at Bob",
    async () => {
      const list = (await callDaemon(bobDir, 'GET', '/v1/requests')) as { code: string }[];
      return list.some((r) => r.code === aliceCode) ? true : undefined;
    },
    REQUEST_POLL_MS,
  );
  await cliJson(bobDir, 'accept', aliceCode);
  await eventually(
    'both online to each other',
    async () => {
      const a = (await callDaemon(aliceDir, 'GET', '/v1/contacts')) as Contact[];
      const b = (await callDaemon(bobDir, 'GET', '/v1/contacts')) as Contact[];
      const isUp = a.some((c) => c.code === bobCode && c.presence === 'online');
      return isUp && b.some((c) => c.code === aliceCode && c.presence === 'online') ? true : undefined;
    },
    STEP_MS,
  );
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
