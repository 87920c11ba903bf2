/**
 * Issue 9 §4: `id` printed a wrong friend code, exit 0, when identity.dat's public key was altered. Real `dhtchat`
 * processes on a data dir whose file has one public-key byte flipped: `id` and the daemon refuse it (exit 1,
 * CHAT_IDENTITY_CORRUPT's one line), for a plain file and for a passphrase-protected one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { publicKeyCheck } from '../../src/chat/index.ts';
import { decodeBencode, encodeBencode } from '../../src/wire/index.ts';
import { type CliResult, runCli } from '../helpers/cli-runner.ts';

const PASSPHRASE = { DHTCHAT_PASSPHRASE: 'correct horse' };
const NO_PASSPHRASE = { DHTCHAT_PASSPHRASE: '' };

function refused(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 1, `exit code; stdout: ${result.stdout}; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '', 'no friend code printed');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0] as string, /^error: the identity file is corrupt: /);
  assert.match(lines[0] as string, pattern);
}

/** Flips one bit of the stored public key (the bytes after `2:pk32:`). */
function flipPublicKeyByte(dir: string): void {
  const path = join(dir, 'identity.dat');
  const bytes = readFileSync(path);
  const at = bytes.indexOf('2:pk32:') + 7 + 9;
  bytes[at] = (bytes[at] ?? 0) ^ 0x04;
  writeFileSync(path, bytes);
}

async function initialised(env: NodeJS.ProcessEnv): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-idcheck-'));
  const init = await runCli(['--data-dir', dir, 'init'], { env });
  assert.equal(init.code, 0, init.stderr);
  return dir;
}

const daemonArgs = (dir: string): string[] => [
  '--data-dir',
  dir,
  'daemon',
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--bootstrap',
  '127.0.0.1:9',
  '--allow-private',
];

describe('an altered public key in identity.dat is refused on every load', () => {
  test('plain file: id and daemon exit 1', async () => {
    const dir = await initialised(NO_PASSPHRASE);
    flipPublicKeyByte(dir);
    refused(await runCli(['--data-dir', dir, 'id']), /does not match its checksum/);
    refused(await runCli(['--data-dir', dir, 'id', '--json']), /checksum/);
    refused(await runCli(daemonArgs(dir), { timeoutMs: 30_000 }), /checksum/);
  });

  test('plain file with the checksum recomputed: the key pair check still refuses it', async () => {
    const dir = await initialised(NO_PASSPHRASE);
    const path = join(dir, 'identity.dat');
    const decoded = decodeBencode(readFileSync(path));
    assert.ok(decoded.ok);
    const file = decoded.value as Record<string, Buffer>;
    const other = Buffer.from(file['pk'] as Buffer);
    other[0] = (other[0] ?? 0) ^ 0x01;
    file['pk'] = other;
    file['pkck'] = publicKeyCheck(other);
    writeFileSync(path, encodeBencode(file as never));
    refused(await runCli(['--data-dir', dir, 'id']), /does not match the secret key/);
  });

  test('protected file: id (without the passphrase) and the daemon (with it) exit 1', async () => {
    const dir = await initialised(PASSPHRASE);
    const before = await runCli(['--data-dir', dir, 'id', '--json'], { env: NO_PASSPHRASE });
    assert.equal((JSON.parse(before.stdout) as { isProtected: boolean }).isProtected, true);
    flipPublicKeyByte(dir);
    refused(await runCli(['--data-dir', dir, 'id'], { env: NO_PASSPHRASE }), /checksum/);
    refused(await runCli(daemonArgs(dir), { env: PASSPHRASE, timeoutMs: 30_000 }), /checksum/);
  });

  test('an unaltered file still prints its code (exit 0)', async () => {
    const dir = await initialised(PASSPHRASE);
    const id = await runCli(['--data-dir', dir, 'id'], { env: NO_PASSPHRASE });
    assert.equal(id.code, 0, id.stderr);
    assert.match(id.stdout, /^dhtchat:[a-z2-7]{58}\n/);
  });
});
