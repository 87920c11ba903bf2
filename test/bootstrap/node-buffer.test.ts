import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NodeBuffer } from '../../src/bootstrap/node-buffer.ts';

function entry(ip: [number, number, number, number], port: number, idByte = 1): Buffer {
  const e = Buffer.alloc(26, idByte);
  Buffer.from(ip).copy(e, 20);
  e.writeUInt16BE(port, 24);
  return e;
}

const noPortKey = (): boolean => false;

describe('NodeBuffer', () => {
  test('one entry per IP; port-keyed sources by IP and port', () => {
    const buffer = new NodeBuffer({ family: 4, capacity: 10, isPortKeyed: (b, o) => b[o] === 127, seed: 1 });
    assert.equal(buffer.insert(entry([1, 2, 3, 4], 1), 0, 0), true);
    assert.equal(buffer.insert(entry([1, 2, 3, 4], 2), 0, 0), false);
    assert.equal(buffer.insert(entry([127, 0, 0, 1], 1), 0, 0), true);
    assert.equal(buffer.insert(entry([127, 0, 0, 1], 2), 0, 0), true);
    assert.equal(buffer.insert(entry([127, 0, 0, 1], 2), 0, 0), false);
    assert.equal(buffer.size, 3);
  });

  test('hands out round-robin, wrapping, never more than it holds', () => {
    const buffer = new NodeBuffer({ family: 4, capacity: 10, isPortKeyed: noPortKey, seed: 1 });
    for (let i = 0; i < 5; i++) buffer.insert(entry([1, 1, 1, i], 1000 + i), 0, 0);
    const out = Buffer.alloc(26 * 10);
    const portsOf = (n: number): number[] =>
      Array.from({ length: n }, (_, k) => out.readUInt16BE(k * 26 + 24));
    assert.equal(buffer.copyNodes(out, 0, 3), 3);
    assert.deepEqual(portsOf(3), [1000, 1001, 1002]);
    assert.equal(buffer.copyNodes(out, 0, 3), 3);
    assert.deepEqual(portsOf(3), [1003, 1004, 1000]);
    assert.equal(buffer.copyNodes(out, 0, 8), 5);
  });

  test('the ring starts small, grows when it wraps quickly, and overwrites the oldest when full', () => {
    const buffer = new NodeBuffer({
      family: 4,
      capacity: 8,
      isPortKeyed: noPortKey,
      seed: 1,
      initialWindow: 2,
      growIntervalMs: 1000,
    });
    for (let i = 0; i < 8; i++) assert.ok(buffer.insert(entry([2, 2, 2, i], 1), 0, i));
    assert.equal(buffer.size, 8);
    assert.ok(buffer.insert(entry([3, 3, 3, 3], 1), 0, 10));
    assert.equal(buffer.size, 8);
    // The oldest (2.2.2.0) is gone and may come back; 3.3.3.3 is now present.
    assert.equal(buffer.hasAddress(Buffer.from([2, 2, 2, 0, 0, 1]), 0), false);
    assert.equal(buffer.hasAddress(Buffer.from([3, 3, 3, 3, 0, 1]), 0), true);
    assert.ok(buffer.insert(entry([2, 2, 2, 0], 1), 0, 11));
  });

  test('a slowly filled ring stays at its window instead of growing', () => {
    const buffer = new NodeBuffer({
      family: 4,
      capacity: 100,
      isPortKeyed: noPortKey,
      seed: 1,
      initialWindow: 4,
      growIntervalMs: 1000,
    });
    for (let i = 0; i < 20; i++) buffer.insert(entry([4, 4, 4, i], 1), 0, i * 5000);
    assert.equal(buffer.size, 4);
  });

  test('IPv6 entries are 38 bytes and keyed by the 16-byte IP', () => {
    const buffer = new NodeBuffer({ family: 6, capacity: 4, isPortKeyed: noPortKey, seed: 1 });
    const e = Buffer.alloc(38, 7);
    assert.ok(buffer.insert(e, 0, 0));
    e.writeUInt16BE(99, 36);
    assert.equal(buffer.insert(e, 0, 0), false);
    assert.equal(buffer.entries().length, 38);
  });
});
