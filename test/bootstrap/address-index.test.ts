import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressIndex } from '../../src/bootstrap/address-index.ts';
import { SeededRandom } from '../../src/runtime/index.ts';

// The index against a naive twin (a Map from key hex to slot), over random inserts and removes with collisions.
test('AddressIndex matches a Map twin under random inserts and removes', () => {
  const random = new SeededRandom('address-index');
  const slots = 3000;
  const recordBytes = 8; // [keyLength][key up to 6][pad]
  const store = Buffer.alloc(slots * recordBytes);
  const index = new AddressIndex({
    store,
    recordBytes,
    keyOffset: 1,
    keyLengthAt: (o) => store[o]!,
    maxEntries: slots,
    seed: 42,
  });
  const twin = new Map<string, number>();
  const used = new Set<number>();
  const keyHex = (slot: number): string => {
    const o = slot * recordBytes;
    return store.subarray(o + 1, o + 1 + store[o]!).toString('hex');
  };
  for (let step = 0; step < 20000; step++) {
    const isInsert = random.int(3) !== 0 || used.size === 0;
    if (isInsert && used.size < slots) {
      let slot = random.int(slots);
      while (used.has(slot)) slot = (slot + 1) % slots;
      const keyLength = random.int(2) === 0 ? 4 : 6;
      // Few distinct key values so duplicates and collisions happen.
      const key = Buffer.from([
        random.int(4),
        random.int(8),
        random.int(8),
        random.int(16),
        random.int(2),
        0,
      ]);
      const hex = key.subarray(0, keyLength).toString('hex');
      const found = index.find(key, 0, keyLength);
      assert.equal(found, twin.get(hex) ?? -1, `step ${step}`);
      if (found >= 0) continue;
      store[slot * recordBytes] = keyLength;
      key.copy(store, slot * recordBytes + 1, 0, keyLength);
      index.insert(slot, keyLength);
      twin.set(hex, slot);
      used.add(slot);
    } else {
      const all = [...used];
      const slot = all[random.int(all.length)]!;
      const hex = keyHex(slot);
      index.remove(slot);
      twin.delete(hex);
      used.delete(slot);
    }
    assert.equal(index.size, twin.size);
  }
  for (const [hex, slot] of twin) {
    const key = Buffer.from(hex, 'hex');
    assert.equal(index.find(key, 0, key.length), slot);
  }
});
