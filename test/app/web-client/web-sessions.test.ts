/** The browser session cookie: its attributes, sign-in, sign-out, persistence of hashes only, expiry. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cookieValue, SESSION_IDLE_MS, WebSessions } from '../../../src/app/web-client/web-sessions.ts';

function cookieHeaderFrom(setCookie: string): string {
  return setCookie.split(';')[0] ?? '';
}

test('the cookie is HttpOnly, SameSite=Strict, on /, named after the identity', () => {
  const sessions = new WebSessions({ identityTag: 'dhtchat:alice' });
  const setCookie = sessions.open();
  assert.match(setCookie, /^dhtchat-[0-9a-f]{8}=[0-9a-f]{64}; /);
  for (const part of ['HttpOnly', 'SameSite=Strict', 'Path=/']) assert.ok(setCookie.includes(part), part);
  const other = new WebSessions({ identityTag: 'dhtchat:bob' });
  assert.notEqual(other.cookieName, sessions.cookieName);
});

test("a session signs in; another daemon's cookie, a forged one or none does not", () => {
  const alice = new WebSessions({ identityTag: 'dhtchat:alice' });
  const bob = new WebSessions({ identityTag: 'dhtchat:bob' });
  const aliceCookie = cookieHeaderFrom(alice.open());
  const bobCookie = cookieHeaderFrom(bob.open());
  assert.equal(alice.isSignedIn(`theme=dark; ${aliceCookie}`), true);
  assert.equal(alice.isSignedIn(bobCookie), false);
  assert.equal(alice.isSignedIn(`${alice.cookieName}=${'00'.repeat(32)}`), false);
  assert.equal(alice.isSignedIn(undefined), false);
  assert.equal(alice.isSignedIn(`${alice.cookieName}=`), false);
});

test('closing a session signs it out and clears the cookie', () => {
  const sessions = new WebSessions({ identityTag: 'x' });
  const cookie = cookieHeaderFrom(sessions.open());
  const cleared = sessions.close(cookie);
  assert.match(cleared, /Max-Age=0/);
  assert.equal(sessions.isSignedIn(cookie), false);
});

test('only hashes are persisted, and a restarted daemon honours them until they go idle', () => {
  let saved: unknown;
  let nowMs = 5_000_000;
  const persistence = {
    load: () => saved,
    save: (v: unknown) => {
      saved = v;
    },
  };
  const first = new WebSessions({ identityTag: 'x', persistence, now: () => nowMs });
  const cookie = cookieHeaderFrom(first.open());
  const id = cookieValue(cookie, first.cookieName) ?? '';
  assert.ok(!JSON.stringify(saved).includes(id), 'the session id itself is never stored');
  const restarted = new WebSessions({ identityTag: 'x', persistence, now: () => nowMs });
  assert.equal(restarted.isSignedIn(cookie), true);
  nowMs += SESSION_IDLE_MS;
  assert.equal(restarted.isSignedIn(cookie), false);
  assert.equal(
    new WebSessions({ identityTag: 'x', persistence: { load: () => 'junk', save: () => {} } }).isSignedIn(
      cookie,
    ),
    false,
  );
});

test('cookieValue reads one cookie among others', () => {
  assert.equal(cookieValue('a=1; b=2;c=3', 'b'), '2');
  assert.equal(cookieValue('a=1', 'b'), undefined);
  assert.equal(cookieValue('ab=1', 'b'), undefined);
});
