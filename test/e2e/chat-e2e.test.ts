/**
 * The chat end to end, in separate processes as a user runs it: `dhtchat testnet` (a bootstrap node and 30 DHT
 * nodes on loopback), then Alice's and Bob's daemons, driven with the CLI client commands. Alice adds Bob's code,
 * Bob accepts, messages go both ways and each side sees its messages reach delivered, then read.
 *
 * The commands a user types go through the CLI; the tests' polling loops call the same local API in-process.
 * Bob's daemon starts once Alice's request is announced in the DHT: a daemon looks for requests on its topic at
 * start and then once a minute, so this order keeps the test from waiting out a poll period.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import { decodeFriendCode } from '../../src/chat/index.ts';
import { runCli } from '../helpers/cli-runner.ts';
import {
  type ChatDaemon,
  type Contact,
  cliJson,
  dumpLogs,
  eventually,
  type JsonLinesProcess,
  type Message,
  messagesWith,
  STEP_MS,
  startChatDaemon,
  startPairOnTestnet,
  stopAll,
  waitBothOnline,
  waitForAnnouncement,
} from './chat-processes.ts';

/** A daemon polls for requests at start and every minute: one missed poll must not fail the test. */
const REQUEST_POLL_MS = 75_000;
const running: JsonLinesProcess[] = [];

/** Polling goes straight to the daemon's API (the client commands' own code), to spare a process per poll. */
const api = callDaemon;

/** A daemon on a fresh port; its ready line has exactly the contract's fields. */
async function startDaemon(dir: string, bootstrap: string): Promise<ChatDaemon> {
  const daemon = await startChatDaemon(dir, bootstrap, running, { port: 0 });
  const ready = daemon.proc.lines[0] ?? {};
  assert.deepEqual(Object.keys(ready), ['event', 'code', 'port', 'apiPort']);
  assert.equal(typeof ready['port'], 'number');
  assert.equal(typeof ready['apiPort'], 'number');
  return daemon;
}

describe('chat end to end on a loopback testnet', { timeout: 240_000 }, () => {
  after(() => stopAll(running));
  test('Alice adds Bob, Bob accepts, messages both ways reach delivered and read', async () => {
    try {
      await aliceAndBob();
    } catch (error) {
      dumpLogs(running);
      throw error;
    }
  });
});

async function aliceAndBob(): Promise<void> {
  const { bootstrap, alice: aliceUser, bob: bobUser } = await startPairOnTestnet(running);
  assert.match(bootstrap, /^127\.0\.0\.1:\d+$/);
  const { dir: aliceDir, code: aliceCode } = aliceUser;
  const { dir: bobDir, code: bobCode } = bobUser;

  const alice = await startDaemon(aliceDir, bootstrap);
  assert.equal(alice.code, aliceCode);
  const added = (await cliJson(
    aliceDir,
    'add',
    bobCode,
    '--name',
    'bob',
    '--message',
    'hi, Alice here',
  )) as Contact;
  assert.equal(added.code, bobCode);
  assert.equal(added.name, 'bob');

  // Bob looks for requests when he starts: start him once Alice's announcement is in the DHT.
  await waitForAnnouncement(bootstrap, decodeFriendCode(bobCode), alice.port, STEP_MS);
  const bob = await startDaemon(bobDir, bootstrap);
  assert.equal(bob.code, bobCode);
  const requests = await eventually(
    "Alice's request at Bob",
    async () => {
      const list = (await api(bobDir, 'GET', '/v1/requests')) as { code: string; message?: string }[];
      return list.find((r) => r.code === aliceCode);
    },
    REQUEST_POLL_MS,
  );
  assert.equal(requests.message, 'hi, Alice here');
  const accepted = (await cliJson(bobDir, 'accept', aliceCode)) as Contact;
  assert.equal(accepted.code, aliceCode);

  await waitBothOnline(aliceUser, bobUser, STEP_MS);

  const fromAlice = (await cliJson(aliceDir, 'send', 'bob', 'hello Bob')) as { id: string; state: string };
  assert.match(fromAlice.id, /^[0-9a-f]{32}$/);
  assert.ok(['queued', 'stored', 'delivered'].includes(fromAlice.state), fromAlice.state);
  const fromBob = (await cliJson(bobDir, 'send', aliceCode, 'hello Alice')) as { id: string };

  const stateAt = async (dir: string, who: string, id: string): Promise<Message | undefined> =>
    (await messagesWith(dir, who)).find((m) => m.id === id);
  // Delivered: the sender sees the friend's acknowledgement.
  for (const [dir, who, id] of [
    [aliceDir, 'bob', fromAlice.id],
    [bobDir, aliceCode, fromBob.id],
  ] as const) {
    await eventually(
      `message ${id} delivered`,
      async () => {
        const m = await stateAt(dir, who, id);
        return m !== undefined && ['delivered', 'read'].includes(m.state) ? m : undefined;
      },
      STEP_MS,
    );
  }
  // Each reads the other's message (the messages command marks the conversation read)...
  const atBob = (await cliJson(bobDir, 'messages', aliceCode)) as Message[];
  const received = atBob.find((m) => m.id === fromAlice.id);
  assert.deepEqual(received && { from: received.from, text: received.text }, {
    from: aliceCode,
    text: 'hello Bob',
  });
  const atAlice = (await cliJson(aliceDir, 'messages', 'bob')) as Message[];
  assert.equal(atAlice.find((m) => m.id === fromBob.id)?.text, 'hello Alice');
  // ...and each sender sees "read".
  for (const [dir, who, id] of [
    [aliceDir, 'bob', fromAlice.id],
    [bobDir, aliceCode, fromBob.id],
  ] as const) {
    await eventually(
      `message ${id} read`,
      async () => ((await stateAt(dir, who, id))?.state === 'read' ? true : undefined),
      STEP_MS,
    );
  }

  // A second daemon on Alice's data dir is refused in one line while the first runs.
  const second = await runCli(['--data-dir', aliceDir, 'daemon', '--port', '0', '--bootstrap', bootstrap]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /^error: .*in use by another process.*\n$/);

  // Clean shutdown: exit 0 and api.json removed, so clients say there is no daemon.
  assert.equal(await alice.proc.stop(), 0);
  const after = await runCli(['--data-dir', aliceDir, 'contacts']);
  assert.equal(after.code, 1);
  assert.match(after.stderr, /^error: no daemon running for data dir /);
}
