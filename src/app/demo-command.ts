/**
 * `dhtchat demo [--keep] [--json]` (`npm run demo`): dhtchat to try in a minute with no Internet. A private DHT on
 * loopback (`dhtchat testnet`) and three users, Alice, Bob and Carol, each a `dhtchat daemon` with a data dir
 * under one temporary dir, set up so that there is something to see:
 *
 *   - Carol has asked Alice to be friends (Alice finds the request waiting, to accept or not);
 *   - Alice and Bob are friends and have exchanged a message each;
 *   - Bob went offline, Alice wrote to him meanwhile (the message waited in the DHT), Bob came back and got it.
 *
 * Then it prints each user's one-time login link and runs until Ctrl-C (or SIGTERM), which stops every process
 * and removes the temporary dir (unless --keep). With --json it prints {"users":[{"name","url","dataDir"}],
 * "bootstrap"} instead of the human lines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { callDaemon } from './chat-api-client.ts';
import type { ContactView, MessageView, RequestView } from './chat-api-types.ts';
import { type DemoProcess, pollUntil, startDhtchat } from './demo-processes.ts';
import { untilStopSignal } from './stop-signal.ts';

const USERS = ['Alice', 'Bob', 'Carol'] as const;
type UserName = (typeof USERS)[number];

/** A daemon looks for requests when it starts: on loopback an announcement is findable well within this. */
const ANNOUNCE_SETTLE_MS = 3000;
const STEP_MS = 60_000;

interface DemoUser {
  readonly name: UserName;
  readonly dir: string;
  code: string;
  daemon: DemoProcess | undefined;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('try dhtchat: a private loopback DHT and three users (Alice, Bob, Carol) with web clients')
    .option('--keep', 'keep the temporary data dir after Ctrl-C')
    .option('--json', 'print {"users":[{"name","url","dataDir"}],"bootstrap"} once ready')
    .action(async (flags: { keep?: boolean; json?: boolean }) => runDemo(flags));
}

