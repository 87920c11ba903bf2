import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, test } from 'node:test';
import { hostFromBytes, portFromBytes, SeededRandom, writeCompactAddress } from '../../src/runtime/index.ts';
import { hostToBytes } from '../../src/wire/index.ts';

describe('writeCompactAddress', () => {
  const out = Buffer.alloc(20);

  test('writes IPv4 ip and port', () => {
    assert.equal(writeCompactAddress('1.2.3.4', 6881, out, 1), 6);
    assert.deepEqual([...out.subarray(1, 7)], [1, 2, 3, 4, 0x1a, 0xe1]);
  });

  test('writes IPv6 forms, including :: and a trailing dotted quad', () => {
    const cases: Array<[string, string]> = [
      ['::1', '00000000000000000000000000000001'],
      ['::', '00000000000000000000000000000000'],
      ['2001:db8::8:1', '20010db8000000000000000000080001'],
      ['fe80::', 'fe800000000000000000000000000000'],
      ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
      ['::ffff:1.2.3.4', '00000000000000000000ffff01020304'],
      ['2001:DB8:0:0:0:0:0:1', '20010db8000000000000000000000001'],
    ];
    for (const [host, hex] of cases) {
      assert.equal(writeCompactAddress(host, 1, out, 0), 18, host);
      assert.equal(out.subarray(0, 16).toString('hex'), hex, host);
    }
  });

  test('rejects what is not a plain IP literal', () => {
    for (const host of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '256.1.1.1',
      'a.b.c.d',
      '1::2::3',
      ':1',
      '1:',
      'fe80::1%eth0',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      'localhost',
      '1.2.3.4 ',
    ]) {
      assert.equal(writeCompactAddress(host, 1, out, 0), 0, host);
    }
    assert.equal(writeCompactAddress('1.2.3.4', 70000, out, 0), 0);
  });

  test('agrees with the wire layer on random addresses and round-trips through hostFromBytes', () => {
    const random = new SeededRandom('address-bytes');
    for (let i = 0; i < 2000; i++) {
      const isV6 = i % 2 === 1;
      const raw = random.bytes(isV6 ? 16 : 4);
      if (isV6 && i % 4 === 1) raw.fill(0, 2, 12); // exercise ::
      const host = hostFromBytes(raw, 0, isV6 ? 16 : 4);
      assert.ok(isIP(host) !== 0, host);
      const port = random.int(65536);
      const n = writeCompactAddress(host, port, out, 0);
      assert.equal(n, isV6 ? 18 : 6);
      assert.deepEqual(out.subarray(0, n - 2), hostToBytes(host));
      assert.deepEqual(out.subarray(0, n - 2), raw);
      assert.equal(portFromBytes(out, 0, isV6 ? 16 : 4), port);
    }
  });
});
