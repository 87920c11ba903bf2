import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { writeCompactAddress } from '../../src/runtime/index.ts';
import { classifySource, SourceVerdict } from '../../src/bootstrap/source-filter.ts';
import { classifyHost } from '../../src/dht/index.ts';

function verdict(host: string, isPrivateAllowed: boolean, port = 6881): SourceVerdict {
  const b = Buffer.alloc(18);
  const n = writeCompactAddress(host, port, b, 0);
  assert.ok(n > 0, host);
  return classifySource(b, 0, n === 6 ? 4 : 16, isPrivateAllowed);
}

describe('classifySource', () => {
  const publicHosts = ['1.2.3.4', '8.8.8.8', '2001:db8::1', '2a00:1450::1', '100.63.0.1', '172.32.0.1'];
  const privateHosts = [
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.1.1',
    'fe80::1',
    'fd00::1',
    'fc12::3',
    '198.18.0.1', // benchmarking (RFC 2544): the lab's Internet, a private test network to the server
    '198.19.255.254',
  ];
  const neverHosts = ['0.0.0.0', '224.0.0.1', '255.255.255.255', '::', 'ff02::1', '::ffff:1.2.3.4'];

  test('public sources are keyed by IP, with or without allowPrivate', () => {
    for (const h of publicHosts) {
      assert.equal(verdict(h, false), SourceVerdict.keyedByIp, h);
      assert.equal(verdict(h, true), SourceVerdict.keyedByIp, h);
    }
  });

  test('private and loopback sources only with allowPrivate; loopback keyed by IP and port', () => {
    for (const h of privateHosts) {
      assert.equal(verdict(h, false), SourceVerdict.rejected, h);
      assert.equal(verdict(h, true), SourceVerdict.keyedByIp, h);
    }
    for (const h of ['127.0.0.1', '127.1.2.3', '::1']) {
      assert.equal(verdict(h, false), SourceVerdict.rejected, h);
      assert.equal(verdict(h, true), SourceVerdict.keyedByIpAndPort, h);
    }
  });

  test('unspecified, multicast, broadcast, mapped and port 0 are never served', () => {
    for (const h of neverHosts) assert.equal(verdict(h, true), SourceVerdict.rejected, h);
    assert.equal(verdict('1.2.3.4', true, 0), SourceVerdict.rejected);
  });

  test('agrees with the dht layer classifyHost on what is public', () => {
    for (const h of [...publicHosts, ...privateHosts, '127.0.0.1', '::1', '0.0.0.0', '224.0.0.1', '::']) {
      const isPublic = classifyHost(h) === 'public';
      if (h === '100.63.0.1' || h.startsWith('2001:db8')) continue; // documentation/CGNAT ranges: classes differ by design
      assert.equal(verdict(h, false) !== SourceVerdict.rejected, isPublic, h);
    }
  });
});
