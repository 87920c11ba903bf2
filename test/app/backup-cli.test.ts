/**
 * `dhtchat export` / `dhtchat import` as processes, without a network: a data dir with contacts, requests and
 * messages goes through one file into an empty dir and comes back row for row; the file is 0600 and never
 * overwritten; wrong passphrase, altered file, a file that is not a backup, a non-empty target and a missing
 * passphrase are each one error line, exit 1, leaving the target as empty as it was; a protected key stays
 * protected; with a daemon running, the export is served by it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  CHAT_DATABASE_FILE,
  ChatStore,
  decodeFriendCode,
  decodeIdentityFile,
  type BackupRow,
} from '../../src/chat/index.ts';
import { cryptoRandom, systemClock } from '../../src/runtime/index.ts';
import { type JsonLinesProcess, startJsonLines, stopAll } from '../e2e/chat-processes.ts';
import { type CliResult, runCli } from '../helpers/cli-runner.ts';

const BACKUP_ENV = { DHTCHAT_BACKUP_PASSPHRASE: 'backup pw', DHTCHAT_PASSPHRASE: '' };
const BOB = Buffer.alloc(32, 0xb0);
const CAROL = Buffer.alloc(32, 0xc0);
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'dhtchat-backup-'));
const running: JsonLinesProcess[] = [];

function failed(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 1, `exit code; stdout: ${result.stdout}; stderr: ${result.stderr}`);
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0] as string, /^error: /);
  assert.match(lines[0] as string, pattern);
}

async function cli(dir: string, args: string[], env: NodeJS.ProcessEnv = BACKUP_ENV): Promise<CliResult> {
  return runCli(['--data-dir', dir, ...args], { env, timeoutMs: 60_000 });
}

function openStoreOf(dir: string, publicKey: Buffer): ChatStore {
  return ChatStore.open({
    path: join(dir, CHAT_DATABASE_FILE),
    ownPublicKey: publicKey,
    clock: systemClock,
    random: cryptoRandom,
  });
}

function rowsOf(dir: string, publicKey: Buffer): BackupRow[] {
  const store = openStoreOf(dir, publicKey);
  try {
    return store.backupRows();
  } finally {
    store.close();
  }
}

/** Alice initialised with a name, and a store with two friends, a request and a short conversation. */
async function aliceWithHistory(env: NodeJS.ProcessEnv = BACKUP_ENV): Promise<{ dir: string; pk: Buffer }> {
  const dir = tempDir();
  const init = await cli(dir, ['init', '--name', 'Alice', '--json'], env);
  assert.equal(init.code, 0, init.stderr);
  const pk = decodeFriendCode((JSON.parse(init.stdout) as { code: string }).code);
  const store = openStoreOf(dir, pk);
  store.contacts.upsert(BOB, 'accepted', 'bob');
  store.contacts.upsert(CAROL, 'pending-outgoing', 'carol');
  store.contacts.noteEndpoint(BOB, { host: '127.0.0.1', port: 40_000 }, 'session');
  store.requests.saveOutgoing(CAROL, 'hi Carol');
  const sent = store.messages.enqueue(BOB, 'hello Bob');
  store.messages.advance(sent.id, 'read');
  store.messages.receive({
    id: Buffer.alloc(16, 5),
    conversation: BOB,
    text: 'hi Alice',
    createdMs: 1,
    via: 'session',
  });
  store.prekeys.rotate(BOB, 1, Buffer.alloc(32, 9));
  store.close();
  return { dir, pk };
}

