import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { bytesToHost, hostToBytes, ipv4ToBytes, ipv6ToBytes } from '../../src/wire/index.ts';

describe('ip bytes', () => {
  test('IPv4 parse and format', () => {
    assert.deepEqual(ipv4ToBytes('192.168.0.255'), Buffer.from([192, 168, 0, 255]));
    assert.equal(bytesToHost(Buffer.from([0, 0, 0, 0]), 4), '0.0.0.0');
    for (const bad of ['1.2.3', '1.2.3.4.5', '1.2.3.256', '01.2.3.4', ' 1.2.3.4', '::1']) {
      assert.equal(ipv4ToBytes(bad), undefined, bad);
    }
  });

  test('IPv6 parse: compressed, full, embedded IPv4, upper case', () => {
    assert.deepEqual(ipv6ToBytes('::'), Buffer.alloc(16));
    assert.deepEqual(ipv6ToBytes('::1'), Buffer.from([...new Array(15).fill(0), 1]));
    assert.deepEqual(ipv6ToBytes('1::'), Buffer.from([0, 1, ...new Array(14).fill(0)]));
    assert.deepEqual(ipv6ToBytes('2001:DB8:0:0:0:0:0:1'), ipv6ToBytes('2001:db8::1'));
    assert.deepEqual(
      ipv6ToBytes('::ffff:1.2.3.4'),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]),
    );
    for (const bad of [
      '',
      ':',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      'fe80::1%lo',
      'g::1',
      '1.2.3.4',
    ]) {
      assert.equal(ipv6ToBytes(bad), undefined, bad);
    }
  });

  test('IPv6 format follows RFC 5952', () => {
    const fmt = (h: string) => bytesToHost(ipv6ToBytes(h)!, 6);
    assert.equal(fmt('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(fmt('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1'); // a single zero word is not compressed
    assert.equal(fmt('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1'); // longest run wins
    assert.equal(fmt('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1'); // first run wins a tie
    assert.equal(fmt('0:0:0:0:0:0:0:0'), '::');
    assert.equal(fmt('1:0:0:0:0:0:0:0'), '1::');
    assert.equal(fmt('::ffff:10.0.0.1'), '::ffff:10.0.0.1');
  });

  test('hostToBytes picks the family', () => {
    assert.equal(hostToBytes('1.2.3.4')?.length, 4);
    assert.equal(hostToBytes('::1')?.length, 16);
    assert.equal(hostToBytes('localhost'), undefined);
  });

  test('property: any 16 bytes format to a valid IPv6 string that parses back to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const host = bytesToHost(bytes, 6);
        assert.ok(isIPv6(host), host);
        assert.equal(host, host.toLowerCase());
        assert.deepEqual(ipv6ToBytes(host), Buffer.from(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  test('property: words of zeros and small values (runs) round-trip too', () => {
    const word = fc.constantFrom(0, 0, 0, 1, 0xffff, 0x20);
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
        const bytes = Buffer.alloc(16);
        for (const [i, w] of words.entries()) bytes.writeUInt16BE(w, i * 2);
        const host = bytesToHost(bytes, 6);
        assert.ok(isIPv6(host), host);
        assert.deepEqual(ipv6ToBytes(host), bytes);
      }),
      { numRuns: 2000 },
    );
  });
});
