import assert from 'node:assert/strict';
import type { networkInterfaces } from 'node:os';
import { test } from 'node:test';
import { interfaceFingerprint, watchInterfaces } from '../../src/app/interface-watch.ts';

type Interfaces = ReturnType<typeof networkInterfaces>;
const iface = (address: string, internal = false) =>
  ({ address, internal, family: address.includes(':') ? 'IPv6' : 'IPv4' }) as Interfaces[string] extends
    | (infer T)[]
    | undefined
    ? T
    : never;

test('the fingerprint: external addresses only, in a stable order', () => {
  const a: Interfaces = { lo: [iface('127.0.0.1', true)], eth0: [iface('192.168.1.5'), iface('fe80::1')] };
  const b: Interfaces = { wlan0: [iface('10.0.0.7')], eth0: [iface('192.168.1.5')] };
  assert.equal(
    interfaceFingerprint(() => a),
    '192.168.1.5',
  );
  assert.equal(
    interfaceFingerprint(() => b),
    '10.0.0.7,192.168.1.5',
  );
});

test('a change of address is reported once, with before and after', async () => {
  let current: Interfaces = { eth0: [iface('192.168.1.5')] };
  const changes: string[] = [];
  const stop = watchInterfaces(
    (before, after) => changes.push(`${before}>${after}`),
    () => current,
    5,
  );
  try {
    current = { eth0: [iface('192.168.7.9')] };
    for (let i = 0; i < 200 && changes.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(changes, ['192.168.1.5>192.168.7.9']);
  } finally {
    stop();
  }
});
