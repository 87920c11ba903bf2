/** uTP SYN cookies: the MAC is HMAC-SHA256 as node:crypto computes it; forged, rebound and stale cookies fail. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { COOKIE_ROTATE_MS, SYN_COOKIE_LABEL, SynCookies } from '../../../src/net/utp/syn-cookie.ts';
import { ManualClock, SeededRandom } from '../../../src/runtime/index.ts';

const SYN = { remote: { host: '192.0.2.7', port: 6881 }, connectionId: 0x1234, synSeq: 0xfffe };

function reference(secret: Buffer, syn: typeof SYN): number {
  const fields = Buffer.alloc(7);
  fields.writeUInt16BE(syn.remote.port, 1);
  fields.writeUInt16BE(syn.connectionId, 3);
  fields.writeUInt16BE(syn.synSeq, 5);
  const message = Buffer.concat([Buffer.from(SYN_COOKIE_LABEL + syn.remote.host, 'latin1'), fields]);
  return createHmac('sha256', secret).update(message).digest().readUInt16BE(0);
}

describe('uTP SYN cookies', () => {
  test('a cookie is the first 16 bits of HMAC-SHA256(secret, label ‖ host ‖ 0 ‖ port ‖ id ‖ seq)', () => {
    const cookies = new SynCookies(new ManualClock(), new SeededRandom('k'));
    const secret = new SeededRandom('k').bytes(32);
    for (const syn of [SYN, { ...SYN, remote: { host: '2001:db8::1:2', port: 1 } }, { ...SYN, synSeq: 0 }]) {
      assert.equal(cookies.issue(syn), reference(secret, syn), JSON.stringify(syn));
    }
  });

  test('the issued cookie is valid; exactly one of the 65,536 values is, for one secret', () => {
    const cookies = new SynCookies(new ManualClock(), new SeededRandom('one'));
    const cookie = cookies.issue(SYN);
    assert.ok(cookies.isValid(cookie, SYN));
    let valid = 0;
    for (let guess = 0; guess <= 0xffff; guess++) if (cookies.isValid(guess, SYN)) valid++;
    // The previous secret is live too, so a blind guess wins with probability at most 2 / 65,536.
    assert.ok(valid >= 1 && valid <= 2, `${valid}`);
  });

  test('a cookie is bound to the host, the port, the connection id and the SYN seq_nr', () => {
    const cookies = new SynCookies(new ManualClock(), new SeededRandom('bind'));
    const cookie = cookies.issue(SYN);
    const others = [
      { ...SYN, remote: { host: '192.0.2.8', port: 6881 } },
      { ...SYN, remote: { host: '192.0.2.7', port: 6882 } },
      { ...SYN, connectionId: 0x1235 },
      { ...SYN, synSeq: 0xffff },
    ];
    // Each variant would need its own cookie: count how many of them this one also opens (chance 2^-16 each).
    const opened = others.filter((other) => cookies.isValid(cookie, other));
    assert.deepEqual(opened, []);
  });

  test('a cookie lives one to two rotations, then is stale', () => {
    const clock = new ManualClock();
    const cookies = new SynCookies(clock, new SeededRandom('rot'));
    const cookie = cookies.issue(SYN);
    clock.advance(COOKIE_ROTATE_MS - 1);
    assert.ok(cookies.isValid(cookie, SYN), 'same period');
    clock.advance(1);
    assert.ok(cookies.isValid(cookie, SYN), 'next period: previous secret');
    clock.advance(COOKIE_ROTATE_MS);
    assert.equal(cookies.isValid(cookie, SYN), false, 'two periods later: stale');
  });

  test('after a long silence both secrets are new: an old cookie is stale at once', () => {
    const clock = new ManualClock();
    const cookies = new SynCookies(clock, new SeededRandom('silence'));
    const cookie = cookies.issue(SYN);
    clock.advance(10 * COOKIE_ROTATE_MS);
    assert.equal(cookies.isValid(cookie, SYN), false);
    assert.ok(cookies.isValid(cookies.issue(SYN), SYN));
  });
});
