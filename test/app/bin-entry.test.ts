/**
 * bin/dhtchat.js runs the esbuild bundle when it is fresh and the TypeScript sources through tsx otherwise
 * (DHTCHAT_FROM_SOURCE=1 forces that): both must behave the same, including exit codes and one-line errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli-runner.ts';

test('the bundle (when built) and the sources give the same answers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-bin-'));
  const fromSource = { DHTCHAT_FROM_SOURCE: '1' };
  const init = await runCli(['--data-dir', dir, 'init', '--name', 'Ann', '--json'], { env: fromSource });
  assert.equal(init.code, 0, init.stderr);
  for (const env of [fromSource, {}]) {
    const id = await runCli(['--data-dir', dir, 'id', '--json'], { env });
    assert.equal(id.code, 0, id.stderr);
    assert.equal(JSON.parse(id.stdout).code, JSON.parse(init.stdout).code);
    const usage = await runCli(['--data-dir', dir, 'send'], { env });
    assert.equal(usage.code, 2);
    assert.equal(usage.stderr.trim().split('\n').length, 1);
    const noDaemon = await runCli(['--data-dir', dir, 'contacts'], { env });
    assert.equal(noDaemon.code, 1);
    assert.match(noDaemon.stderr, /^error: no daemon running for data dir /);
  }
});
