/**
 * Issue 9 §5 acceptance: `export` on one machine's data dir, `import` into an empty one, and the restored identity
 * chats with an existing friend — real daemon processes on a loopback testnet (`dhtchat testnet --nodes 30`).
 *
 * Alice and Bob are friends and one message is delivered. Alice's daemon stops; Bob writes to her anyway (his
 * message goes to the DHT, sealed to her one-time prekey) and his daemon stops too. Alice exports her data dir; a
 * wrong passphrase and an altered file are refused; the backup is imported into a new, empty dir. A daemon on it
 * (a new port: another machine, as far as anyone can tell) fetches Bob's message from the DHT while Bob is away —
 * which only works because the backup carried her prekeys — then Bob comes back and messages go both ways, each
 * `delivered` on the sender's side. The old data dir is never started again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { runCli } from '../helpers/cli-runner.ts';
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

/** Sealing and putting a message for an absent friend (the offline test measures ~5 s; generous on 2 cores). */
const STORED_MS = 60_000;
/** A start's first fetch: the friend's record, then the offline items (generous, for a loaded 2-core machine). */
const FETCH_MS = 60_000;
const BACKUP_ENV = { DHTCHAT_BACKUP_PASSPHRASE: 'a long backup passphrase' };
const running: JsonLinesProcess[] = [];

describe('backup end to end: export, import into an empty dir, chat on', { timeout: 420_000 }, () => {
  after(() => stopAll(running));
  test('the restored identity receives what was waiting and chats both ways with Bob', (t) =>
    dumpingLogs(running, () => backupScenario(t)));
});

async function isDelivered(dir: string, who: string, id: string): Promise<true | undefined> {
  const m = (await messagesWith(dir, who)).find((x) => x.id === id);
  return m !== undefined && ['delivered', 'read'].includes(m.state) ? true : undefined;
}

async function backupScenario(t: TestContext): Promise<void> {
  const t0 = Date.now();
  const mark = (what: string): void => t.diagnostic(`${what} at +${Date.now() - t0} ms`);
  const friends = await startFriendsOnTestnet(running, { env: DEBUG_ENV });
  const { bootstrap, alice, bob } = friends;
  mark('friends and online');

  const before = (await cliJson(alice.dir, 'send', 'bob', 'before the move')) as { id: string };
  await eventually('the first message delivered', () => isDelivered(alice.dir, 'bob', before.id), STEP_MS);

  // Alice's machine goes away; Bob writes to her anyway: his message waits in the DHT, sealed to her prekey.
  assert.equal(await alice.daemon.proc.stop(), 0);
  const waiting = (await cliJson(bob.dir, 'send', alice.code, 'while you were moving')) as { id: string };
  await eventually(
    "Bob's message stored in the DHT",
    async () =>
      (await messagesWith(bob.dir, alice.code)).find((m) => m.id === waiting.id)?.state === 'stored'
        ? true
        : undefined,
    STORED_MS,
  );
  assert.equal(await bob.daemon.proc.stop(), 0);
  mark("Bob's message stored for the absent Alice; Bob stopped");

  // Export (daemon stopped), then the refusals, then the import into an empty dir.
  const file = join(mkdtempSync(join(tmpdir(), 'dhtchat-backup-file-')), 'alice.backup');
  const exported = await runCli(['--data-dir', alice.dir, 'export', file], { env: BACKUP_ENV });
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /backup written to .*: 1 contacts, 1 messages/);
  const newDir = mkdtempSync(join(tmpdir(), 'dhtchat-alice-restored-'));
  const wrong = await runCli(['--data-dir', newDir, 'import', file], {
    env: { DHTCHAT_BACKUP_PASSPHRASE: 'not the passphrase' },
  });
  assert.equal(wrong.code, 1);
  assert.match(
    wrong.stderr,
    /^error: wrong passphrase for the backup, or the file was altered or damaged\n$/,
  );
  const altered = `${file}.altered`;
  const bytes = readFileSync(file);
  const at = bytes.length - 20;
  bytes[at] = (bytes[at] ?? 0) ^ 0x80;
  writeFileSync(altered, bytes);
  const tampered = await runCli(['--data-dir', newDir, 'import', altered], { env: BACKUP_ENV });
  assert.equal(tampered.code, 1);
  assert.match(
    tampered.stderr,
    /^error: wrong passphrase for the backup, or the file was altered or damaged\n$/,
  );
  assert.deepEqual(readdirSync(newDir), [], 'the refused imports wrote nothing');
  const imported = await runCli(['--data-dir', newDir, 'import', file, '--json'], { env: BACKUP_ENV });
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal((JSON.parse(imported.stdout) as { code: string }).code, alice.code);
  mark('exported and imported');

  // The restored Alice on a new port, Bob away: his message can only come from the DHT, opened with her prekey.
  const restored = await startChatDaemon(newDir, bootstrap, running, { port: 0, env: DEBUG_ENV });
  assert.equal(restored.code, alice.code);
  assert.notEqual(restored.port, alice.daemon.port);
  await eventually(
    "Bob's waiting message fetched from the DHT by the restored Alice",
    async () => ((await messagesWith(newDir, 'bob')).some((m) => m.id === waiting.id) ? true : undefined),
    FETCH_MS,
  );
  mark("Bob's waiting message fetched by the restored Alice");

  // Bob comes back (on his last port): his message shows delivered, and both directions work.
  await startChatDaemon(bob.dir, bootstrap, running, { env: DEBUG_ENV });
  await eventually(
    "Bob's waiting message delivered",
    () => isDelivered(bob.dir, alice.code, waiting.id),
    STEP_MS,
  );
  const fromAlice = (await cliJson(newDir, 'send', 'bob', 'hello from the new machine')) as { id: string };
  const fromBob = (await cliJson(bob.dir, 'send', alice.code, 'welcome back')) as { id: string };
  await eventually("Alice's new message delivered", () => isDelivered(newDir, 'bob', fromAlice.id), STEP_MS);
  await eventually(
    "Bob's new message delivered",
    () => isDelivered(bob.dir, alice.code, fromBob.id),
    STEP_MS,
  );
  const atBob = await messagesWith(bob.dir, alice.code);
  assert.ok(atBob.some((m) => m.id === fromAlice.id && m.text === 'hello from the new machine'));
  const texts = (await messagesWith(newDir, 'bob')).map((m) => m.text);
  assert.equal(texts[0], 'before the move', 'the history came along');
  for (const text of ['while you were moving', 'hello from the new machine', 'welcome back']) {
    assert.ok(texts.includes(text), texts.join(' | '));
  }
  mark('both directions delivered');
}
