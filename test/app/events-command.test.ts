/**
 * `dhtchat events` as a process against a local API served by a fake ChatService: friends by name (read at the
 * start, learnt from `accepted`, read again for a code it does not know), hostile text escaped, --json exact,
 * and how it ends: the daemon stopping is one line and exit 0, Ctrl-C is exit 0 and quiet.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { type ChatApiServer, startChatApiServer } from '../../src/app/chat-api-server.ts';
import type { ChatService, ContactView } from '../../src/app/chat-api-types.ts';
import { writeApiFile } from '../../src/app/chat-data-dir.ts';
import { isTerminalSafe } from '../../src/app/terminal-text.ts';
import { CLI_PATH, REPO_ROOT } from '../helpers/cli-runner.ts';

const ATTACK = 'hi\x1b[2J\x1b]0;owned\x07\r\nFAKE: Alice: send me your password';
const ATTACK_SHOWN = 'hi\\x1b[2J\\x1b]0;owned\\x07\\r\\nFAKE: Alice: send me your password';
const BOB = 'dhtchat:bob';
const CAROL = 'dhtchat:carol';
const DAVE = 'dhtchat:dave';
const STRANGER = 'dhtchat:stranger';
const TOKEN = 'ab'.repeat(32);
const WAIT_MS = 20_000;

/** A fake daemon: its contact list can change under the client; contactReads counts GET /v1/contacts. */
class FakeDaemon {
  readonly events = new EventEmitter();
  contacts: ContactView[] = [contact('bob', BOB)];
  contactReads = 0;
  readonly dir = mkdtempSync(join(tmpdir(), 'dhtchat-events-'));
  #server: ChatApiServer | undefined;

  async start(): Promise<void> {
    const unused = (): never => {
      throw new Error('not used by events');
    };
    const service: ChatService = {
      code: 'dhtchat:me',
      on: (name, listener) => this.events.on(name, listener),
      off: (name, listener) => this.events.off(name, listener),
      contacts: () => {
        this.contactReads++;
        return this.contacts;
      },
      addFriend: unused,
      requests: unused,
      accept: unused,
      decline: unused,
      block: unused,
      unblock: unused,
      blocked: unused,
      rename: unused,
      remove: unused,
      profile: unused,
      setProfileName: unused,
      send: unused,
      search: unused,
      messages: unused,
      markRead: unused,
      setTyping: unused,
      sendFile: unused,
      files: unused,
      acceptFile: unused,
      cancelFile: unused,
    };
    this.#server = await startChatApiServer({ service, token: TOKEN });
    await writeApiFile(this.dir, { port: this.#server.port, token: TOKEN, pid: process.pid });
  }

  async stop(): Promise<void> {
    await this.#server?.close();
  }

  /** Clients following the event stream now. */
  streams(): number {
    return this.#server?.eventStreams() ?? 0;
  }
}

function contact(name: string, code: string): ContactView {
  return { name, code, presence: 'online', lastSeen: null, profileName: null };
}

interface EventsProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  stderr(): string;
  waitForLines(count: number): Promise<void>;
  exited: Promise<number | null>;
}

function startEvents(daemon: FakeDaemon, ...flags: string[]): EventsProcess {
  const child = spawn(process.execPath, [CLI_PATH, '--data-dir', daemon.dir, 'events', ...flags], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(killer));
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    waitForLines: (count) =>
      until(`${count} lines (have ${JSON.stringify(lines)})`, () => lines.length >= count),
  };
}

async function until(what: string, isDone: () => boolean): Promise<void> {
  const endMs = Date.now() + WAIT_MS;
  while (!isDone()) {
    if (Date.now() > endMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until the client follows the stream. */
async function subscribed(daemon: FakeDaemon): Promise<void> {
  await until('events to subscribe', () => daemon.streams() > 0);
}

test('events names friends, escapes what others wrote, and says so when the daemon stops (exit 0)', async () => {
  const daemon = new FakeDaemon();
  await daemon.start();
  const proc = startEvents(daemon);
  try {
    await subscribed(daemon);
    assert.equal(daemon.contactReads, 1, 'the contact list is read once at the start');
    const emit = (name: string, event: object): boolean => daemon.events.emit(name, event);
    emit('message', { from: BOB, message: { id: 'aa', from: BOB, text: ATTACK, ts: 1, state: 'delivered' } });
    emit('request', { code: STRANGER, name: ATTACK, message: ATTACK, receivedAt: 1 });
    emit('accepted', contact('carol', CAROL));
    emit('presence', { code: CAROL, presence: 'online', lastSeen: 1 });
    await proc.waitForLines(4);
    assert.equal(daemon.contactReads, 1, 'a request and an acceptance need no new read');

    // A contact added since the start (its first event triggers one read), and an unnamed one (read once only).
    daemon.contacts = [...daemon.contacts, contact('dave', DAVE), contact(STRANGER, STRANGER)];
    emit('typing', { code: DAVE, isTyping: true });
    emit('state', { with: STRANGER, id: 'bb', state: 'read' });
    emit('presence', { code: STRANGER, presence: 'away', lastSeen: 2 });
    await proc.waitForLines(7);
    assert.equal(daemon.contactReads, 3);

    await daemon.stop();
    assert.equal(await proc.exited, 0, proc.stderr());
    assert.deepEqual(proc.lines, [
      `message from bob: ${ATTACK_SHOWN}  (aa)`,
      `friend request from "${ATTACK_SHOWN}" (${STRANGER}): "${ATTACK_SHOWN}"`,
      `carol (${CAROL}) is now a friend`,
      'carol is online',
      'dave is typing…',
      `message bb to ${STRANGER}: read`,
      `${STRANGER} is away`,
      'the daemon stopped',
    ]);
    for (const line of proc.lines) assert.ok(isTerminalSafe(line), line);
    assert.equal(proc.stderr(), '');
  } finally {
    proc.child.kill('SIGKILL');
    await daemon.stop();
  }
});

test('events --json prints the exact event objects; the daemon stopping goes to stderr, exit 0', async () => {
  const daemon = new FakeDaemon();
  await daemon.start();
  const proc = startEvents(daemon, '--json');
  try {
    await subscribed(daemon);
    const request = { code: STRANGER, name: ATTACK, message: `${ATTACK} \u202e 👩‍👩‍👧‍👦`, receivedAt: 1 };
    daemon.events.emit('request', request);
    await proc.waitForLines(1);
    await daemon.stop();
    assert.equal(await proc.exited, 0, proc.stderr());
    assert.deepEqual(
      proc.lines.map((l) => JSON.parse(l)),
      [{ event: 'request', ...request }],
    );
    assert.equal(proc.stderr(), 'the daemon stopped\n');
    assert.equal(daemon.contactReads, 0, '--json needs no names');
  } finally {
    proc.child.kill('SIGKILL');
    await daemon.stop();
  }
});

test('events ends quietly with exit 0 on SIGINT and on SIGTERM', async () => {
  const daemon = new FakeDaemon();
  await daemon.start();
  try {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const proc = startEvents(daemon);
      await subscribed(daemon);
      proc.child.kill(signal);
      assert.equal(await proc.exited, 0, `${signal}: ${proc.stderr()}`);
      assert.deepEqual(proc.lines, []);
      assert.equal(proc.stderr(), '');
      await until('the stream to close', () => daemon.streams() === 0);
    }
  } finally {
    await daemon.stop();
  }
});
