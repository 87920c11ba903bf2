/**
 * The data dir checks at daemon start: another user's data dir is refused, loose modes are reported and
 * tightened — in-process (secureDataDir) and through real daemon processes.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { secureDataDir, tightenProcessUmask } from '../../src/app/data-dir-permissions.ts';
import { startJsonLines } from '../e2e/chat-processes.ts';
import { runCli } from '../helpers/cli-runner.ts';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'dhtchat-perm-'));
const modeOf = (path: string): number => statSync(path).mode & 0o777;
const ownUid = process.getuid?.();
const isRoot = ownUid === 0;
/** The uid tests hand a data dir to when they run as root (as here and in CI): `nobody`. */
const OTHER_UID = 65534;

function daemonArgs(dir: string): string[] {
  return ['--data-dir', dir, 'daemon', '--host', '127.0.0.1', '--port', '0', '--bootstrap', '127.0.0.1:9'];
}

describe('secureDataDir', () => {
  test('tightens a group/world-open dir to 0700 and files to 0600, reporting each; skips missing files', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'chat.sqlite'), '', { mode: 0o644 });
    writeFileSync(join(dir, 'chat.sqlite-wal'), '', { mode: 0o664 });
    writeFileSync(join(dir, 'identity.dat'), '', { mode: 0o600 });
    writeFileSync(join(dir, 'api.json'), '', { mode: 0o604 });
    chmodSync(join(dir, 'chat.sqlite'), 0o644); // whatever the test's umask made of it
    chmodSync(join(dir, 'chat.sqlite-wal'), 0o664);
    chmodSync(join(dir, 'api.json'), 0o604);
    const loose = await secureDataDir(dir);
    assert.deepEqual(
      loose.map(({ path, mode, isFixed }) => [path, mode.toString(8), isFixed]),
      [
        [dir, '755', true],
        [join(dir, 'api.json'), '604', true],
        [join(dir, 'chat.sqlite'), '644', true],
        [join(dir, 'chat.sqlite-wal'), '664', true],
      ],
    );
    assert.equal(modeOf(dir), 0o700);
    for (const name of ['chat.sqlite', 'chat.sqlite-wal', 'identity.dat', 'api.json']) {
      assert.equal(modeOf(join(dir, name)), 0o600, name);
    }
    assert.deepEqual(await secureDataDir(dir), [], 'nothing left to report');
  });

  test("refuses a data dir, or a file in it, that is another user's (APP_DATA_DIR_OWNER)", async () => {
    const dir = tempDir();
    chmodSync(dir, 0o700);
    const someoneElse = (ownUid ?? 1000) + 1;
    await assert.rejects(secureDataDir(dir, someoneElse), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'APP_DATA_DIR_OWNER');
      assert.match(
        error.message,
        new RegExp(`belongs to another user \\(uid ${ownUid}, you are ${someoneElse}\\)`),
      );
      return true;
    });
    if (!isRoot) return; // A file owned by someone else needs chown, which needs root.
    writeFileSync(join(dir, 'identity.dat'), '', { mode: 0o600 });
    chownSync(join(dir, 'identity.dat'), OTHER_UID, OTHER_UID);
    await assert.rejects(secureDataDir(dir), { code: 'APP_DATA_DIR_OWNER' });
  });

  test('a sticky world-writable directory (/tmp given as the data dir) is reported, never narrowed', async () => {
    const dir = join(tempDir(), 'sticky-common');
    mkdirSync(dir);
    chmodSync(dir, 0o1777);
    assert.deepEqual(await secureDataDir(dir), [{ path: dir, mode: 0o777, isFixed: false }]);
    assert.equal(statSync(dir).mode & 0o7777, 0o1777);
  });

  test('tightenProcessUmask sets 0o077', () => {
    const before = process.umask(0o022);
    tightenProcessUmask();
    assert.equal(process.umask(before), 0o077);
  });
});

describe('a daemon process on the data dir', () => {
  test('warns about loose modes (dir 0755, chat.sqlite/identity/profile 0644) and fixes them', async () => {
    const dir = tempDir();
    assert.equal((await runCli(['--data-dir', dir, 'init', '--name', 'Alice'])).code, 0);
    const first = startJsonLines(daemonArgs(dir));
    await first.waitFor((l) => l['event'] === 'ready', 30_000);
    assert.equal(await first.stop(), 0);
    chmodSync(dir, 0o755);
    for (const name of ['chat.sqlite', 'identity.dat', 'profile.json']) chmodSync(join(dir, name), 0o644);

    const daemon = startJsonLines(daemonArgs(dir));
    try {
      await daemon.waitFor((l) => l['event'] === 'ready', 30_000);
      await daemon.waitFor(
        // The last of the four warnings: the lines may reach us in more than one chunk.
        (l) => l['event'] === 'loose_mode' && l['path'] === join(dir, 'chat.sqlite'),
        10_000,
      );
      const warnings = daemon.lines.filter((l) => l['event'] === 'loose_mode');
      assert.deepEqual(
        warnings.map((l) => [l['level'], l['path'], l['mode'], l['isFixed']]),
        [
          ['warn', dir, '0755', true],
          ['warn', join(dir, 'identity.dat'), '0644', true],
          ['warn', join(dir, 'profile.json'), '0644', true],
          ['warn', join(dir, 'chat.sqlite'), '0644', true],
        ],
      );
      assert.equal(modeOf(dir), 0o700);
      for (const name of ['chat.sqlite', 'identity.dat', 'profile.json', 'api.json']) {
        assert.equal(modeOf(join(dir, name)), 0o600, name);
      }
      assert.ok(!daemon.lines.some((l) => l['event'] === 'identity_file_readable_by_others'));
    } finally {
      assert.equal(await daemon.stop(), 0);
    }
  });

  test('refuses to start on a data dir owned by another user: exit 1, one line', {
    skip: isRoot ? false : 'needs root to chown the data dir to another user',
  }, async () => {
    const dir = tempDir();
    assert.equal((await runCli(['--data-dir', dir, 'init'])).code, 0);
    chownSync(dir, OTHER_UID, OTHER_UID);
    const result = await runCli(daemonArgs(dir), { timeoutMs: 30_000 });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.deepEqual(
      result.stderr.split('\n').filter((l) => l !== ''),
      [
        `error: ${dir} belongs to another user (uid ${OTHER_UID}, you are 0): refusing to use it, ` +
          'as that user can read or replace your key and messages',
      ],
    );
  });
});
