/** One-time login links: once, within the hour, only ours, a bounded few. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOGIN_LINK_TTL_MS, LoginLinks } from '../../../src/app/web-client/login-links.ts';

test('a token works once', () => {
  const links = new LoginLinks();
  const token = links.create();
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.equal(links.consume(token), true);
  assert.equal(links.consume(token), false);
});

test('unknown, malformed and expired tokens do not work', () => {
  let nowMs = 1_000_000;
  const links = new LoginLinks(() => nowMs);
  const token = links.create();
  assert.equal(links.consume('00'.repeat(32)), false);
  assert.equal(links.consume(''), false);
  assert.equal(links.consume(`${token}x`), false);
  assert.equal(links.consume(token.toUpperCase()), false);
  nowMs += LOGIN_LINK_TTL_MS;
  assert.equal(links.consume(token), false);
});

test('only the newest 8 unused tokens are kept', () => {
  const links = new LoginLinks();
  const tokens = Array.from({ length: 10 }, () => links.create());
  assert.equal(links.consume(tokens[0] ?? ''), false);
  assert.equal(links.consume(tokens[1] ?? ''), false);
  for (const token of tokens.slice(2)) assert.equal(links.consume(token), true);
});
