/** dialOrder: IPv6 first on a dual-stack socket, none on an IPv4-only one; order kept otherwise, no duplicates. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dialOrder } from '../../../src/chat/session/dial-order.ts';

const v4Stored = { host: '198.51.100.7', port: 7000 };
const v4Record = { host: '203.0.113.9', port: 7001 };
const v6 = { host: '2001:db8:5:1::10', port: 7000 };
const ula = { host: 'fd00::10', port: 7000 };

test('dual-stack socket: IPv6 endpoints first, then IPv4 in the given order', () => {
  assert.deepEqual(dialOrder([v4Stored, v4Record, v6, ula], '::', 8), [v6, ula, v4Stored, v4Record]);
  assert.deepEqual(dialOrder([v4Stored, v6], '2001:db8::1', 8), [v6, v4Stored], 'bound to an IPv6 address');
});

test('IPv4-only socket: IPv6 endpoints are left out (they cannot be sent to)', () => {
  assert.deepEqual(dialOrder([v6, v4Stored, ula, v4Record], '0.0.0.0', 8), [v4Stored, v4Record]);
  assert.deepEqual(dialOrder([v6], '10.1.0.1', 8), []);
});

test('duplicates dropped, at most max, IPv4-mapped addresses count as IPv4', () => {
  const mapped = { host: '::ffff:198.51.100.8', port: 7000 };
  assert.deepEqual(dialOrder([v4Stored, { ...v4Stored }, v6, { ...v6 }], '::', 8), [v6, v4Stored]);
  assert.deepEqual(dialOrder([v4Stored, v4Record, v6], '::', 2), [v6, v4Stored]);
  assert.deepEqual(dialOrder([mapped], '0.0.0.0', 8), [mapped]);
});
