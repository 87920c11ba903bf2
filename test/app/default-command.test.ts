/** `dhtchat` alone runs the chat daemon (making the identity on the first run); anything else is left as typed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withDefaultCommand } from '../../src/app/default-command.ts';

test('no command, or only --data-dir, becomes daemon --init', () => {
  assert.deepEqual(withDefaultCommand([]), ['daemon', '--init']);
  assert.deepEqual(withDefaultCommand(['--data-dir', '/d']), ['--data-dir', '/d', 'daemon', '--init']);
});

test('--open may come with it: daemon --init --open', () => {
  assert.deepEqual(withDefaultCommand(['--open']), ['daemon', '--init', '--open']);
  assert.deepEqual(withDefaultCommand(['--data-dir', '/d', '--open']), [
    '--data-dir',
    '/d',
    'daemon',
    '--init',
    '--open',
  ]);
  assert.deepEqual(withDefaultCommand(['id', '--open']), ['id', '--open']);
});

test('any command, option or typo is parsed as written', () => {
  for (const argv of [['--help'], ['--version'], ['id'], ['--data-dir', '/d', 'id'], ['dameon'], ['-h']]) {
    assert.deepEqual(withDefaultCommand(argv), argv);
  }
});
