/**
 * `dhtchat chat <who>` against two real daemons (friends on a loopback testnet), on a real pseudo-terminal and
 * from a pipe. On the terminal: the history shows, typing goes out while keys are pressed, a typed line reaches
 * Bob, its delivered and read marks appear, Bob's typing shows in the status line, his reply appears live (its
 * escape sequences shown inert) and is marked read because the window is open; /quit exits 0. From a pipe: lines
 * in are messages out, events are lines, the end of input exits 0 once sent, and the daemon stopping ends the
 * chat with a line and exit 0.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { CLI_PATH, REPO_ROOT, runCli } from '../helpers/cli-runner.ts';
import { startOnPty } from '../helpers/pty.ts';
import {
  cliJson,
  DEBUG_ENV,
  dumpingLogs,
  eventually,
  type FriendsOnTestnet,
  type JsonLinesProcess,
  messagesWith,
  STEP_MS,
  startFriendsOnTestnet,
  stopAll,
} from './chat-processes.ts';

const running: JsonLinesProcess[] = [];
let friends: FriendsOnTestnet;

/** Bob's side: a message he sent has reached `state` (his own view). */
async function bobSees(text: string, state: string): Promise<true | undefined> {
  const m = (await messagesWith(friends.bob.dir, friends.alice.code)).find((x) => x.text === text);
  return m?.state === state ? true : undefined;
}

async function bobHas(text: string): Promise<true | undefined> {
  const list = await messagesWith(friends.bob.dir, friends.alice.code);
  return list.some((m) => m.text === text && m.from === friends.alice.code) ? true : undefined;
}

describe('dhtchat chat <who>', { timeout: 360_000 }, () => {
  before(async () => {
    friends = await startFriendsOnTestnet(running, { env: DEBUG_ENV });
  });
  after(() => stopAll(running));

  test('on a terminal: history, typing, a sent line and its receipts, a live reply, inert escapes', () =>
    dumpingLogs(running, async () => {
      const { alice, bob } = friends;
      await cliJson(bob.dir, 'send', alice.code, 'earlier from Bob');
      await eventually(
        'the earlier message at Alice',
        async () => ((await messagesWith(alice.dir, 'bob')).length > 0 ? true : undefined),
        STEP_MS,
      );
      const chat = startOnPty(['--data-dir', alice.dir, 'chat', 'bob']);
      try {
        await chat.waitFor(/\d\d:\d\d {2}bob: earlier from Bob/, STEP_MS);
        await chat.waitFor('[bob · online] > ', STEP_MS);

        chat.type('hello from the terminal');
        await bob.daemon.proc.waitFor((l) => l['event'] === 'typing' && l['isTyping'] === true, STEP_MS);
        chat.type('\r');
        await eventually('the typed line at Bob', () => bobHas('hello from the terminal'), STEP_MS);
        await chat.waitFor(/\d\d:\d\d {2}me: hello from the terminal/, STEP_MS);
        await chat.waitFor('delivered ✓: hello from the terminal', STEP_MS);
        await cliJson(bob.dir, 'messages', alice.code); // Bob reads it
        await chat.waitFor('read ✓✓: hello from the terminal', STEP_MS);

        const typing = await runCli(['--data-dir', bob.dir, 'typing', alice.code]);
        assert.equal(typing.code, 0, typing.stderr);
        await chat.waitFor('[bob · online · typing…] > ', STEP_MS);

        const mark = chat.output().length;
        const reply = 'reply from Bob \u001b[2J\u001b]0;owned\u0007 end';
        await cliJson(bob.dir, 'send', alice.code, reply);
        await chat.waitFor('bob: reply from Bob \\x1b[2J\\x1b]0;owned\\x07 end', STEP_MS, mark);
        await chat.waitFor('[bob · online] > ', STEP_MS, mark); // his message ended his typing
        assert.ok(!chat.output().includes('\u001b[2J'), 'a raw clear-screen reached the terminal');
        assert.ok(
          !chat.output().includes('\u001b]0;owned'),
          'a raw window-title sequence reached the terminal',
        );
        await eventually('the reply read (the window is open)', () => bobSees(reply, 'read'), STEP_MS);

        if (process.env['DHTCHAT_E2E_DUMP'] === '1') console.error(JSON.stringify(chat.output()));
        chat.type('/quit\r');
        assert.equal(await chat.exited, 0, chat.output());
      } finally {
        chat.kill();
      }
    }));

  test('from a pipe: lines are sent, events are lines; end of input and a stopped daemon exit 0', () =>
    dumpingLogs(running, async () => {
      const { alice, bob } = friends;
      const once = startPiped(alice.dir);
      once.child.stdin?.end('sent, then the input ends\n');
      assert.equal(await once.exited, 0, once.output());
      await eventually('the piped line at Bob', () => bobHas('sent, then the input ends'), STEP_MS);

      const chat = startPiped(alice.dir);
      try {
        await chat.waitFor('bob: reply from Bob', STEP_MS);
        chat.child.stdin?.write('\n   \nfrom a pipe\n');
        await eventually('the piped line at Bob', () => bobHas('from a pipe'), STEP_MS);
        await chat.waitFor('delivered ✓: from a pipe', STEP_MS);
        assert.equal((await runCli(['--data-dir', bob.dir, 'typing', alice.code])).code, 0);
        await chat.waitFor('bob is typing…', STEP_MS);
        const sent = (await messagesWith(alice.dir, 'bob')).filter((m) => m.from === alice.code);
        assert.ok(!sent.some((m) => m.text.trim() === ''), 'empty lines are not sent');

        assert.equal(await alice.daemon.proc.stop(), 0);
        assert.equal(await chat.exited, 0, chat.output());
        assert.match(chat.output(), /the daemon stopped: the chat with bob is over\n$/);
      } finally {
        chat.child.kill('SIGKILL');
      }
    }));
});

interface Piped {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
  waitFor(text: string, timeoutMs: number): Promise<void>;
}

/** `dhtchat chat bob` with stdin, stdout and stderr as pipes (not a terminal). */
function startPiped(dir: string): Piped {
  const child = spawn(process.execPath, [CLI_PATH, '--data-dir', dir, 'chat', 'bob'], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => output,
    waitFor: async (text, timeoutMs) => {
      const has = async (): Promise<true | undefined> => (output.includes(text) ? true : undefined);
      await eventually(`"${text}" in the chat's output`, has, timeoutMs, 100);
    },
  };
}
