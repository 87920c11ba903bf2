import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  classifyHost,
  familyOf,
  ipBytesOf,
  isAdmittedWhenPrivateAllowed,
  isIpv6,
  isLocalHost,
  isPublicHost,
} from '../../src/dht/address-class.ts';

describe('classifyHost', () => {
  const cases: Array<[string, string]> = [
    ['8.8.8.8', 'public'],
    ['124.31.75.21', 'public'],
    ['192.0.2.1', 'public'], // documentation range, deliberately public (see the file header)
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['172.15.255.255', 'public'],
    ['192.168.1.1', 'private'],
    ['192.169.0.1', 'public'],
    ['100.64.0.1', 'reserved'],
    ['100.127.255.255', 'reserved'],
    ['100.128.0.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.10.10', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'benchmarking'], // RFC 2544: the lab's Internet (see the file header)
    ['198.19.255.255', 'benchmarking'],
    ['198.17.255.255', 'public'],
    ['198.20.0.1', 'public'],
    ['192.0.0.8', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:4860:4860::8888', 'public'],
    ['2001:b829:2123:be84:e16c:d6ae:5290:49f1', 'public'],
    ['2001:db8::1', 'public'],
    ['[2001:db8::1]', 'public'],
    ['100::1', 'reserved'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['not an ip', 'reserved'],
    ['1.2.3', 'reserved'],
    ['256.1.1.1', 'reserved'],
    ['', 'reserved'],
  ];
  for (const [host, expected] of cases) {
    test(`${JSON.stringify(host)} is ${expected}`, () => assert.equal(classifyHost(host), expected));
  }
});

test('ipBytesOf unwraps IPv4-mapped addresses and rejects junk', () => {
  assert.deepEqual(ipBytesOf('::ffff:1.2.3.4'), Buffer.from([1, 2, 3, 4]));
  assert.deepEqual(ipBytesOf('1.2.3.4'), Buffer.from([1, 2, 3, 4]));
  assert.equal(ipBytesOf('::1')?.length, 16);
  assert.equal(ipBytesOf('1.2.3.4.5'), undefined);
  assert.equal(ipBytesOf('1::2::3'), undefined);
});

test('family helpers', () => {
  assert.equal(familyOf('1.2.3.4'), 4);
  assert.equal(familyOf('::ffff:1.2.3.4'), 4);
  assert.equal(familyOf('2001:db8::1'), 6);
  assert.equal(isIpv6('::1'), true);
  assert.equal(isIpv6('127.0.0.1'), false);
  assert.equal(isPublicHost('8.8.8.8'), true);
  assert.equal(isPublicHost('10.1.1.1'), false);
  assert.equal(isLocalHost('127.0.0.1'), true);
  assert.equal(isLocalHost('100.64.0.1'), false);
});

test('--allow-private admits the local classes and the benchmarking range, nothing reserved', () => {
  for (const host of [
    '10.0.0.1',
    '192.168.1.2',
    '127.0.0.1',
    '169.254.1.1',
    'fd00::1',
    '198.18.0.1',
    '198.19.3.4',
  ])
    assert.equal(isAdmittedWhenPrivateAllowed(host), true, host);
  for (const host of ['8.8.8.8', '100.64.0.1', '0.0.0.0', '224.0.0.1', '240.0.0.1', '::', 'not an ip'])
    assert.equal(isAdmittedWhenPrivateAllowed(host), false, host);
  assert.equal(isPublicHost('198.18.0.1'), false, 'never public: the range is not on the Internet');
});

test('classifyHost never throws on arbitrary strings', () => {
  const classes = new Set([
    'public',
    'private',
    'loopback',
    'link-local',
    'unspecified',
    'multicast',
    'benchmarking',
    'reserved',
  ]);
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (s) => {
      assert.ok(classes.has(classifyHost(s)));
    }),
    { numRuns: 2000 },
  );
});
