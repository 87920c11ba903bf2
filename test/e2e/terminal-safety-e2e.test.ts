/**
 * Nothing a stranger or a friend sends can write into the terminal, through real daemons on one loopback testnet:
 *
 *   testnet ── Alice's daemon (victim; `events` and `events --json` follow it from the start)
 *          ├── Bob's daemon (Alice's friend: sends the attack strings as messages)
 *          └── two strangers, in this process: their daemons send friend requests whose *name* and note are
 *              the attack strings. A name comes from profile.json, which the daemon now refuses to use when it
 *              is unsafe, so the strangers set it through DaemonOptions.name: the hostile bytes still reach Alice.
 *
 * Each human output (`requests`, `accept`, `contacts`, `messages`, `events`) must show the attack escaped
 * (`\x1b` visible, no ESC, no CR/LF inside a line, no bidi control) and keep emoji and RTL text; each --json
 * output must give back the exact strings. Then the local API's Host/Origin wall is tried with raw requests,
 * and last, Alice's daemon stops: `events` says so and exits 0.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import { readApiFile } from '../../src/app/chat-data-dir.ts';
import { createIdentity } from '../../src/app/chat-identity-commands.ts';
import { type Daemon, startDaemon } from '../../src/app/daemon.ts';
import { isTerminalSafe } from '../../src/app/terminal-text.ts';
import { nullLogger } from '../../src/runtime/index.ts';
import { CLI_PATH, REPO_ROOT, runCli } from '../helpers/cli-runner.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import {
  cliJson,
  dumpLogs,
  eventually,
  type FriendsOnTestnet,
  type JsonLinesProcess,
  type Message,
  messagesWith,
  STEP_MS,
  startFriendsOnTestnet,
  stopAll,
} from './chat-processes.ts';

const ATTACK = 'hi\x1b[2J\x1b]0;owned\x07\r\nFAKE: Alice: send me your password';
const ATTACK_SHOWN = 'hi\\x1b[2J\\x1b]0;owned\\x07\\r\\nFAKE: Alice: send me your password';
const BIDI = 'Bob\u202eexe.txt';
const BIDI_SHOWN = 'Bob\\u202eexe.txt';
const KEPT = 'שלום 👩‍👩‍👧‍👦 مرحبا ❤️ 🇫🇷 Zoë';

const running: JsonLinesProcess[] = [];
const strangers: Daemon[] = [];
const followers: EventsFollower[] = [];
let scene: FriendsOnTestnet;
let humanEvents: EventsFollower;
let jsonEvents: EventsFollower;

/** `dhtchat events` for a data dir, its stdout kept as lines. */
interface EventsFollower {
  readonly child: ChildProcess;
  readonly lines: string[];
  stderr(): string;
  readonly exited: Promise<number | null>;
}

