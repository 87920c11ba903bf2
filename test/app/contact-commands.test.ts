/**
 * The contact and message commands as processes against a local API served by a recording fake ChatService:
 * what each sends to the daemon, what it prints (human lines escaped, --json exact), and the exit-code rule
 * (bad input 2 — also when the daemon is the one that says so —, failures 1).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ChatService, ContactView, FoundMessage } from '../../src/app/chat-api-types.ts';
import { startChatApiServer } from '../../src/app/chat-api-server.ts';
import { writeApiFile } from '../../src/app/chat-data-dir.ts';
import { MAX_MESSAGE_BYTES, MAX_MESSAGES_PER_CALL } from '../../src/app/message-commands.ts';
import {
  encodeFriendCode,
  MAX_MESSAGE_TEXT_BYTES,
  MAX_MESSAGES_PER_CALL as CHAT_MAX,
} from '../../src/chat/index.ts';
import { DhtchatError, SeededRandom } from '../../src/runtime/index.ts';
import { type CliResult, runCli } from '../helpers/cli-runner.ts';

const random = new SeededRandom('contact-commands');
const BOB = encodeFriendCode(random.bytes(32));
const MALLORY = encodeFriendCode(random.bytes(32));
const ME = encodeFriendCode(random.bytes(32));
const HOSTILE = 'Rob\u001b]0;owned\u0007\u202eert';

function oneErrorLine(result: CliResult, exitCode: number, pattern: RegExp): void {
  assert.equal(result.code, exitCode, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one error line, got: ${result.stderr}`);
  assert.match(lines[0] as string, /^error: /);
  assert.match(lines[0] as string, pattern);
}

const bob: ContactView = {
  name: 'bob',
  code: BOB,
  presence: 'online',
  lastSeen: 1_700_000_000_000,
  profileName: HOSTILE,
};
const unnamed: ContactView = {
  name: MALLORY,
  code: MALLORY,
  presence: 'offline',
  lastSeen: null,
  profileName: null,
};

describe('contact and message commands against a local API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-contacts-cli-'));
  const calls: unknown[] = [];
  const fail = (code: string, message: string): never => {
    throw new DhtchatError(code, message);
  };
  const byName = (who: string): ContactView => {
    if (who === 'bob' || who === BOB) return bob;
    if (who === 'alice')
      return fail(
        'CHAT_NAME_AMBIGUOUS',
        `"alice" could mean 2 people: "Alice" (${BOB}), "alice" (${MALLORY}, friend request); use the friend code`,
      );
    if (who.startsWith('dhtchat:')) return fail('CHAT_FRIEND_CODE_CHECKSUM', 'invalid friend code: a typo');
    return fail('CHAT_UNKNOWN_FRIEND', `no contact "${who}"`);
  };
  const found: FoundMessage[] = [
    { with: BOB, id: 'aa'.repeat(16), from: ME, text: 'lunch?', ts: 1_700_000_000_000, state: 'read' },
    {
      with: MALLORY,
      id: 'bb'.repeat(16),
      from: MALLORY,
      text: 'LUNCH\u001b[2J',
      ts: 1_700_000_001_000,
      state: 'read',
    },
  ];
  const service: ChatService = {
    on: (name, listener) => new EventEmitter().on(name, listener),
    off: () => undefined,
    code: ME,
    addFriend: async (code) =>
      code === BOB
        ? fail('CHAT_ALREADY_FRIEND', `bob (${BOB}) is already a friend; to rename, use dhtchat rename`)
        : unnamed,
    requests: () => [],
    accept: async (who) => (who === MALLORY ? unnamed : byName(who)),
    decline: (who) => void byName(who),
    block: (who) => void byName(who),
    unblock: (who) => (who === MALLORY ? unnamed : fail('CHAT_UNKNOWN_FRIEND', `"${who}" is not blocked`)),
    contacts: () => [bob, unnamed],
    blocked: () => [unnamed],
    rename: (who, name) => {
      calls.push(['rename', who, name]);
      return name === 'Alice'
        ? fail('CHAT_CONTACT_NAME_TAKEN', `"Alice" reads like your contact "alice" (${MALLORY})`)
        : { ...byName(who), name };
    },
    remove: (who, opts) => {
      calls.push(['remove', who, opts]);
      return byName(who);
    },
    profile: () => ({ name: 'Me', code: ME }),
    setProfileName: async (name) => {
      calls.push(['profile', name]);
      return { name, code: ME };
    },
    send: async (who, text) => {
      calls.push(['send', who, text]);
      byName(who);
      return { id: 'cc'.repeat(16), state: 'queued' };
    },
    messages: (who, page) => {
      calls.push(['messages', who, page]);
      byName(who);
      return [];
    },
    search: (text, opts) => {
      calls.push(['search', text, opts]);
      return found;
    },
    markRead: (who) => void calls.push(['read', who]),
    setTyping: (who) => ({ to: byName(who), isSent: false }),
    sendFile: async () => {
      throw new DhtchatError('FILE_NOT_FOUND', 'no file');
    },
    files: () => [],
    acceptFile: async () => {
      throw new DhtchatError('FILE_UNKNOWN_TRANSFER', 'no file transfer');
    },
    cancelFile: async () => {
      throw new DhtchatError('FILE_UNKNOWN_TRANSFER', 'no file transfer');
    },
  };
  let close: () => Promise<void> = async () => {};
  const token = 'ab'.repeat(32);
  let base = '';
  before(async () => {
    const server = await startChatApiServer({ service, token });
    close = server.close;
    base = `http://127.0.0.1:${server.port}`;
    await writeApiFile(dir, { port: server.port, token, pid: process.pid });
  });
  after(() => close());
  const cli = (...args: string[]): Promise<CliResult> => runCli(['--data-dir', dir, ...args]);
  const lastCall = (): unknown => calls.at(-1);

  test('exit codes: bad input is 2 wherever it is found, a failure 1', async () => {
    const typo = `${BOB.slice(0, -1)}${BOB.endsWith('a') ? 'b' : 'a'}`;
    const [add, send, accept, block, messages, ambiguous, already, taken, unknown] = await Promise.all([
      cli('add', typo),
      cli('send', typo, 'hi'),
      cli('accept', typo),
      cli('block', typo),
      cli('messages', typo),
      cli('send', 'alice', 'hi'),
      cli('add', BOB, '--name', 'x'),
      cli('rename', 'bob', 'Alice'),
      cli('send', 'carol', 'hi'),
    ]);
    oneErrorLine(add, 2, /invalid friend code/);
    for (const result of [send, accept, block, messages]) oneErrorLine(result, 2, /invalid friend code/);
    oneErrorLine(
      ambiguous,
      2,
      new RegExp(`could mean 2 people: "Alice" \\(${BOB}\\), "alice" \\(${MALLORY}, friend`),
    );
    oneErrorLine(already, 2, /is already a friend; to rename, use dhtchat rename/);
    oneErrorLine(taken, 2, /reads like your contact "alice"/);
    oneErrorLine(unknown, 1, /no contact "carol"/);
  });

  test('send: blank and over-long text are refused before the daemon is asked; - reads standard input', async () => {
    const before = calls.length;
    const [empty, blank, long] = await Promise.all([
      cli('send', 'bob', ''),
      cli('send', 'bob', ' \t '),
      cli('send', 'bob', 'é'.repeat(MAX_MESSAGE_BYTES / 2 + 1)),
    ]);
    oneErrorLine(empty, 2, /empty/);
    oneErrorLine(blank, 2, /empty/);
    oneErrorLine(long, 2, /16386 bytes of UTF-8; the limit is 16384/);
    assert.equal(calls.length, before, 'nothing reached the daemon');

    const piped = await runCli(['--data-dir', dir, 'send', 'bob', '-'], {
      input: 'line one\nline two ✓\n\n',
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.deepEqual(lastCall(), ['send', 'bob', 'line one\nline two ✓']);
    const [pipedEmpty, pipedLong, notUtf8] = await Promise.all([
      runCli(['--data-dir', dir, 'send', 'bob', '-'], { input: '\n' }),
      runCli(['--data-dir', dir, 'send', 'bob', '-'], { input: Buffer.alloc(1024 * 1024, 0x61) }),
      runCli(['--data-dir', dir, 'send', 'bob', '-'], { input: Buffer.of(0x68, 0xff, 0x69) }),
    ]);
    oneErrorLine(pipedEmpty, 2, /empty/);
    oneErrorLine(pipedLong, 2, /standard input is over 16384 bytes/);
    oneErrorLine(notUtf8, 2, /not valid UTF-8/);
  });

  test("contacts show a friend's own name escaped beside ours; --json is exact", async () => {
    const human = await cli('contacts');
    assert.equal(human.code, 0, human.stderr);
    const [first] = human.stdout.split('\n');
    assert.equal(first, `bob (calls themself "Rob\\x1b]0;owned\\x07\\u202eert")  online  ${BOB}`);
    assert.doesNotMatch(human.stdout, /[\u001b\u0007\u202e]/);
    const json = await cli('contacts', '--json');
    assert.deepEqual(JSON.parse(json.stdout), [bob, unnamed]);
  });

  test('rename, remove (--forget), unblock, blocked, typing: calls and lines', async () => {
    const renamed = await cli('rename', 'bob', 'Robert');
    assert.equal(renamed.stdout, `renamed: Robert (${BOB})\n`);
    assert.deepEqual(lastCall(), ['rename', 'bob', 'Robert']);
    const removed = await cli('remove', 'bob');
    assert.equal(
      removed.stdout,
      `removed bob (${BOB}); the conversation is kept (dhtchat messages ${BOB})\n`,
    );
    assert.deepEqual(lastCall(), ['remove', 'bob', { isHistoryForgotten: false }]);
    const forgot = await cli('remove', 'bob', '--forget', '--json');
    assert.deepEqual(JSON.parse(forgot.stdout), bob);
    assert.deepEqual(lastCall(), ['remove', 'bob', { isHistoryForgotten: true }]);
    const [unblocked, notBlocked, blocked, blockedJson, typing] = await Promise.all([
      cli('unblock', MALLORY),
      cli('unblock', 'bob'),
      cli('blocked'),
      cli('blocked', '--json'),
      cli('typing', 'bob'),
    ]);
    assert.equal(unblocked.stdout, `unblocked ${MALLORY}: they may send you a request again\n`);
    oneErrorLine(notBlocked, 1, /"bob" is not blocked/);
    assert.equal(blocked.stdout, `${MALLORY}\n`);
    assert.deepEqual(JSON.parse(blockedJson.stdout), [unnamed]);
    assert.equal(typing.stdout, `bob (${BOB}) is not online: nothing sent (typing is not kept)\n`);
    const accepted = await cli('accept', MALLORY);
    assert.equal(accepted.stdout, `accepted ${MALLORY} (to name them: dhtchat rename ${MALLORY} NAME)\n`);
  });

  test('messages --limit/--before reach the daemon as a page (not marked read); bad values are usage errors', async () => {
    const ok = await cli('messages', 'bob', '--limit', '20', '--before', '2023-11-14T22:13:20Z');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'no earlier messages\n');
    assert.deepEqual(lastCall(), ['messages', 'bob', { limit: 20, beforeMs: 1_700_000_000_000 }]);
    await cli('messages', 'bob', '--before', 'AB'.repeat(16), '--json');
    assert.deepEqual(lastCall(), ['messages', 'bob', { beforeId: 'ab'.repeat(16) }]);
    await cli('messages', 'bob', '--peek');
    assert.deepEqual(lastCall(), ['messages', 'bob', {}]);
    const [zero, tooMany, badBefore] = await Promise.all([
      cli('messages', 'bob', '--limit', '0'),
      cli('messages', 'bob', '--limit', String(MAX_MESSAGES_PER_CALL + 1)),
      cli('messages', 'bob', '--before', 'yesterday'),
    ]);
    oneErrorLine(zero, 2, /limit is a number from 1 to 1000/);
    oneErrorLine(tooMany, 2, /limit/);
    oneErrorLine(badBefore, 2, /--before takes a message id/);
  });

  test('search prints conversation, sender and text escaped; --json is exact; blank text is refused', async () => {
    const human = await cli('search', 'lunch', '--with', 'bob', '--limit', '5');
    assert.deepEqual(lastCall(), ['search', 'lunch', { with: 'bob', limit: 5 }]);
    assert.deepEqual(human.stdout.split('\n'), [
      `2023-11-14T22:13:20.000Z  [bob]  me: lunch?`,
      `2023-11-14T22:13:21.000Z  [${MALLORY}]  ${MALLORY}: LUNCH\\x1b[2J`,
      '',
    ]);
    const json = await cli('search', 'lunch', '--json');
    assert.deepEqual(JSON.parse(json.stdout), found);
    assert.deepEqual(lastCall(), ['search', 'lunch', { limit: 50 }]);
    oneErrorLine(await cli('search', '  '), 2, /empty/);
  });

  test('the API refuses malformed paging, search and remove parameters with 400', async () => {
    const headers = { authorization: `Bearer ${token}` };
    const codeOf = async (path: string, init: RequestInit = {}): Promise<string> => {
      const res = await fetch(`${base}${path}`, { headers, ...init });
      assert.equal(res.status, 400, path);
      return ((await res.json()) as { error: { code: string } }).error.code;
    };
    for (const path of [
      '/v1/messages?with=bob&before=yesterday',
      '/v1/messages?with=bob&limit=ten',
      '/v1/search?with=bob',
    ]) {
      assert.equal(await codeOf(path), 'APP_API_BAD_REQUEST');
    }
    const body = JSON.stringify({ who: 'bob', forget: 'yes' });
    assert.equal(await codeOf('/v1/contacts/remove', { method: 'POST', body }), 'APP_API_BAD_REQUEST');
    assert.equal(await codeOf('/v1/contacts/rename', { method: 'POST', body }), 'APP_API_BAD_REQUEST');
  });

  test('profile shows and sets the name through the daemon; a bad name is refused first', async () => {
    const shown = await cli('profile');
    assert.equal(shown.stdout, `name: Me\ncode: ${ME}\n`);
    const set = await cli('profile', '--name', 'Robert ✓');
    assert.equal(set.stdout, 'your name is now "Robert ✓" (sent to your friends online now)\n');
    assert.deepEqual(lastCall(), ['profile', 'Robert ✓']);
    oneErrorLine(await cli('profile', '--name', 'a\u202eb'), 2, /your name is not usable/);
  });
});

test('profile without a daemon reads and writes profile.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-profile-'));
  const init = await runCli(['--data-dir', dir, 'init', '--json']);
  const { code } = JSON.parse(init.stdout) as { code: string };
  const set = await runCli(['--data-dir', dir, 'profile', '--name', 'Zoë']);
  assert.equal(set.stdout, 'your name is now "Zoë" (your daemon sends it when it next starts)\n');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8')), { name: 'Zoë' });
  const shown = await runCli(['--data-dir', dir, 'profile', '--json']);
  assert.deepEqual(JSON.parse(shown.stdout), { name: 'Zoë', code });
});

test("the CLI's limits are the chat layer's", () => {
  assert.equal(MAX_MESSAGE_BYTES, MAX_MESSAGE_TEXT_BYTES);
  assert.equal(MAX_MESSAGES_PER_CALL, CHAT_MAX);
});
