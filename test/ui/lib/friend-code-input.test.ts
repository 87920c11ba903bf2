/** What a pasted code or link becomes (ui/src/lib/friend-code-input.ts); the daemon checks the code itself. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { friendLink, parsePastedFriend } from '../../../ui/src/lib/friend-code-input.ts';

const CODE = `dhtchat:${'a'.repeat(58)}`;

test('a code with spaces and line breaks from a mail, or text around it, is the code', () => {
  assert.deepEqual(parsePastedFriend(`  ${CODE.slice(0, 30)}\n ${CODE.slice(30)}  `), { code: CODE });
  assert.deepEqual(parsePastedFriend(`my code is ${CODE}`), { code: CODE });
});

test('a friend link carries a suggested name; our link round-trips', () => {
  const link = friendLink(CODE, 'Ålice & Bob');
  assert.deepEqual(parsePastedFriend(link), { code: CODE, suggestedName: 'Ålice & Bob' });
  assert.equal(friendLink(CODE, null), CODE);
  assert.deepEqual(parsePastedFriend(`${CODE}?name=`), { code: CODE });
});

test('anything else is passed on as typed, for the daemon to say what is wrong', () => {
  assert.deepEqual(parsePastedFriend('hello'), { code: 'hello' });
});
