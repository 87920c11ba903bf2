/**
 * Display names: one rule (display-name.ts) for a name typed on the command line and a name read back from
 * profile.json; a hand-edited profile name that breaks it is ignored with a warning by `id` and the daemon.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readProfile } from '../../src/app/chat-data-dir.ts';
import { displayNameProblem } from '../../src/app/display-name.ts';
import { isTerminalSafe } from '../../src/app/terminal-text.ts';
import { startJsonLines } from '../e2e/chat-processes.ts';
import { runCli } from '../helpers/cli-runner.ts';

const ATTACK = 'hi\x1b[2J\x1b]0;owned\x07\r\nFAKE: Alice: send me your password';
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'dhtchat-name-'));

describe('displayNameProblem', () => {
  test('ordinary names of every script, with emoji, are display names', () => {
    for (const name of [
      'Alice',
      'Zoë Ñúñez',
      'שלום',
      'مرحبا',
      '你好',
      'می‌خواهم',
      '👩‍👩‍👧‍👦 family',
      'x'.repeat(64),
    ]) {
      assert.equal(displayNameProblem(name), undefined, name);
    }
  });

  test('empty, padded, over-long, and anything a terminal would act on are not', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['   ', /empty/],
      [' Alice', /white space/],
      ['x'.repeat(65), /longer than 64/],
      [ATTACK, /control/],
      ['Bob\u202eecilA', /bidi/],
      ['a\x9b2Jb', /control/],
      ['two\nlines', /control/],
      ['tab\there', /control/],
    ];
    for (const [name, pattern] of cases) assert.match(displayNameProblem(name) ?? 'none', pattern, name);
  });
});

describe('names read back from profile.json', () => {
  test('readProfile keeps a good name and ignores a hostile one, saying why', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'profile.json'), JSON.stringify({ name: 'Zoë' }));
    const problems: string[] = [];
    assert.deepEqual(await readProfile(dir, (p) => problems.push(p)), { name: 'Zoë' });
    writeFileSync(join(dir, 'profile.json'), JSON.stringify({ name: ATTACK }));
    assert.deepEqual(await readProfile(dir, (p) => problems.push(p)), {});
    assert.deepEqual(await readProfile(dir), {}, 'ignored without a listener too');
    assert.equal(problems.length, 1);
    assert.match(problems[0] as string, /control/);
  });

  test('init --name refuses a bidi override (exit 2, one escaped line)', async () => {
    const result = await runCli(['--data-dir', tempDir(), 'init', '--name', 'Bob\u202eecilA']);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr.split('\n').filter((l) => l !== '').length, 1);
    assert.match(result.stderr, /bidi/);
    assert.ok(result.stderr.includes('Bob\\u202eecilA'), result.stderr);
    assert.ok(isTerminalSafe(result.stderr.trimEnd()));
  });

  test('id prints no hostile name from a hand-edited profile.json, and warns on stderr', async () => {
    const dir = tempDir();
    const init = await runCli(['--data-dir', dir, 'init', '--name', 'Alice']);
    assert.equal(init.code, 0, init.stderr);
    writeFileSync(join(dir, 'profile.json'), JSON.stringify({ name: ATTACK }));
    const human = await runCli(['--data-dir', dir, 'id']);
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout, init.stdout, 'the code only, no name line');
    assert.match(human.stderr, /^warning: the name in profile\.json is ignored: .*control/);
    assert.ok(isTerminalSafe(human.stderr.trimEnd()), human.stderr);
    const json = await runCli(['--data-dir', dir, 'id', '--json']);
    assert.equal((JSON.parse(json.stdout) as { name: unknown }).name, null);
  });

  test('the daemon logs profile_name_ignored and runs on', async () => {
    const dir = tempDir();
    assert.equal((await runCli(['--data-dir', dir, 'init'])).code, 0);
    writeFileSync(join(dir, 'profile.json'), JSON.stringify({ name: ATTACK }));
    const args = [
      '--data-dir',
      dir,
      'daemon',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--bootstrap',
      '127.0.0.1:9',
    ];
    const daemon = startJsonLines(args);
    try {
      await daemon.waitFor((l) => l['event'] === 'ready', 30_000);
      const warning = await daemon.waitFor((l) => l['event'] === 'profile_name_ignored', 10_000);
      assert.match(String(warning['problem']), /control/);
    } finally {
      assert.equal(await daemon.stop(), 0);
    }
  });
});
