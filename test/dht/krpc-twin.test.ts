/**
 * The fast KRPC paths (krpc-scan.ts, krpc-write.ts) against their reference twins (the generic bencode paths):
 * same message for every valid packet, same result (ok or the same code/field/tid) for every mutated one, same
 * bytes for every encoded message, and the fast paths really take the common shapes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { NodeInfo, UdpAddress } from '../../src/dht/dht-types.ts';
import { decodeKrpc, decodeKrpcGeneric } from '../../src/dht/krpc-decode.ts';
import { encodeKrpc, encodeKrpcGeneric } from '../../src/dht/krpc-encode.ts';
import type { KrpcMessage, KrpcQuery, KrpcResponse } from '../../src/dht/krpc-message.ts';
import { scanKrpc } from '../../src/dht/krpc-scan.ts';
import { writeQuery, writeResponse } from '../../src/dht/krpc-write.ts';
import { SeededRandom } from '../../src/runtime/index.ts';

const bytesOf = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
const id = bytesOf(20, 20);
const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const v6 = fc.constantFrom('2001:db8::1', '::1', 'fe80::1:2', '2001:db8:0:0:0:0:0:ff');
const port = fc.nat(65_535);
const addr4: fc.Arbitrary<UdpAddress> = fc.record({ host: v4, port });
const addr6: fc.Arbitrary<UdpAddress> = fc.record({ host: v6, port });
const node4: fc.Arbitrary<NodeInfo> = fc.record({ id, address: addr4 });
const node6: fc.Arbitrary<NodeInfo> = fc.record({ id, address: addr6 });
const uint = fc.nat({ max: 2 ** 40 });

const response: fc.Arbitrary<KrpcResponse> = fc
  .record(
    {
      tid: bytesOf(1, 16),
      id,
      yourAddress: fc.oneof(addr4, addr6),
      version: bytesOf(0, 16),
      nodes: fc.array(node4, { maxLength: 8 }),
      nodes6: fc.array(node6, { maxLength: 4 }),
      token: bytesOf(1, 64),
      values: fc.array(fc.oneof(addr4, addr4, addr6), { maxLength: 6 }),
      bfsd: bytesOf(256, 256),
      bfpe: bytesOf(256, 256),
      k: bytesOf(32, 32),
      sig: bytesOf(64, 64),
      seq: uint,
      interval: uint,
      num: uint,
      samples: fc.array(id, { maxLength: 4 }),
    },
    { requiredKeys: ['tid', 'id'] },
  )
  .map((r) => ({ kind: 'response' as const, ...r }));

const want = fc.subarray(['n4', 'n6'] as const).chain((w) => fc.shuffledSubarray(w, { minLength: w.length }));
const queryBase = fc.record(
  { tid: bytesOf(1, 16), id, readOnly: fc.boolean(), want, version: bytesOf(0, 16) },
  { requiredKeys: ['tid', 'id', 'readOnly', 'want'] },
);
const query: fc.Arbitrary<KrpcQuery> = fc
  .tuple(
    queryBase,
    fc.oneof(
      fc.constant({ method: 'ping' as const }),
      fc.record({ method: fc.constant('find_node' as const), target: id }),
      fc.record({ method: fc.constant('sample_infohashes' as const), target: id }),
      fc.record(
        { method: fc.constant('get' as const), target: id, seq: uint },
        { requiredKeys: ['method', 'target'] },
      ),
      fc.record({
        method: fc.constant('get_peers' as const),
        infoHash: id,
        scrape: fc.boolean(),
        noSeed: fc.boolean(),
      }),
      fc
        .record({
          method: fc.constant('announce_peer' as const),
          infoHash: id,
          port,
          impliedPort: fc.boolean(),
          token: bytesOf(1, 64),
          seed: fc.boolean(),
        })
        .filter((a) => a.impliedPort || a.port > 0),
    ),
  )
  .map(([base, rest]) => ({ kind: 'query' as const, ...base, ...rest }) as KrpcQuery);

/** decodeKrpc (fast path first) and the generic decoder agree exactly on these bytes. */
function assertTwins(packet: Buffer): void {
  const fast = scanKrpc(packet);
  const generic = decodeKrpcGeneric(packet);
  if (fast !== undefined) {
    assert.ok(generic.ok, 'the scanner accepted what the generic decoder rejects');
    assert.deepEqual(fast, generic.message);
  }
  assert.deepEqual(decodeKrpc(packet), generic);
}