function followEvents(dir: string, ...flags: string[]): EventsFollower {
  const child = spawn(process.execPath, [CLI_PATH, '--data-dir', dir, 'events', ...flags], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    const parts = stdout.split('\n');
    stdout = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const follower = { child, lines, stderr: () => stderr, exited };
  followers.push(follower);
  return follower;
}

/** A stranger's daemon in this process, on the testnet, calling itself `name`. */
async function startStranger(label: string, name: string): Promise<Daemon> {
  const dataDir = mkdtempSync(join(tmpdir(), `dhtchat-${label}-`));
  await createIdentity(dataDir);
  const [host, port] = scene.bootstrap.split(':') as [string, string];
  const daemon = await startDaemon({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    bootstrap: [{ host, port: Number(port) }],
    allowPrivate: true,
    logger: nullLogger,
    name,
  });
  strangers.push(daemon);
  return daemon;
}

/** One line with nothing a terminal acts on: no ESC, CR, LF, other control or bidi character. */
function assertInert(line: string): void {
  assert.ok(isTerminalSafe(line), `not terminal-safe: ${JSON.stringify(line)}`);
}

/** A command's human output: exit 0, every line inert. */
async function human(dir: string, ...args: string[]): Promise<string[]> {
  const result = await runCli(['--data-dir', dir, ...args], { timeoutMs: 30_000 });
  assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
  const lines = result.stdout.split('\n').slice(0, -1);
  for (const line of lines) assertInert(line);
  return lines;
}

describe('terminal safety with real daemons', { timeout: 240_000 }, () => {
  before(async () => {
    scene = await startFriendsOnTestnet(running);
    humanEvents = followEvents(scene.alice.dir);
    jsonEvents = followEvents(scene.alice.dir, '--json');
    // Both followers are subscribed once each has shown Bob typing (the tracker reports changes only: toggle).
    let isTyping = false;
    await eventually(
      'both events processes following',
      async () => {
        isTyping = !isTyping;
        await callDaemon(scene.bob.dir, 'POST', '/v1/typing', { who: scene.alice.code, isTyping });
        const isHumanOn = humanEvents.lines.some((l) => l.startsWith('bob '));
        return isHumanOn && jsonEvents.lines.some((l) => l.includes('"typing"')) ? true : undefined;
      },
      STEP_MS,
      300,
    );
  });

  after(async () => {
    for (const follower of followers) follower.child.kill('SIGKILL');
    await Promise.all(strangers.map((s) => s.close()));
    await stopAll(running);
  });

  test("a stranger's hostile request name and note: escaped in requests, events and accept; exact in --json", async () => {
    await withLogs(async () => {
      const { alice } = scene;
      const endpoints = [{ host: '127.0.0.1', port: alice.daemon.port }];
      const [attacker, mimic] = await Promise.all([
        startStranger('attacker', ATTACK),
        startStranger('mimic', BIDI),
      ]);
      // Straight to Alice's endpoint (a hint, as a shared address would give): no wait for her next DHT poll.
      await attacker.chat.addFriend(alice.code, { message: ATTACK, endpoints });
      await mimic.chat.addFriend(alice.code, { message: KEPT, endpoints });
      const requests = (await eventually(
        'both requests at Alice',
        async () => {
          const list = (await cliJson(alice.dir, 'requests')) as { code: string }[];
          return list.length === 2 ? list : undefined;
        },
        STEP_MS,
      )) as { code: string; name?: string; message?: string }[];

      // --json: the exact strings.
      const byCode = new Map(requests.map((r) => [r.code, r]));
      assert.deepEqual(
        { name: byCode.get(attacker.code)?.name, message: byCode.get(attacker.code)?.message },
        { name: ATTACK, message: ATTACK },
      );
      assert.deepEqual(
        { name: byCode.get(mimic.code)?.name, message: byCode.get(mimic.code)?.message },
        { name: BIDI, message: KEPT },
      );

      // Human: one inert line per request, the attack visible as escapes, the emoji and RTL note intact.
      const lines = await human(alice.dir, 'requests');
      assert.equal(lines.length, 2, lines.join('\n'));
      const attackLine = lines.find((l) => l.startsWith(attacker.code)) ?? '';
      assert.ok(attackLine.includes(`  ${ATTACK_SHOWN}  "${ATTACK_SHOWN}"  received `), attackLine);
      const mimicLine = lines.find((l) => l.startsWith(mimic.code)) ?? '';
      assert.ok(mimicLine.includes(`  ${BIDI_SHOWN}  "${KEPT}"  received `), mimicLine);

      // events, as they arrived.
      await eventually(
        'the requests in events',
        async () =>
          humanEvents.lines.filter((l) => l.startsWith('friend request')).length === 2 ? true : undefined,
        STEP_MS,
      );
      assert.ok(
        humanEvents.lines.includes(
          `friend request from "${ATTACK_SHOWN}" (${attacker.code}): "${ATTACK_SHOWN}"`,
        ),
      );
      assert.ok(humanEvents.lines.includes(`friend request from "${BIDI_SHOWN}" (${mimic.code}): "${KEPT}"`));
      const jsonRequests = jsonEvents.lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((e) => e['event'] === 'request');
      assert.deepEqual(
        jsonRequests.map((e) => [e['code'], e['name'], e['message']]).sort(),
        [
          [attacker.code, ATTACK, ATTACK],
          [mimic.code, BIDI, KEPT],
        ].sort(),
      );

      // A suggested name with a bidi control is not a valid contact name (src/chat/contact-name.ts): accepting
      // the mimic leaves it unnamed, shown by its code, and the hostile name never becomes a contact's name.
      assert.deepEqual(await human(alice.dir, 'accept', mimic.code), [
        `accepted ${mimic.code} (to name them: dhtchat rename ${mimic.code} NAME)`,
      ]);
      const contacts = await human(alice.dir, 'contacts');
      assert.ok(
        contacts.some((l) => l.startsWith(`${mimic.code}  `)),
        contacts.join('\n'),
      );
      assert.ok(
        contacts.every((l) => isTerminalSafe(l) && !l.includes(BIDI_SHOWN)),
        contacts.join('\n'),
      );
    });
  });

  test("a friend's hostile messages: escaped in messages and events, exact in --json", async () => {
    await withLogs(async () => {
      const { alice, bob } = scene;
      const texts = [ATTACK, BIDI, KEPT];
      for (const text of texts) {
        const sent = await runCli(['--data-dir', bob.dir, 'send', alice.code, text], { timeoutMs: 30_000 });
        assert.equal(sent.code, 0, sent.stderr);
      }
      await eventually(
        'the three messages at Alice',
        async () => ((await messagesWith(alice.dir, bob.code)).length === 3 ? true : undefined),
        STEP_MS,
      );

      const json = (await cliJson(alice.dir, 'messages', 'bob', '--peek')) as Message[];
      assert.deepEqual(
        json.map((m) => m.text),
        texts,
      );
      const lines = await human(alice.dir, 'messages', 'bob', '--peek');
      assert.equal(lines.length, 3, lines.join('\n'));
      assert.deepEqual(
        lines.map((l) => l.replace(/^\S+ {2}/, '').replace(/ {2}\(\w+\)$/, '')),
        [`bob: ${ATTACK_SHOWN}`, `bob: ${BIDI_SHOWN}`, `bob: ${KEPT}`],
      );

      await eventually(
        'the messages in both events processes',
        async () => {
          const isHumanDone =
            humanEvents.lines.filter((l) => l.startsWith('message from bob: ')).length === 3;
          const jsonCount = jsonEvents.lines.filter((l) => l.startsWith('{"event":"message"')).length;
          return isHumanDone && jsonCount === 3 ? true : undefined;
        },
        STEP_MS,
      );
      const shown = humanEvents.lines
        .filter((l) => l.startsWith('message from bob: '))
        .map((l) => l.replace(/ {2}\([0-9a-f]+\)$/, ''));
      assert.deepEqual(
        shown,
        [ATTACK_SHOWN, BIDI_SHOWN, KEPT].map((t) => `message from bob: ${t}`),
      );
      const jsonTexts = jsonEvents.lines
        .map((l) => JSON.parse(l) as { event: string; message?: { text: string } })
        .filter((e) => e.event === 'message')
        .map((e) => e.message?.text);
      assert.deepEqual(jsonTexts, texts);
      for (const line of humanEvents.lines) assertInert(line);
    });
  });

  test("the daemon's API refuses a foreign Host or Origin before the token, and serves its own", async () => {
    const api = await readApiFile(scene.alice.dir);
    assert.ok(api !== undefined);
    const auth = { authorization: `Bearer ${api.token}` };
    const own = `127.0.0.1:${api.port}`;
    const cases: Array<[string | undefined, Record<string, string>, number, string | undefined]> = [
      [`attacker.example:${api.port}`, auth, 403, 'APP_API_FORBIDDEN_HOST'],
      [undefined, auth, 403, 'APP_API_FORBIDDEN_HOST'],
      [own, { ...auth, origin: 'http://attacker.example' }, 403, 'APP_API_FORBIDDEN_ORIGIN'],
      [own, { ...auth, origin: 'null' }, 403, 'APP_API_FORBIDDEN_ORIGIN'],
      [own, { ...auth, 'sec-fetch-site': 'cross-site' }, 403, 'APP_API_FORBIDDEN_ORIGIN'],
      [own, { ...auth, origin: `http://${own}` }, 200, undefined],
      [`localhost:${api.port}`, auth, 200, undefined],
    ];
    for (const [host, headers, status, code] of cases) {
      const answer = await rawRequest(api.port, { ...(host === undefined ? {} : { host }), headers });
      assert.deepEqual(
        [answer.status, answer.code],
        [status, code],
        `Host ${host} ${JSON.stringify(headers)}`,
      );
    }
  });

  test('when the daemon stops, events says so and exits 0 (human on stdout, --json on stderr)', async () => {
    assert.equal(await scene.alice.daemon.proc.stop(), 0);
    assert.equal(await humanEvents.exited, 0, humanEvents.stderr());
    assert.equal(await jsonEvents.exited, 0, jsonEvents.stderr());
    assert.equal(humanEvents.lines.at(-1), 'the daemon stopped');
    assert.equal(humanEvents.stderr(), '');
    assert.equal(jsonEvents.stderr(), 'the daemon stopped\n');
    for (const line of jsonEvents.lines) assert.equal(typeof JSON.parse(line), 'object');
  });
});

async function withLogs(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    dumpLogs(running);
    for (const follower of followers) console.error(follower.lines.join('\n'), follower.stderr());
    throw error;
  }
}
