/** The command line's usage contract: help, exit code 2 and exactly one error line for every kind of bad input. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli-runner.ts';

const ID = 'ab'.repeat(20);
const BOOT = ['--bootstrap', '127.0.0.1:9'];

function assertUsageError(
  result: { code: number | null; stdout: string; stderr: string },
  pattern: RegExp,
): void {
  assert.equal(result.code, 2, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one error line, got: ${result.stderr}`);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, pattern);
}

describe('dhtchat command line: usage', () => {
  test('--help lists the dht commands and exits 0', async () => {
    const top = await runCli(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /dht/);
    const dht = await runCli(['dht', '--help']);
    assert.equal(dht.code, 0);
    for (const name of ['node', 'ping', 'find-node', 'get-peers', 'announce', 'put', 'get']) {
      assert.match(dht.stdout, new RegExp(`\\b${name}\\b`), name);
    }
  });

  test('bad hex ids', async () => {
    await Promise.all([
      runCli(['dht', 'find-node', 'xyz', ...BOOT]).then((r) => assertUsageError(r, /40 hex characters/)),
      runCli(['dht', 'get-peers', 'ab'.repeat(21), ...BOOT]).then((r) => assertUsageError(r, /40 hex/)),
      runCli(['dht', 'get', 'g'.repeat(40), ...BOOT]).then((r) => assertUsageError(r, /40 hex/)),
    ]);
  });

  test('bad host:port values', async () => {
    await Promise.all([
      runCli(['dht', 'ping', '127.0.0.1']).then((r) => assertUsageError(r, /host:port/)),
      runCli(['dht', 'ping', '127.0.0.1:99999']).then((r) => assertUsageError(r, /host:port/)),
      runCli(['dht', 'find-node', ID, '--bootstrap', '127.0.0.1:1,nope']).then((r) =>
        assertUsageError(r, /nope/),
      ),
      runCli(['dht', 'node', '--port', 'eighty']).then((r) => assertUsageError(r, /port/)),
    ]);
  });

  test('missing arguments and options, unknown options and commands', async () => {
    await Promise.all([
      runCli(['dht', 'find-node', ...BOOT]).then((r) => assertUsageError(r, /missing required argument/)),
      runCli(['dht', 'announce', ID, ...BOOT]).then((r) => assertUsageError(r, /--port/)),
      runCli(['dht', 'announce', ID, '--port', '0', ...BOOT]).then((r) => assertUsageError(r, /port/)),
      runCli(['dht', 'get-peers', ID, '--jsn', ...BOOT]).then((r) => assertUsageError(r, /unknown option/)),
      runCli(['dht', 'frob']).then((r) => assertUsageError(r, /unknown command/)),
    ]);
  });

  test('put: conflicting and misplaced options, bad seed files, oversized values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dhtchat-usage-'));
    const badSeed = join(dir, 'bad-seed');
    writeFileSync(badSeed, 'not a seed');
    await Promise.all([
      runCli(['dht', 'put', 'x', '--immutable', '--seed-file', badSeed, ...BOOT]).then((r) =>
        assertUsageError(r, /conflict/),
      ),
      runCli(['dht', 'put', 'x', '--salt', 's', ...BOOT]).then((r) => assertUsageError(r, /--seed-file/)),
      runCli(['dht', 'put', 'x', '--seq', '-1', ...BOOT]).then((r) => assertUsageError(r, /integer/)),
      runCli(['dht', 'put', 'x', '--seed-file', badSeed, ...BOOT]).then((r) =>
        assertUsageError(r, /32 raw bytes/),
      ),
      runCli(['dht', 'put', 'x'.repeat(1000), ...BOOT]).then((r) => assertUsageError(r, /1000/)),
      runCli(['dht', 'get', ID, '--salt', 's'.repeat(65), ...BOOT]).then((r) => assertUsageError(r, /salt/)),
    ]);
  });

  test('a missing seed file is a failure (exit 1), one line', async () => {
    const r = await runCli(['dht', 'put', 'x', '--seed-file', '/nonexistent/seed', ...BOOT]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error: cannot read seed file \/nonexistent\/seed\n$/);
  });
});