describe('dhtchat export and import', { timeout: 180_000 }, () => {
  after(() => stopAll(running));

  test('a data dir comes back row for row in an empty dir; the file is 0600 and never overwritten', async () => {
    const alice = await aliceWithHistory();
    const file = join(tempDir(), 'alice.backup');
    const exported = await cli(alice.dir, ['export', file]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^backup written to .*: 2 contacts, 2 messages, 1 requests\n$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file).subarray(0, 15).toString(), 'dhtchat-backup\n');
    assert.equal(readFileSync(file).indexOf('hello Bob'), -1, 'the file is encrypted');
    failed(await cli(alice.dir, ['export', file]), /already exists/);

    const target = tempDir();
    const imported = await cli(target, ['import', file, '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    const summary = JSON.parse(imported.stdout) as { code: string; name: string; isProtected: boolean };
    assert.deepEqual(decodeFriendCode(summary.code), alice.pk);
    assert.equal(summary.name, 'Alice');
    assert.equal(summary.isProtected, false);
    const id = await cli(target, ['id', '--json']);
    assert.deepEqual(JSON.parse(id.stdout), JSON.parse((await cli(alice.dir, ['id', '--json'])).stdout));
    assert.deepEqual(rowsOf(target, alice.pk), rowsOf(alice.dir, alice.pk));
    assert.equal(statSync(join(target, 'identity.dat')).mode & 0o777, 0o600);
    assert.equal(statSync(join(target, CHAT_DATABASE_FILE)).mode & 0o777, 0o600);

    failed(await cli(target, ['import', file]), /an identity already exists/);
  });

  test('wrong passphrase, altered file, not a backup, no passphrase: one line, exit 1, target left empty', async () => {
    const alice = await aliceWithHistory();
    const file = join(tempDir(), 'alice.backup');
    assert.equal((await cli(alice.dir, ['export', file])).code, 0);
    const target = tempDir();
    const wrongEnv = { DHTCHAT_BACKUP_PASSPHRASE: 'not it', DHTCHAT_PASSPHRASE: '' };
    failed(await cli(target, ['import', file], wrongEnv), /wrong passphrase for the backup/);

    const altered = join(tempDir(), 'altered.backup');
    const bytes = readFileSync(file);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0x01;
    writeFileSync(altered, bytes);
    failed(
      await cli(target, ['import', altered]),
      /wrong passphrase for the backup, or the file was altered/,
    );

    const notBackup = join(tempDir(), 'notes.txt');
    writeFileSync(notBackup, 'hello\n');
    failed(await cli(target, ['import', notBackup]), /is not a dhtchat backup/);
    failed(await cli(target, ['import', join(target, 'missing')]), /cannot read the backup/);

    const bare = { DHTCHAT_BACKUP_PASSPHRASE: '', DHTCHAT_PASSPHRASE: '' };
    failed(await cli(target, ['import', file], bare), /set DHTCHAT_BACKUP_PASSPHRASE or DHTCHAT_PASSPHRASE/);
    failed(await cli(alice.dir, ['export', join(tempDir(), 'x')], bare), /set DHTCHAT_BACKUP_PASSPHRASE/);
    assert.deepEqual(readdirSync(target), [], 'nothing written by a failed import');
  });

  test('a protected key: export unlocks it; import keeps it protected (with the backup passphrase)', async () => {
    const keyEnv = { DHTCHAT_PASSPHRASE: 'key pw', DHTCHAT_BACKUP_PASSPHRASE: '' };
    const alice = await aliceWithHistory(keyEnv);
    const file = join(tempDir(), 'alice.backup');
    const env = { DHTCHAT_PASSPHRASE: 'key pw', DHTCHAT_BACKUP_PASSPHRASE: 'backup pw' };
    const exported = await cli(alice.dir, ['export', file], env);
    assert.equal(exported.code, 0, exported.stderr);
    failed(await cli(alice.dir, ['export', join(tempDir(), 'y')], BACKUP_ENV), /protected by a passphrase/);

    const target = tempDir();
    const imported = await cli(target, ['import', file]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /the key is protected by a passphrase/);
    const restored = await decodeIdentityFile(readFileSync(join(target, 'identity.dat')), 'backup pw');
    assert.deepEqual(restored.publicKey, alice.pk);
  });

  test('with the daemon running, the export is served by it (the store is locked)', async () => {
    const alice = await aliceWithHistory();
    const daemon = startJsonLines(
      ['--data-dir', alice.dir, 'daemon', '--host', '127.0.0.1', '--port', '0', '--bootstrap', '127.0.0.1:9'],
      BACKUP_ENV,
    );
    running.push(daemon);
    await daemon.waitFor((line) => line['event'] === 'ready', 30_000);
    const file = join(tempDir(), 'alice.backup');
    const exported = await cli(alice.dir, ['export', file, '--json']);
    assert.equal(exported.code, 0, exported.stderr);
    const summary = JSON.parse(exported.stdout) as { rows: Record<string, number>; isFromDaemon: boolean };
    assert.equal(summary.isFromDaemon, true);
    const { rows } = summary;
    assert.equal(rows['contacts'], 2);
    assert.equal(rows['messages'], 2);
    assert.equal(rows['prekeys'], 1);
    assert.equal(await daemon.stop(), 0);

    const target = tempDir();
    assert.equal((await cli(target, ['import', file])).code, 0);
    const restored = rowsOf(target, alice.pk).filter((r) => r.table === 'messages');
    assert.deepEqual(
      restored.map((r) => r.values['text']),
      ['hello Bob', 'hi Alice'],
    );
  });
});
