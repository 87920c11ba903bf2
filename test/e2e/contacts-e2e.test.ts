/**
 * The contact and message commands end to end, as a user types them, against real daemons on one loopback
 * testnet: Alice and Bob are friends (startFriendsOnTestnet: Alice calls him "bob", he calls her "Alice", the name
 * her request suggested). Then:
 *
 * - the command-line defects of issue 9 §4: `add` of a friend says so (exit 2) and renames nothing; blank
 *   messages are refused (exit 2); bad input exits 2 wherever it is found (a bad code in `send`/`messages`, an
 *   over-long message, your own code); `typing` says whom it told;
 * - the new commands: `send bob -`, `profile --name` (Alice sees Bob's own name beside hers for him), `rename`,
 *   `messages --limit/--before`, `search`, `block`/`blocked`/`unblock`, `remove`;
 * - issue 10 §4: a stranger whose own name is "alice" asks Bob; `accept alice` is refused listing both, and once
 *   accepted (by code) the stranger stays unnamed: `send alice` and `messages alice` still mean Alice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import { decodeFriendCode } from '../../src/chat/index.ts';
import { type CliResult, runCli } from '../helpers/cli-runner.ts';
import {
  type Contact,
  cliJson,
  dumpingLogs,
  eventually,
  type FriendsOnTestnet,
  type JsonLinesProcess,
  type Message,
  messagesWith,
  REQUEST_POLL_MS,
  STEP_MS,
  startChatDaemon,
  startFriendsOnTestnet,
  stopAll,
  waitBothOnline,
  waitForAnnouncement,
} from './chat-processes.ts';

const running: JsonLinesProcess[] = [];
const cli = (dir: string, ...args: string[]): Promise<CliResult> =>
  runCli(['--data-dir', dir, ...args], { timeoutMs: 30_000 });

function refused(result: CliResult, exitCode: number, pattern: RegExp): void {
  assert.equal(result.code, exitCode, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^error: [^\n]*\n$/);
  assert.match(result.stderr, pattern);
}

async function receivedAt(dir: string, who: string, text: string): Promise<Message> {
  return eventually(
    `"${text}" received`,
    async () => (await messagesWith(dir, who)).find((m) => m.text === text),
    STEP_MS,
  );
}

describe('contacts and names end to end', { timeout: 240_000 }, () => {
  let scene: FriendsOnTestnet;
  after(() => stopAll(running));

  test('the scene: Alice and Bob are friends on a testnet', async () => {
    await dumpingLogs(running, async () => {
      scene = await startFriendsOnTestnet(running);
    });
  });

  test('defects: add of a friend, blank and over-long messages, bad codes, yourself, typing', async () => {
    await dumpingLogs(running, async () => {
      const { alice, bob } = scene;
      const typo = `${bob.code.slice(0, -1)}${bob.code.endsWith('a') ? 'b' : 'a'}`;
      const [again, empty, blank, long, badSend, badMessages, self] = await Promise.all([
        cli(alice.dir, 'add', bob.code, '--name', 'x'),
        cli(alice.dir, 'send', 'bob', ''),
        cli(alice.dir, 'send', 'bob', '  \t '),
        cli(alice.dir, 'send', 'bob', 'x'.repeat(16 * 1024 + 1)),
        cli(alice.dir, 'send', typo, 'hi'),
        cli(alice.dir, 'messages', typo),
        cli(alice.dir, 'add', alice.code),
      ]);
      refused(
        again,
        2,
        new RegExp(`bob \\(${bob.code}\\) is already a friend; to rename, use dhtchat rename`),
      );
      refused(empty, 2, /empty/);
      refused(blank, 2, /empty/);
      refused(long, 2, /the limit is 16384 bytes/);
      refused(badSend, 2, /invalid friend code/);
      refused(badMessages, 2, /invalid friend code/);
      refused(self, 2, /your own friend code/);
      const contacts = (await cliJson(alice.dir, 'contacts')) as Contact[];
      assert.deepEqual(
        contacts.map((c) => c.name),
        ['bob'],
        'the refused add renamed nothing',
      );
      assert.deepEqual(await messagesWith(alice.dir, 'bob'), [], 'nothing was sent');
      const typing = await cli(alice.dir, 'typing', 'bob');
      assert.equal(typing.stdout, `told bob (${bob.code}) you are typing\n`);
    });
  });

  test('send from stdin, profile names, rename, paging, search', async () => {
    await dumpingLogs(running, async () => {
      const { alice, bob } = scene;
      const piped = await runCli(['--data-dir', alice.dir, 'send', 'bob', '-'], {
        input: 'first, from stdin\n',
        timeoutMs: 30_000,
      });
      assert.equal(piped.code, 0, piped.stderr);
      await receivedAt(bob.dir, alice.code, 'first, from stdin');
      for (const text of ['second', 'third: lunch at noon?']) await cliJson(alice.dir, 'send', 'bob', text);
      await receivedAt(bob.dir, alice.code, 'third: lunch at noon?');

      const named = await cli(bob.dir, 'profile', '--name', 'Robert');
      assert.equal(named.stdout, 'your name is now "Robert" (sent to your friends online now)\n');
      await eventually(
        "Bob's own name at Alice",
        async () => {
          const list = (await callDaemon(alice.dir, 'GET', '/v1/contacts')) as {
            profileName: string | null;
          }[];
          return list[0]?.profileName === 'Robert' ? true : undefined;
        },
        STEP_MS,
      );
      const contacts = await cli(alice.dir, 'contacts');
      assert.match(
        contacts.stdout,
        new RegExp(`^bob \\(calls themself "Robert"\\)  online  ${bob.code}\\n$`),
      );

      const renamed = await cli(alice.dir, 'rename', 'BOB', 'Rob');
      assert.equal(renamed.stdout, `renamed: Rob (${bob.code})\n`);
      const all = (await cliJson(alice.dir, 'messages', 'rob', '--peek')) as Message[];
      assert.deepEqual(
        all.map((m) => m.text),
        ['first, from stdin', 'second', 'third: lunch at noon?'],
      );
      const newest = (await cliJson(alice.dir, 'messages', 'Rob', '--limit', '1')) as Message[];
      assert.deepEqual(
        newest.map((m) => m.text),
        ['third: lunch at noon?'],
      );
      const before = (await cliJson(alice.dir, 'messages', 'Rob', '--before', all[2]?.id ?? '')) as Message[];
      assert.deepEqual(
        before.map((m) => m.text),
        ['first, from stdin', 'second'],
      );
      const found = await cli(bob.dir, 'search', 'LUNCH');
      assert.match(found.stdout, /^\S+ {2}\[Alice\] {2}Alice: third: lunch at noon\?\n$/);
    });
  });

  test('a stranger named "alice" never captures `send alice` or `messages alice` at Bob', async () => {
    await dumpingLogs(running, async () => {
      const { bootstrap, alice, bob } = scene;
      const malloryDir = mkdtempSync(join(tmpdir(), 'dhtchat-mallory-'));
      const { code: malloryCode } = (await cliJson(malloryDir, 'init', '--name', 'alice')) as {
        code: string;
      };
      const mallory = await startChatDaemon(malloryDir, bootstrap, running, { port: 0 });
      await cliJson(malloryDir, 'add', bob.code, '--message', 'hi, it is alice, new number');
      await waitForAnnouncement(bootstrap, decodeFriendCode(bob.code), mallory.port, STEP_MS);
      // Bob looks for requests when his daemon starts: restart it rather than wait for its next poll.
      await bob.daemon.proc.stop();
      await startChatDaemon(bob.dir, bootstrap, running);
      await eventually(
        "the stranger's request at Bob",
        async () => {
          const list = (await callDaemon(bob.dir, 'GET', '/v1/requests')) as { code: string }[];
          return list.some((r) => r.code === malloryCode) ? true : undefined;
        },
        REQUEST_POLL_MS,
      );
      await waitBothOnline(alice, bob, STEP_MS);

      const ambiguous = await cli(bob.dir, 'accept', 'alice');
      refused(ambiguous, 2, /could mean 2 people/);
      assert.ok(
        ambiguous.stderr.includes(alice.code) && ambiguous.stderr.includes(malloryCode),
        ambiguous.stderr,
      );
      const accepted = await cli(bob.dir, 'accept', malloryCode);
      assert.equal(
        accepted.stdout,
        `accepted ${malloryCode} (to name them: dhtchat rename ${malloryCode} NAME)\n`,
      );
      refused(await cli(bob.dir, 'rename', malloryCode, 'ALICE'), 2, /reads like your contact "Alice"/);

      await cliJson(bob.dir, 'send', 'alice', 'for Alice only');
      await receivedAt(alice.dir, 'rob', 'for Alice only');
      const atBob = (await cliJson(bob.dir, 'messages', 'alice', '--peek')) as Message[];
      assert.ok(atBob.every((m) => m.from === alice.code || m.from === bob.code));
      assert.ok(atBob.some((m) => m.text === 'for Alice only'));
      assert.deepEqual(await messagesWith(malloryDir, bob.code), [], 'the stranger got nothing');

      // Block, list, unblock; then remove: the stranger is a stranger again, the kept history by code.
      assert.equal((await cli(bob.dir, 'block', malloryCode)).code, 0);
      assert.equal((await cli(bob.dir, 'blocked')).stdout, `${malloryCode}\n`);
      const unblocked = await cli(bob.dir, 'unblock', malloryCode);
      assert.equal(unblocked.stdout, `unblocked ${malloryCode}: they may send you a request again\n`);
      assert.equal((await cli(bob.dir, 'blocked')).stdout, 'nobody is blocked\n');

      const removed = await cli(alice.dir, 'remove', 'rob');
      assert.equal(
        removed.stdout,
        `removed Rob (${bob.code}); the conversation is kept (dhtchat messages ${bob.code})\n`,
      );
      assert.equal((await cli(alice.dir, 'contacts')).stdout, 'no contacts yet\n');
      const kept = (await cliJson(alice.dir, 'messages', bob.code, '--peek')) as Message[];
      assert.ok(kept.some((m) => m.text === 'for Alice only'));
      refused(await cli(alice.dir, 'send', 'rob', 'hi'), 1, /no contact "rob"/);
    });
  });
});
