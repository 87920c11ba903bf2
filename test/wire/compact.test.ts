import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DhtchatError } from '../../src/runtime/index.ts';
import {
  decodeCompactAddress,
  decodeCompactNodes,
  encodeCompactAddress,
  encodeCompactNodes,
  type NodeInfo,
} from '../../src/wire/index.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof DhtchatError && e.code === code);
}

describe('compact addresses (BEP 5 / BEP 32)', () => {
  test('IPv4: 4 address bytes then a big-endian port', () => {
    const bytes = encodeCompactAddress({ host: '1.2.3.4', port: 6881 });
    assert.deepEqual(bytes, hex('01020304 1ae1'));
    assert.deepEqual(decodeCompactAddress(bytes), { host: '1.2.3.4', port: 6881 });
    assert.deepEqual(decodeCompactAddress(hex('ffffffff ffff')), { host: '255.255.255.255', port: 65535 });
  });

  test('IPv6: 16 address bytes then the port', () => {
    const bytes = encodeCompactAddress({ host: '2001:db8::1', port: 443 });
    assert.deepEqual(bytes, hex('20010db8000000000000000000000001 01bb'));
    assert.deepEqual(decodeCompactAddress(bytes), { host: '2001:db8::1', port: 443 });
    assert.equal(encodeCompactAddress({ host: '::', port: 1 }).length, 18);
  });

  test('decode gives canonical IPv6 text', () => {
    assert.equal(
      decodeCompactAddress(hex('20010DB8000000000001000000000001 0001'))?.host,
      '2001:db8::1:0:0:1',
    );
    assert.equal(decodeCompactAddress(hex('00000000000000000000ffff01020304 0001'))?.host, '::ffff:1.2.3.4');
  });

  test('port 0 is kept for callers to filter', () => {
    assert.deepEqual(decodeCompactAddress(hex('7f000001 0000')), { host: '127.0.0.1', port: 0 });
  });

  test('decode: undefined for any length but 6 or 18', () => {
    for (const n of [0, 1, 5, 7, 16, 17, 19, 26])
      assert.equal(decodeCompactAddress(Buffer.alloc(n)), undefined);
  });

  test('encode throws WIRE_COMPACT_BAD_ADDRESS for bad hosts and ports', () => {
    for (const host of ['', 'example.com', '1.2.3', '256.1.1.1', '01.2.3.4', 'fe80::1%eth0', '1::2::3']) {
      throwsCode(() => encodeCompactAddress({ host, port: 1 }), 'WIRE_COMPACT_BAD_ADDRESS');
    }
    for (const port of [-1, 65536, 1.5, Number.NaN]) {
      throwsCode(() => encodeCompactAddress({ host: '1.2.3.4', port }), 'WIRE_COMPACT_BAD_ADDRESS');
    }
  });
});

describe('compact nodes', () => {
  const id = (fill: number): Buffer => Buffer.alloc(20, fill);

  test('IPv4 nodes: 26 bytes each, round trip', () => {
    const nodes: NodeInfo[] = [
      { id: id(1), address: { host: '10.0.0.1', port: 1 } },
      { id: id(2), address: { host: '192.168.1.2', port: 65535 } },
    ];
    const bytes = encodeCompactNodes(nodes, 4);
    assert.equal(bytes.length, 52);
    assert.deepEqual(bytes.subarray(20, 26), hex('0a000001 0001'));
    assert.deepEqual(decodeCompactNodes(bytes, 4), nodes);
  });

  test('IPv6 nodes: 38 bytes each, round trip', () => {
    const nodes: NodeInfo[] = [
      { id: id(3), address: { host: '2001:db8::2', port: 6881 } },
      { id: id(4), address: { host: 'fe80::1:2', port: 7 } },
    ];
    const bytes = encodeCompactNodes(nodes, 6);
    assert.equal(bytes.length, 76);
    assert.deepEqual(decodeCompactNodes(bytes, 6), nodes);
  });

  test('empty lists', () => {
    assert.deepEqual(encodeCompactNodes([], 4), Buffer.alloc(0));
    assert.deepEqual(decodeCompactNodes(Buffer.alloc(0), 6), []);
  });

  test('decode: undefined when the length is not a multiple of the entry size', () => {
    assert.equal(decodeCompactNodes(Buffer.alloc(25), 4), undefined);
    assert.equal(decodeCompactNodes(Buffer.alloc(27), 4), undefined);
    assert.equal(decodeCompactNodes(Buffer.alloc(38), 4), undefined);
    assert.equal(decodeCompactNodes(Buffer.alloc(26), 6), undefined);
  });

  test('decoded ids are copies of the input', () => {
    const bytes = encodeCompactNodes([{ id: id(9), address: { host: '1.1.1.1', port: 1 } }], 4);
    const nodes = decodeCompactNodes(bytes, 4);
    bytes.fill(0);
    assert.deepEqual(nodes?.[0]?.id, id(9));
  });

  test('port-0 entries are kept', () => {
    const bytes = encodeCompactNodes([{ id: id(5), address: { host: '1.1.1.1', port: 0 } }], 4);
    assert.equal(decodeCompactNodes(bytes, 4)?.[0]?.address.port, 0);
  });

  test('encode throws for the wrong family or a bad id', () => {
    throwsCode(
      () => encodeCompactNodes([{ id: id(1), address: { host: '::1', port: 1 } }], 4),
      'WIRE_COMPACT_BAD_ADDRESS',
    );
    throwsCode(
      () => encodeCompactNodes([{ id: id(1), address: { host: '1.1.1.1', port: 1 } }], 6),
      'WIRE_COMPACT_BAD_ADDRESS',
    );
    throwsCode(
      () => encodeCompactNodes([{ id: Buffer.alloc(19), address: { host: '1.1.1.1', port: 1 } }], 4),
      'WIRE_COMPACT_BAD_NODE',
    );
  });
});

describe('compact properties', () => {
  test('any bytes of a whole number of entries decode, and re-encode to the same bytes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(4 as const, 6 as const),
        fc.integer({ min: 0, max: 8 }),
        fc.nat(),
        (family, count, seed) => {
          const size = family === 4 ? 26 : 38;
          const bytes = Buffer.from(Array.from({ length: count * size }, (_, i) => (i * 131 + seed) & 0xff));
          const nodes = decodeCompactNodes(bytes, family);
          assert.ok(nodes);
          assert.equal(nodes.length, count);
          assert.deepEqual(encodeCompactNodes(nodes, family), bytes);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('decoders never throw on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (a) => {
        const address = decodeCompactAddress(a);
        assert.equal(address === undefined, a.length !== 6 && a.length !== 18);
        if (address) assert.deepEqual(encodeCompactAddress(address), Buffer.from(a));
        assert.equal(decodeCompactNodes(a, 4) === undefined, a.length % 26 !== 0);
        assert.equal(decodeCompactNodes(a, 6) === undefined, a.length % 38 !== 0);
      }),
      { numRuns: 3000 },
    );
  });
});
