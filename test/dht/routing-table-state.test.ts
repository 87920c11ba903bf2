import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { NodeInfo } from '../../src/dht/dht-types.ts';
import { decodeRoutingTableState, encodeRoutingTableState } from '../../src/dht/routing-table-state.ts';
import { SeededRandom } from '../../src/runtime/index.ts';
import { decodeBencode, encodeBencode } from '../../src/wire/index.ts';

const r = new SeededRandom('state');
const id = r.bytes(20);
const nodes: NodeInfo[] = [
  { id: r.bytes(20), address: { host: '1.2.3.4', port: 6881 } },
  { id: r.bytes(20), address: { host: '2001:db8::1', port: 51413 } },
  { id: r.bytes(20), address: { host: '127.0.0.1', port: 20001 } },
];

describe('routing-table-state', () => {
  test('round-trips id and both families; the bytes are a stable bencoded dict with v = 1', () => {
    const bytes = encodeRoutingTableState({ id, nodes });
    const back = decodeRoutingTableState(bytes);
    assert.ok(back);
    assert.ok(back.id.equals(id));
    const key = (n: NodeInfo) => `${n.id.toString('hex')}@${n.address.host}:${n.address.port}`;
    assert.deepEqual(back.nodes.map(key).sort(), nodes.map(key).sort());
    const decoded = decodeBencode(bytes);
    assert.ok(decoded.ok);
    const dict = decoded.value as Record<string, unknown>;
    assert.deepEqual(Object.keys(dict).sort(), ['id', 'nodes', 'nodes6', 'v']);
    assert.equal(dict['v'], 1);
    assert.equal((dict['nodes'] as Buffer).length, 2 * 26);
    assert.equal((dict['nodes6'] as Buffer).length, 38);
    assert.ok(encodeRoutingTableState({ id, nodes }).equals(bytes), 'deterministic');
  });

  test('skips nodes it cannot encode instead of throwing', () => {
    const bytes = encodeRoutingTableState({
      id,
      nodes: [{ id: r.bytes(20), address: { host: 'example.org', port: 1 } }],
    });
    assert.deepEqual(decodeRoutingTableState(bytes)?.nodes, []);
  });

  test('rejects newer versions, bad ids, ragged node strings, non-dicts; ignores unknown keys', () => {
    const make = (fields: Record<string, unknown>) => {
      const d = Object.assign(Object.create(null), fields);
      return encodeBencode(d);
    };
    assert.equal(decodeRoutingTableState(make({ id, nodes: Buffer.alloc(0), v: 2 })), undefined);
    assert.equal(decodeRoutingTableState(make({ id, nodes: Buffer.alloc(0) })), undefined);
    assert.equal(decodeRoutingTableState(make({ id: Buffer.alloc(19), v: 1 })), undefined);
    assert.equal(decodeRoutingTableState(make({ id, nodes: Buffer.alloc(27), v: 1 })), undefined);
    assert.equal(decodeRoutingTableState(make({ id, nodes6: 5, v: 1 })), undefined);
    assert.equal(decodeRoutingTableState(encodeBencode([Buffer.from('x')])), undefined);
    const extra = decodeRoutingTableState(
      make({ id, nodes: Buffer.alloc(26, 1), v: 1, zzz: Buffer.from('new') }),
    );
    assert.equal(extra?.nodes.length, 1);
  });

  test('never throws on random or mutated bytes (fast-check)', () => {
    const good = encodeRoutingTableState({ id, nodes });
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(good.length),
        fc.integer({ min: 0, max: 255 }),
        (junk, at, byte) => {
          decodeRoutingTableState(junk);
          const mutated = Buffer.from(good);
          mutated[at % mutated.length] = byte;
          const out = decodeRoutingTableState(mutated);
          if (out !== undefined) assert.equal(out.id.length, 20);
        },
      ),
      { numRuns: 2000, seed: 5 },
    );
  });
});