async function runDemo(flags: { keep?: boolean; json?: boolean }): Promise<void> {
  const say = (line: string): void => {
    if (flags.json !== true) process.stdout.write(`${line}\n`);
  };
  const stopping = untilStopSignal();
  const base = mkdtempSync(join(tmpdir(), 'dhtchat-demo-'));
  const processes: DemoProcess[] = [];
  const users = new Map<UserName, DemoUser>(
    USERS.map((name) => [name, { name, dir: join(base, name.toLowerCase()), code: '', daemon: undefined }]),
  );
  const user = (name: UserName): DemoUser => users.get(name) as DemoUser;
  try {
    say(`dhtchat demo: a private DHT on this machine (no Internet needed), data in ${base}`);
    const testnet = startDhtchat('testnet', ['testnet', '--nodes', '20', '--json']);
    processes.push(testnet);
    const [formed] = await Promise.all([
      testnet.waitFor((l) => typeof l['bootstrap'] === 'string', STEP_MS),
      ...USERS.map((name) => initUser(user(name))),
    ]);
    const bootstrap = String(formed['bootstrap']);
    const start = async (u: DemoUser): Promise<void> => {
      u.daemon = startDhtchat(u.name, [
        '--data-dir',
        u.dir,
        'daemon',
        '--host',
        '127.0.0.1',
        '--bootstrap',
        bootstrap,
        '--allow-private',
      ]);
      processes.push(u.daemon);
      await u.daemon.waitFor((l) => l['event'] === 'ready', STEP_MS);
    };
    const alice = user('Alice');
    const bob = user('Bob');
    const carol = user('Carol');

    say('Carol asks Alice to be friends…');
    await start(carol);
    await api(carol, 'POST', '/v1/contacts', { code: alice.code, message: "Hi Alice, it's Carol. Friends?" });
    await delay(ANNOUNCE_SETTLE_MS);
    say('Alice adds Bob…');
    await start(alice);
    await api(alice, 'POST', '/v1/contacts', { code: bob.code, name: 'Bob', message: 'Hi Bob, Alice here' });
    await delay(ANNOUNCE_SETTLE_MS);
    say('Bob accepts…');
    await start(bob);
    await until(bob, 'the request from Alice', async () =>
      ((await api(bob, 'GET', '/v1/requests')) as RequestView[]).some((r) => r.code === alice.code),
    );
    await api(bob, 'POST', '/v1/requests/accept', { who: alice.code });
    await until(alice, 'Bob online', async () => isOnline(alice, bob.code));
    await api(alice, 'POST', '/v1/messages', {
      to: bob.code,
      text: 'Hi Bob! No server between us: our daemons found each other through the DHT.',
    });
    await api(bob, 'POST', '/v1/messages', {
      to: alice.code,
      text: 'Hi Alice :) Open the network panel to see how we are connected.',
    });
    say('Bob goes offline; Alice writes to him meanwhile (the message waits in the DHT)…');
    await bob.daemon?.stop();
    await until(alice, 'Bob away', async () => !(await isOnline(alice, bob.code)));
    const { id } = (await api(alice, 'POST', '/v1/messages', {
      to: bob.code,
      text: 'Bob was offline when I sent this: it waited in the DHT until his daemon came back.',
    })) as { id: string };
    await until(
      alice,
      'the message stored in the DHT',
      async () => (await stateOf(alice, bob.code, id)) === 'stored',
    );
    say('Bob comes back and finds it…');
    await start(bob);
    await until(alice, 'the stored message delivered', async () => {
      const state = await stateOf(alice, bob.code, id);
      return state === 'delivered' || state === 'read';
    });

    const links = await Promise.all(
      USERS.map(async (name) => ({
        name,
        url: ((await api(user(name), 'POST', '/v1/login-link', {})) as { url: string }).url,
        dataDir: user(name).dir,
      })),
    );
    if (flags.json === true) {
      process.stdout.write(`${JSON.stringify({ users: links, bootstrap })}\n`);
    } else {
      say('');
      say('Ready. Open each link (it works once) — all three fit in one browser, each in its own tab:');
      for (const link of links) say(`  ${link.name.padEnd(6)} ${link.url}`);
      say('');
      say('Alice has a friend request from Carol; Alice and Bob can chat (watch the marks and the typing);');
      say("Bob's conversation shows the message that waited for him in the DHT.");
      say('Ctrl-C stops everything.');
    }
    await stopping;
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    if (flags.keep === true) say(`data kept in ${base}`);
    else rmSync(base, { recursive: true, force: true });
  }
}

async function initUser(u: DemoUser): Promise<void> {
  const init = startDhtchat(`${u.name} init`, ['--data-dir', u.dir, 'init', '--name', u.name, '--json']);
  u.code = String((await init.waitFor((l) => typeof l['code'] === 'string', STEP_MS))['code']);
  await init.exited;
}

function api(
  u: DemoUser,
  method: 'GET' | 'POST',
  path: string,
  body?: Record<string, unknown>,
): Promise<unknown> {
  return callDaemon(u.dir, method, path, body);
}

async function isOnline(u: DemoUser, code: string): Promise<boolean> {
  const contacts = (await api(u, 'GET', '/v1/contacts')) as ContactView[];
  return contacts.some((c) => c.code === code && c.presence === 'online');
}

async function stateOf(u: DemoUser, code: string, id: string): Promise<string | undefined> {
  const messages = (await api(u, 'GET', `/v1/messages?with=${encodeURIComponent(code)}`)) as MessageView[];
  return messages.find((m) => m.id === id)?.state;
}

/** Waits for a step; a step that takes too long is reported and the demo goes on (it is only set-up). */
async function until(u: DemoUser, what: string, fn: () => Promise<boolean>): Promise<void> {
  if (!(await pollUntil(fn, STEP_MS)))
    process.stderr.write(`warning: ${u.name}: ${what} took over a minute\n`);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
