import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SynCookies } from '../../src/bootstrap/syn-cookie.ts';

const master = Buffer.alloc(32, 5);
const addr = Buffer.from([1, 2, 3, 4, 0, 80]);

test('a cookie verifies in its epoch and the next, not after, and only for its address', () => {
  const cookies = new SynCookies(master, 1000);
  const tid = Buffer.alloc(4);
  cookies.write(addr, 0, 6, 500, tid);
  assert.ok(cookies.verify(tid, 0, 4, addr, 0, 6, 999));
  assert.ok(cookies.verify(tid, 0, 4, addr, 0, 6, 1999), 'previous secret still accepted');
  assert.equal(cookies.verify(tid, 0, 4, addr, 0, 6, 2000), false, 'stale secret');
  const otherPort = Buffer.from([1, 2, 3, 4, 0, 81]);
  assert.equal(cookies.verify(tid, 0, 4, otherPort, 0, 6, 600), false);
  assert.equal(cookies.verify(tid, 0, 3, addr, 0, 6, 600), false, 'wrong length');
});

test('two instances with the same master secret agree (workers); another secret does not', () => {
  const a = new SynCookies(master, 1000);
  const b = new SynCookies(Buffer.from(master), 1000);
  const c = new SynCookies(Buffer.alloc(32, 6), 1000);
  const tid = Buffer.alloc(4);
  a.write(addr, 0, 6, 123_456, tid);
  assert.ok(b.verify(tid, 0, 4, addr, 0, 6, 123_999));
  assert.equal(c.verify(tid, 0, 4, addr, 0, 6, 123_999), false);
});
