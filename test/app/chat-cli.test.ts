/**
 * The chat command line without a network: init/id, bad friend codes, the client commands with no daemon, a
 * second daemon on a locked data dir, and every client command against a local API served by a fake ChatService
 * (so the CLI's JSON shapes and human lines are checked without ChatNode).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ChatService, ContactView, MessageView, RequestView } from '../../src/app/chat-api-types.ts';
import { startChatApiServer } from '../../src/app/chat-api-server.ts';
import { writeApiFile } from '../../src/app/chat-data-dir.ts';
import { CHAT_DATABASE_FILE, ChatStore, decodeFriendCode, encodeFriendCode } from '../../src/chat/index.ts';
import { DhtchatError, SeededRandom, systemClock } from '../../src/runtime/index.ts';
import { startJsonLines } from '../e2e/chat-processes.ts';
import { CLI_PATH, type CliResult, runCli } from '../helpers/cli-runner.ts';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'dhtchat-cli-'));
const random = new SeededRandom('chat-cli');
const BOB = encodeFriendCode(random.bytes(32));
const ME = encodeFriendCode(random.bytes(32));

function oneErrorLine(result: CliResult, exitCode: number, pattern: RegExp): void {
  assert.equal(result.code, exitCode, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one error line, got: ${result.stderr}`);
  assert.match(lines[0] as string, /^error: /);
  assert.match(lines[0] as string, pattern);
}

describe('dhtchat init and id', () => {
  test('init prints a valid code; id prints the same; the key file is 0600; a second init is refused', async () => {
    const dir = tempDir();
    const init = await runCli(['--data-dir', dir, 'init', '--name', 'Alice', '--json']);
    assert.equal(init.code, 0, init.stderr);
    const { code } = JSON.parse(init.stdout) as { code: string };
    assert.equal(decodeFriendCode(code).length, 32);
    assert.equal(statSync(join(dir, 'identity.dat')).mode & 0o777, 0o600);

    const id = await runCli(['--data-dir', dir, 'id', '--json']);
    assert.equal(id.code, 0, id.stderr);
    assert.deepEqual(JSON.parse(id.stdout), {
      code,
      publicKey: decodeFriendCode(code).toString('hex'),
      name: 'Alice',
      isProtected: false,
    });
    const human = await runCli(['--data-dir', dir, 'id']);
    assert.deepEqual(human.stdout.split('\n').slice(0, 2), [code, 'name: Alice']);

    oneErrorLine(await runCli(['--data-dir', dir, 'init']), 1, /identity already exists/);
    const again = await runCli(['--data-dir', dir, 'id']);
    assert.equal(again.stdout.split('\n')[0], code, 'the refused init left the key alone');
  });

  test('DHTCHAT_PASSPHRASE protects the key; id still works without it', async () => {
    const dir = tempDir();
    const env = { DHTCHAT_PASSPHRASE: 'correct horse' };
    const init = await runCli(['--data-dir', dir, 'init'], { env });
    assert.equal(init.code, 0, init.stderr);
    const id = await runCli(['--data-dir', dir, 'id', '--json'], { env: { DHTCHAT_PASSPHRASE: '' } });
    const shown = JSON.parse(id.stdout) as { code: string; isProtected: boolean };
    assert.equal(shown.code, init.stdout.trim());
    assert.equal(shown.isProtected, true);
    const daemon = ['--data-dir', dir, 'daemon', '--port', '0', '--bootstrap', '127.0.0.1:9'];
    oneErrorLine(await runCli(daemon), 1, /protected by a passphrase: set DHTCHAT_PASSPHRASE/);
    oneErrorLine(await runCli(daemon, { env: { DHTCHAT_PASSPHRASE: 'wrong' } }), 1, /wrong passphrase/);
  });

  test('id without init, and a bad --name, are one-line errors', async () => {
    oneErrorLine(await runCli(['--data-dir', tempDir(), 'id']), 1, /no identity at .* \(run init first\)/);
    oneErrorLine(await runCli(['--data-dir', tempDir(), 'init', '--name', ' ']), 2, /name/);
  });
});

describe('dhtchat client commands without a daemon', () => {
  test('bad friend codes are usage errors naming the problem', async () => {
    const dir = tempDir();
    const valid = BOB;
    const swapped = `${valid.slice(0, 12)}${valid[13]}${valid[12]}${valid.slice(14)}`;
    const cases: Array<[string, RegExp]> = [
      ['hello', /starts with "dhtchat:"/],
      ['dhtchat:abc', /3: 55 missing/],
      [`${valid.slice(0, -1)}1`, /cannot appear.*did you mean "l"/],
      [swapped === valid ? `${valid.slice(0, -1)}a` : swapped, /typo/],
    ];
    await Promise.all(
      cases.map(async ([code, pattern]) =>
        oneErrorLine(await runCli(['--data-dir', dir, 'add', code]), 2, pattern),
      ),
    );
  });

  test('every client command says there is no daemon, in one line, exit 1', async () => {
    const dir = tempDir();
    // One of each kind (a friend code, a read, an action on a name, a two-argument send); all share one client.
    const commands = [['add', BOB], ['requests'], ['accept', 'bob'], ['send', 'bob', 'hi']];
    await Promise.all(
      commands.map(async (args) =>
        oneErrorLine(
          await runCli(['--data-dir', dir, ...args]),
          1,
          /^error: no daemon running for data dir /,
        ),
      ),
    );
  });

  test('a stale api.json (daemon killed) is also "no daemon running"', async () => {
    const dir = tempDir();
    await writeApiFile(dir, { port: 9, token: 'ab'.repeat(32), pid: 1 });
    oneErrorLine(await runCli(['--data-dir', dir, 'contacts']), 1, /no daemon running for data dir .*stale/);
  });

  test('a daemon on a data dir whose store is in use fails with one line', async () => {
    const dir = tempDir();
    const init = await runCli(['--data-dir', dir, 'init', '--json']);
    const { code } = JSON.parse(init.stdout) as { code: string };
    // The test holds the store's lock, as a first daemon would.
    const store = ChatStore.open({
      path: join(dir, CHAT_DATABASE_FILE),
      ownPublicKey: decodeFriendCode(code),
      clock: systemClock,
      random,
    });
    try {
      const second = await runCli(['--data-dir', dir, 'daemon', '--port', '0', '--bootstrap', '127.0.0.1:9']);
      oneErrorLine(second, 1, /in use by another process \(is a dhtchat daemon already running/);
    } finally {
      store.close();
    }
  });
});

test('daemon --init makes the identity on the first run and keeps it on the next', async () => {
  const dir = tempDir();
  const codes: string[] = [];
  for (let run = 0; run < 2; run++) {
    const proc = startJsonLines([
      '--data-dir',
      dir,
      'daemon',
      '--init',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--bootstrap',
      '127.0.0.1:9',
      '--allow-private',
    ]);
    try {
      const ready = await proc.waitFor((l) => l['event'] === 'ready', 30_000);
      codes.push(ready['code'] as string);
    } finally {
      assert.equal(await proc.stop(), 0);
    }
  }
  const id = await runCli(['--data-dir', dir, 'id']);
  assert.equal(id.code, 0);
  assert.deepEqual(codes, [id.stdout.trim(), id.stdout.trim()]);
});

test('a daemon on a corrupt chat database fails with one line and leaves the file alone', async () => {
  const dir = tempDir();
  assert.equal((await runCli(['--data-dir', dir, 'init'])).code, 0);
  const garbage = Buffer.from("this is not a database, but it is someone's file");
  writeFileSync(join(dir, CHAT_DATABASE_FILE), garbage);
  const result = await runCli(['--data-dir', dir, 'daemon', '--port', '0', '--bootstrap', '127.0.0.1:9']);
  oneErrorLine(result, 1, /is corrupt \(not an SQLite database\)/);
  assert.deepEqual(readFileSync(join(dir, CHAT_DATABASE_FILE)), garbage);
});

describe('dhtchat client commands against a local API', () => {
  const dir = tempDir();
  const calls: string[] = [];
  const contact: ContactView = {
    name: 'bob',
    code: BOB,
    presence: 'online',
    lastSeen: 1_700_000_000_000,
    profileName: null,
  };
  const request: RequestView = { code: BOB, message: 'hi, it is Bob', receivedAt: 1_700_000_000_000 };
  const messages: MessageView[] = [
    { id: 'aa'.repeat(16), from: ME, text: 'hello', ts: 1_700_000_000_000, state: 'delivered' },
    { id: 'bb'.repeat(16), from: BOB, text: 'hey', ts: 1_700_000_001_000, state: 'read' },
  ];
  const unknown = (who: string): never => {
    throw new DhtchatError('CHAT_UNKNOWN_FRIEND', `no contact "${who}"`);
  };
  const events = new EventEmitter();
  const service: ChatService = {
    on: (name, listener) => events.on(name, listener),
    off: (name, listener) => events.off(name, listener),
    code: ME,
    addFriend: async (code, opts) => {
      calls.push(`add ${code} ${JSON.stringify(opts)}`);
      return contact;
    },
    requests: () => [request],
    accept: async (who) => (who === 'bob' || who === BOB ? contact : unknown(who)),
    decline: (who) => void calls.push(`decline ${who}`),
    block: (who) => void calls.push(`block ${who}`),
    unblock: (who) => unknown(who),
    contacts: () => [contact],
    blocked: () => [],
    rename: (who) => unknown(who),
    remove: (who) => unknown(who),
    profile: () => ({ name: null, code: ME }),
    setProfileName: async (name) => ({ name, code: ME }),
    search: () => [],
    send: async (who, text) => {
      if (who !== 'bob') unknown(who);
      if (Buffer.byteLength(text) > 16 * 1024) throw new DhtchatError('CHAT_MESSAGE_TOO_LARGE', 'too large');
      return { id: 'cc'.repeat(16), state: 'queued' };
    },
    messages: (who) => (who === 'bob' ? messages : unknown(who)),
    markRead: (who) => void calls.push(`read ${who}`),
    setTyping: (who, isTyping) => {
      calls.push(`typing ${who} ${isTyping}`);
      return { to: contact, isSent: true };
    },
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

  before(async () => {
    const token = 'cd'.repeat(32);
    const server = await startChatApiServer({ service, token });
    close = server.close;
    await writeApiFile(dir, { port: server.port, token, pid: process.pid });
  });
  after(() => close());

  const cli = (...args: string[]): Promise<CliResult> => runCli(['--data-dir', dir, ...args]);
  const json = async (...args: string[]): Promise<unknown> => {
    const result = await cli(...args, '--json');
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout);
  };

  test('JSON shapes of the contract', async () => {
    assert.deepEqual(await json('add', BOB.toUpperCase(), '--name', 'bob', '--message', 'hi'), contact);
    assert.ok(calls.includes(`add ${BOB} {"name":"bob","message":"hi"}`), calls.join('; '));
    assert.deepEqual(await json('contacts'), [contact]);
    assert.deepEqual(await json('requests'), [request]);
    assert.deepEqual(await json('accept', 'bob'), contact);
    assert.deepEqual(await json('send', 'bob', 'hello'), { id: 'cc'.repeat(16), state: 'queued' });
    assert.deepEqual(await json('messages', 'bob'), messages);
    assert.ok(calls.includes('read bob'), 'messages marks the conversation read');
  });

  test('human output', async () => {
    const contacts = await cli('contacts');
    assert.equal(contacts.stdout, `bob  online  ${BOB}\n`);
    const sent = await cli('send', 'bob', 'hello');
    assert.equal(sent.stdout, `${'cc'.repeat(16)} queued\n`);
    const list = await cli('messages', 'bob', '--peek');
    assert.deepEqual(list.stdout.trim().split('\n'), [
      '2023-11-14T22:13:20.000Z  me: hello  (delivered)',
      '2023-11-14T22:13:21.000Z  bob: hey  (read)',
    ]);
    const declined = await cli('decline', 'bob');
    assert.equal(declined.stdout, 'declined bob\n');
    assert.ok(calls.includes('decline bob'));
  });

  test('typing sends isTyping true, --stop sends false, and says so', async () => {
    const typing = await cli('typing', 'bob');
    assert.equal(typing.code, 0);
    assert.equal(typing.stdout, `told bob (${BOB}) you are typing\n`);
    const stopped = await cli('typing', 'bob', '--stop');
    assert.equal(stopped.code, 0);
    assert.equal(stopped.stdout, `told bob (${BOB}) you stopped typing\n`);
    const sent = calls.filter((c) => c.startsWith('typing '));
    assert.deepEqual(sent, ['typing bob true', 'typing bob false']);
  });

  test('events --json prints each chat event as a JSON line until SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI_PATH, '--data-dir', dir, 'events', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line)));
    // The server's event log listens from its start, so a listener count does not show when this client's
    // stream is up: a typing event, repeated until one comes through, does.
    const deadline = Date.now() + 20_000;
    while (lines.length === 0 && Date.now() < deadline) {
      events.emit('typing', { code: BOB, isTyping: true });
      await new Promise((r) => setTimeout(r, 50));
    }
    events.emit('presence', { code: BOB, presence: 'away', lastSeen: 5 });
    while (lines.at(-1)?.['event'] !== 'presence' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const presence = lines.pop();
    assert.deepEqual(presence, { event: 'presence', code: BOB, presence: 'away', lastSeen: 5 });
    assert.ok(lines.length > 0);
    for (const line of lines) assert.deepEqual(line, { event: 'typing', code: BOB, isTyping: true });
  });

  test("the daemon's errors come back as one line: a failure exits 1, bad input 2", async () => {
    oneErrorLine(await cli('send', 'carol', 'hi'), 1, /no contact "carol"/);
    oneErrorLine(await cli('send', 'bob', 'x'.repeat(16 * 1024 + 1)), 2, /16385 bytes of UTF-8; the limit/);
  });
});
