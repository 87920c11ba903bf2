/** The exit-code rule (src/app/exit-codes.ts): which errors are bad input (2), and that each is documented. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXIT_CODE, exitCodeOf, USAGE_ERROR_CODES } from '../../src/app/exit-codes.ts';
import { ChatNodeErrorCode, FriendCodeError, NameErrorCode } from '../../src/chat/index.ts';
import { DhtchatError } from '../../src/runtime/index.ts';
import { REPO_ROOT } from '../helpers/cli-runner.ts';

test('bad input exits 2, anything else 1', () => {
  for (const code of USAGE_ERROR_CODES)
    assert.equal(exitCodeOf(new DhtchatError(code, 'x')), EXIT_CODE.usage);
  for (const code of ['APP_NO_DAEMON', 'CHAT_UNKNOWN_FRIEND', 'CHAT_IDENTITY_EXISTS', 'APP_TIMEOUT']) {
    assert.equal(exitCodeOf(new DhtchatError(code, 'x')), EXIT_CODE.failure, code);
  }
  assert.equal(exitCodeOf(new Error('a bug')), EXIT_CODE.failure);
});

test("the chat layer's bad-input codes are all in the table, and each code in it is in docs/ERRORS.md", () => {
  const chatCodes = [
    ...Object.values(FriendCodeError),
    ...Object.values(NameErrorCode),
    ...Object.values(ChatNodeErrorCode),
    'CHAT_MESSAGE_TOO_LARGE',
  ];
  for (const code of chatCodes) assert.ok(USAGE_ERROR_CODES.has(code), code);
  const errors = readFileSync(join(REPO_ROOT, 'docs', 'ERRORS.md'), 'utf8');
  for (const code of USAGE_ERROR_CODES)
    assert.ok(errors.includes(`- \`${code}\``), `${code} in docs/ERRORS.md`);
});
