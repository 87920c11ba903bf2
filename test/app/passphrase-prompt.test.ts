/**
 * The passphrase prompt on a real pseudo-terminal (test/helpers/pty.ts): `init --passphrase` asks twice without
 * echo and protects the key; a daemon on a protected identity asks, says so on a wrong passphrase and starts on
 * the right one; export asks twice for the backup's, import once; a mismatch or Ctrl-C is one error line. Without a terminal and without DHTCHAT_PASSPHRASE, the
 * error names the variable.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli-runner.ts';
import { startOnPty } from '../helpers/pty.ts';

const NO_ENV = { DHTCHAT_PASSPHRASE: '', DHTCHAT_BACKUP_PASSPHRASE: '' };
const SECRET = 'tr0ub4dor & 3';
const STEP_MS = 30_000;
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'dhtchat-prompt-'));

describe('passphrase prompt on a terminal', { timeout: 120_000 }, () => {
  test('init --passphrase asks twice, never echoes; the daemon then asks and unlocks the key', async () => {
    const dir = tempDir();
    const init = startOnPty(['--data-dir', dir, 'init', '--passphrase'], NO_ENV);
    await init.waitFor('New passphrase for your key: ', STEP_MS);
    init.type(`${SECRET}\r`);
    await init.waitFor('New passphrase for your key (again): ', STEP_MS);
    init.type(`${SECRET}\r`);
    assert.equal(await init.exited, 0, init.output());
    const code = /dhtchat:[a-z2-7]{58}/.exec(init.output())?.[0];
    assert.ok(code !== undefined, init.output());
    assert.ok(!init.output().includes(SECRET), `the passphrase was echoed: ${JSON.stringify(init.output())}`);

    const id = await runCli(['--data-dir', dir, 'id', '--json'], { env: NO_ENV });
    assert.deepEqual(
      (({ code, isProtected }) => ({ code, isProtected }))(JSON.parse(id.stdout) as Record<string, unknown>),
      { code, isProtected: true },
    );

    const args = ['--data-dir', dir, 'daemon', '--host', '127.0.0.1', '--port', '0'];
    const daemon = startOnPty([...args, '--bootstrap', '127.0.0.1:9', '--allow-private'], NO_ENV);
    try {
      await daemon.waitFor(/Passphrase for .*identity\.dat: /, STEP_MS);
      daemon.type('not it\r');
      await daemon.waitFor('wrong passphrase, try again', STEP_MS);
      const afterWrong = daemon.output().indexOf('wrong passphrase, try again');
      // Typed only once asked again: keys typed ahead, before the prompt is up, echo as in any terminal.
      await daemon.waitFor(/Passphrase for .*identity\.dat: /, STEP_MS, afterWrong);
      daemon.type(`${SECRET}\r`);
      // On a terminal the daemon speaks plain words: the unlocked key's friend code is in its first line.
      await daemon.waitFor(`your friend code is ${code}`, STEP_MS, afterWrong);
      assert.ok(!daemon.output().includes(SECRET), 'the passphrase was echoed');
      assert.ok(!daemon.output().includes('not it'), 'the wrong passphrase was echoed');
      daemon.type('\u0003'); // Ctrl-C: the terminal sends SIGINT, the daemon closes cleanly
      assert.equal(await daemon.exited, 0, daemon.output());
    } finally {
      daemon.kill();
    }
  });

  test('export asks for a new backup passphrase twice, import asks for it once', async () => {
    const dir = tempDir();
    const init = await runCli(['--data-dir', dir, 'init', '--json'], { env: NO_ENV });
    assert.equal(init.code, 0, init.stderr);
    const file = join(tempDir(), 'backup');
    const exporting = startOnPty(['--data-dir', dir, 'export', file], NO_ENV);
    await exporting.waitFor('New passphrase for the backup file: ', STEP_MS);
    exporting.type(`${SECRET}\r`);
    await exporting.waitFor('New passphrase for the backup file (again): ', STEP_MS);
    exporting.type(`${SECRET}\r`);
    assert.equal(await exporting.exited, 0, exporting.output());
    assert.match(exporting.output(), /backup written to /);

    const target = tempDir();
    const importing = startOnPty(['--data-dir', target, 'import', file], NO_ENV);
    await importing.waitFor('Passphrase of the backup file: ', STEP_MS);
    importing.type(`${SECRET}\r`);
    assert.equal(await importing.exited, 0, importing.output());
    assert.ok(!`${exporting.output()}${importing.output()}`.includes(SECRET), 'the passphrase was echoed');
    const { code } = JSON.parse(init.stdout) as { code: string };
    assert.match(importing.output(), new RegExp(`restored ${code}`));
  });

  test('two different passphrases: one error line, exit 1, no identity written', async () => {
    const dir = tempDir();
    const init = startOnPty(['--data-dir', dir, 'init', '--passphrase'], NO_ENV);
    await init.waitFor('New passphrase for your key: ', STEP_MS);
    init.type('one\r');
    await init.waitFor('(again): ', STEP_MS);
    init.type('two\r');
    assert.equal(await init.exited, 1);
    assert.match(init.output(), /error: the two passphrases typed do not match/);
    assert.equal(existsSync(join(dir, 'identity.dat')), false);
  });

  test('Ctrl-C at the prompt cancels (exit 1, no identity written)', async () => {
    const dir = tempDir();
    const init = startOnPty(['--data-dir', dir, 'init', '--passphrase'], NO_ENV);
    await init.waitFor('New passphrase for your key: ', STEP_MS);
    init.type('abc\u0003');
    assert.equal(await init.exited, 1);
    assert.match(init.output(), /error: passphrase entry cancelled/);
    assert.equal(existsSync(join(dir, 'identity.dat')), false);
  });
});

describe('passphrase without a terminal', () => {
  test('init --passphrase: the error names DHTCHAT_PASSPHRASE; with it set, the key is protected', async () => {
    const dir = tempDir();
    const bare = await runCli(['--data-dir', dir, 'init', '--passphrase'], { env: NO_ENV });
    assert.equal(bare.code, 1);
    assert.match(bare.stderr, /^error: init --passphrase needs a passphrase: set DHTCHAT_PASSPHRASE/);
    assert.equal(existsSync(join(dir, 'identity.dat')), false);

    const withEnv = await runCli(['--data-dir', dir, 'init', '--passphrase'], {
      env: { DHTCHAT_PASSPHRASE: SECRET },
    });
    assert.equal(withEnv.code, 0, withEnv.stderr);
    const id = await runCli(['--data-dir', dir, 'id', '--json'], { env: NO_ENV });
    assert.equal((JSON.parse(id.stdout) as { isProtected: boolean }).isProtected, true);
  });
});
