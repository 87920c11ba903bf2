/** The verified-pieces bitfield: against a Set, and its bytes (what the store keeps) checked strictly. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../../../src/chat/files/bitfield.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';

test('a bitfield agrees with a naive Set under random sets, and round-trips through its bytes', () => {
  const random = new SeededRandom('bitfield');
  for (const count of [0, 1, 7, 8, 9, 63, 64, 65, 1000]) {
    const field = new Bitfield(count);
    const twin = new Set<number>();
    for (let step = 0; step < count * 2; step++) {
      const i = random.int(count + 2) - 1;
      assert.equal(field.set(i), i >= 0 && i < count && !twin.has(i));
      if (i >= 0 && i < count) twin.add(i);
      assert.equal(field.count, twin.size);
    }
    for (let i = -1; i <= count; i++) assert.equal(field.has(i), twin.has(i));
    let expectedMissing: number | undefined;
    for (let i = 0; i < count; i++) {
      if (!twin.has(i)) {
        expectedMissing = i;
        break;
      }
    }
    assert.equal(field.nextMissing(), expectedMissing);
    assert.equal(field.isComplete, twin.size === count);
    const copy = Bitfield.fromBytes(count, field.toBytes());
    assert.ok(copy !== undefined);
    for (let i = 0; i < count; i++) assert.equal(copy.has(i), twin.has(i));
  }
});

test('piece 0 is the top bit; bytes of the wrong length or with spare bits set are refused', () => {
  const field = new Bitfield(10);
  field.set(0);
  field.set(9);
  assert.deepEqual(field.toBytes(), Buffer.from([0x80, 0x40]));
  assert.equal(Bitfield.fromBytes(10, Buffer.from([0x80])), undefined);
  assert.equal(Bitfield.fromBytes(10, Buffer.from([0x80, 0x20])), undefined, 'bit 10 is spare');
  assert.equal(Bitfield.fromBytes(16, Buffer.from([0xff, 0xff]))?.isComplete, true);
  const full = Bitfield.full(20);
  assert.equal(full.nextMissing(), undefined);
  assert.equal(full.count, 20);
});