describe('krpc twins: valid messages', () => {
  test('responses: same bytes encoded, same message decoded, both fast paths taken', () => {
    fc.assert(
      fc.property(response, (m) => {
        const bytes = encodeKrpcGeneric(m);
        assert.ok(writeResponse(m)?.equals(bytes), 'direct writer differs or fell back');
        assert.ok(encodeKrpc(m).equals(bytes));
        assert.ok(scanKrpc(bytes) !== undefined, 'scanner fell back on a valid response');
        assertTwins(bytes);
      }),
      { numRuns: 1500, seed: 7 },
    );
  });

  test('queries: same bytes encoded, same message decoded, both fast paths taken', () => {
    fc.assert(
      fc.property(query, (q) => {
        const bytes = encodeKrpcGeneric(q);
        assert.ok(writeQuery(q)?.equals(bytes), 'direct writer differs or fell back');
        assert.ok(encodeKrpc(q).equals(bytes));
        assert.ok(scanKrpc(bytes) !== undefined, 'scanner fell back on a valid query');
        assertTwins(bytes);
      }),
      { numRuns: 1500, seed: 8 },
    );
  });

  test('shapes left to the generic paths still round-trip (put, unknown, errors, v in a response)', () => {
    const base = { tid: Buffer.from('tt'), id: Buffer.alloc(20, 1), readOnly: false, want: [] } as const;
    const messages: KrpcMessage[] = [
      {
        kind: 'query',
        ...base,
        method: 'put',
        token: Buffer.from('k'),
        v: Buffer.from('hi'),
        vBytes: Buffer.from('2:hi'),
      },
      { kind: 'query', ...base, method: 'unknown', name: 'vote', target: Buffer.alloc(20, 2) },
      {
        kind: 'error',
        tid: Buffer.from('e'),
        code: 203,
        message: 'bad',
        yourAddress: { host: '1.2.3.4', port: 9 },
      },
      {
        kind: 'response',
        tid: Buffer.from('r'),
        id: Buffer.alloc(20, 3),
        v: Buffer.from('x'),
        vBytes: Buffer.from('1:x'),
      },
    ];
    for (const m of messages) {
      const bytes = encodeKrpc(m);
      assert.ok(bytes.equals(encodeKrpcGeneric(m)));
      assert.equal(scanKrpc(bytes), undefined);
      assertTwins(bytes);
    }
  });
});

describe('krpc twins: mutated and malformed input', () => {
  test('40,000 mutated packets: fast path and generic decoder give the same result', () => {
    const seeds = [
      ...fc.sample(response, { numRuns: 40, seed: 11 }).map(encodeKrpcGeneric),
      ...fc.sample(query, { numRuns: 40, seed: 12 }).map(encodeKrpcGeneric),
    ];
    const random = new SeededRandom('krpc-twin');
    let accepted = 0;
    for (let i = 0; i < 40_000; i++) {
      const seed = seeds[random.int(seeds.length)]!;
      let packet = Buffer.from(seed);
      const edit = random.int(4);
      const at = random.int(packet.length);
      if (edit === 0) packet[at] = random.int(256);
      else if (edit === 1) packet[at] = '0123456789:deil'.charCodeAt(random.int(15));
      else if (edit === 2) packet = packet.subarray(0, at);
      else packet = Buffer.concat([packet.subarray(0, at), packet.subarray(at + 1 + random.int(3))]);
      assertTwins(packet);
      if (scanKrpc(packet) !== undefined) accepted++;
    }
    assert.ok(accepted > 1000, `the scanner accepted only ${accepted} mutants`);
  });

  test('non-canonical and unusual-but-valid bencode goes to the generic path', () => {
    const r = (body: string, top = '') =>
      Buffer.from(`d${top}1:rd2:id20:${'r'.repeat(20)}${body}e1:t2:aa1:y1:re`, 'latin1');
    const cases = [
      r('5:nodes026:' + 'n'.repeat(26)), // leading zero in a length
      r('3:numi007e'), // leading zero in an integer
      r('3:numi-1e'), // negative
      r('5:token1:x5:token1:y'), // duplicate key
      r('5:token1:x3:numi1e'), // unsorted
      r('1:zi1e'), // unknown key
      r('6:valuesl6:abcdefi1ee'), // non-string list item
      r('', '2:ipi1e'), // informational field of another type (ignored by the generic path)
      Buffer.from(`d1:rd2:id20:${'r'.repeat(20)}e1:t2:aa1:y1:ree`, 'latin1'), // trailing byte
    ];
    for (const packet of cases) {
      assert.equal(scanKrpc(packet), undefined, packet.toString('latin1'));
      assertTwins(packet);
    }
  });

  test('decoded byte strings never alias the input', () => {
    const m: KrpcResponse = {
      kind: 'response',
      tid: Buffer.from('ab'),
      id: Buffer.alloc(20, 1),
      token: Buffer.from('tok'),
    };
    const packet = encodeKrpc(m);
    const r = decodeKrpc(packet);
    packet.fill(0);
    assert.ok(r.ok && r.message.kind === 'response');
    assert.deepEqual(r.message.id, Buffer.alloc(20, 1));
    assert.deepEqual(r.message.token, Buffer.from('tok'));
  });

  test('bad local messages still throw from encodeKrpc, as the generic encoder does', () => {
    const bad: KrpcResponse = {
      kind: 'response',
      tid: Buffer.from('a'),
      id: Buffer.alloc(20),
      nodes: [{ id: Buffer.alloc(20), address: { host: '::1', port: 1 } }],
    };
    assert.equal(writeResponse(bad), undefined);
    assert.throws(() => encodeKrpcGeneric(bad), { code: 'WIRE_COMPACT_BAD_ADDRESS' });
    assert.throws(() => encodeKrpc(bad), { code: 'WIRE_COMPACT_BAD_ADDRESS' });
    const badPort = { ...bad, nodes: [{ id: Buffer.alloc(20), address: { host: '1.2.3.4', port: 1.5 } }] };
    assert.throws(() => encodeKrpcGeneric(badPort), { code: 'WIRE_COMPACT_BAD_ADDRESS' });
    assert.throws(() => encodeKrpc(badPort), { code: 'WIRE_COMPACT_BAD_ADDRESS' });
  });
});
