/** What a name may be (src/chat/contact-name.ts): printable, short, never a friend code in disguise. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkName, isValidName, MAX_NAME_CHARS, nameProblem } from '../../src/chat/contact-name.ts';
import { DhtchatError } from '../../src/runtime/index.ts';

test('names of every script and emoji are fine; 64 code points is the most', () => {
  for (const name of [
    'Alice',
    'Zoë',
    'Владимир',
    'محمد',
    '李小龙',
    'Bob ❤️',
    '👩‍👩‍👧',
    'é'.repeat(MAX_NAME_CHARS),
  ]) {
    assert.equal(nameProblem(name), undefined, name);
  }
});

test('refused: empty, too long, padded, controls, bidi, separators, unassigned, private use, a code prefix', () => {
  const refused = [
    '',
    'x'.repeat(MAX_NAME_CHARS + 1),
    ' Alice',
    'Alice\t',
    'Al\nice',
    'Al\u001b[2Jice',
    'Al\u0085ice', // C1 NEL
    'Alice\u202e', // right-to-left override
    'Al\u2066ice', // left-to-right isolate
    'Al\u200fice', // right-to-left mark
    'Al\u2028ice',
    'Al\ufff9ice',
    'Al\u0378ice', // unassigned
    'Al\ue000ice', // private use
    'Al\ud800ice', // a lone surrogate
    'dhtchat:abc',
    'DHTCHAT:abc',
    '\uff44\uff48\uff54\uff43\uff48\uff41\uff54:abc', // fullwidth
  ];
  for (const name of refused) assert.notEqual(nameProblem(name), undefined, JSON.stringify(name));
  assert.equal(isValidName('dhtchat fan'), true, 'only the prefix with its colon reads like a code');
});

test('checkName throws CHAT_NAME_INVALID saying why', () => {
  assert.throws(
    () => checkName('Al\u202eice', 'your name'),
    (error: unknown) =>
      error instanceof DhtchatError &&
      error.code === 'CHAT_NAME_INVALID' &&
      /^your name is not usable: .*bidi/.test(error.message),
  );
});
