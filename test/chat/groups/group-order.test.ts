/**
 * The order of a group's messages (docs/PROTOCOL.md "Groups", "Order"): members that received the same
 * entries in any order, with gaps filled later, list them identically; a member holding a subset lists it in
 * the same relative order; every entry is stored only after its parents (gaps are held, then released).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareEntries, type GroupEntry } from '../../../src/chat/groups/group-entry.ts';
import { PendingEntries } from '../../../src/chat/groups/pending-entries.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';
import { heads, person, Scribe } from './group-fixtures.ts';

const people = [person(1), person(2), person(3), person(4)];

/** A DAG written by four members with partial views of each other's messages (concurrency, forks, merges). */
function writeDag(seed: string, count: number): { scribe: Scribe; messages: GroupEntry[] } {
  const random = new SeededRandom(seed);
  const [alice, ...others] = people as [(typeof people)[0], ...typeof people];
  const scribe = new Scribe(alice, seed);
  for (const who of others) {
    scribe.op(
      alice,
      { type: 'add', target: who.publicKey, messageHeads: [] },
      { recipients: scribe.members(undefined, who) },
    );
  }
  const views = people.map(() => new Map<string, GroupEntry>());
  const byHash = new Map<string, GroupEntry>();
  const addWithAncestors = (view: Map<string, GroupEntry>, entry: GroupEntry): void => {
    const stack = [entry];
    while (stack.length > 0) {
      const e = stack.pop() as GroupEntry;
      const hex = e.hash.toString('hex');
      if (view.has(hex)) continue;
      view.set(hex, e);
      for (const p of e.parents) stack.push(byHash.get(p.toString('hex')) as GroupEntry);
    }
  };
  for (let i = 0; i < count; i++) {
    const author = random.int(people.length);
    const view = views[author] as Map<string, GroupEntry>;
    const message = scribe.message(people[author] as typeof alice, `m${i}`, {
      parents: heads([...view.values()]),
    });
    byHash.set(message.hash.toString('hex'), message);
    view.set(message.hash.toString('hex'), message);
    // Now and then someone hears of something someone else had.
    if (random.int(3) === 0) {
      const from = views[random.int(people.length)] as Map<string, GroupEntry>;
      const some = [...from.values()][random.int(Math.max(1, from.size))];
      if (some !== undefined)
        addWithAncestors(views[random.int(people.length)] as Map<string, GroupEntry>, some);
    }
  }
  return { scribe, messages: scribe.messages };
}

/** Receives entries in the given order through PendingEntries; returns them in the order they were stored. */
function receive(arrivals: readonly GroupEntry[]): { stored: GroupEntry[]; maxHeld: number } {
  const known = new Map<string, GroupEntry>();
  const pending = new PendingEntries();
  const stored: GroupEntry[] = [];
  let maxHeld = 0;
  const store = (entry: GroupEntry): void => {
    const queue = [entry];
    while (queue.length > 0) {
      const e = queue.shift() as GroupEntry;
      for (const p of e.parents) assert.ok(known.has(p.toString('hex')), 'parents stored first');
      const expected =
        e.parents.reduce((m, p) => Math.max(m, known.get(p.toString('hex'))?.lamport ?? 0), 0) + 1;
      assert.equal(e.lamport, expected, 'lamport is 1 + the highest parent');
      known.set(e.hash.toString('hex'), e);
      stored.push(e);
      queue.push(...pending.resolve(e.hash));
    }
  };
  for (const entry of arrivals) {
    if (known.has(entry.hash.toString('hex')) || pending.has(entry.hash)) continue; // duplicate dropped
    const missing = entry.parents.filter((p) => !known.has(p.toString('hex')));
    if (missing.length === 0) store(entry);
    else assert.ok(pending.hold(entry, missing, 0));
    maxHeld = Math.max(maxHeld, pending.size);
  }
  assert.equal(pending.size, 0, 'every gap was filled');
  return { stored, maxHeld };
}

function shuffled<T>(items: readonly T[], random: SeededRandom): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('group message order', () => {
  test('any arrival order (with duplicates) gives the same order (property, 40 DAGs × 6 permutations)', () => {
    const random = new SeededRandom('order-permutations');
    for (let round = 0; round < 40; round++) {
      const { messages } = writeDag(`dag-${round}`, 30 + random.int(30));
      const reference = [...messages].sort(compareEntries).map((m) => m.hash.toString('hex'));
      let sawGap = false;
      for (let k = 0; k < 6; k++) {
        const arrivals = shuffled([...messages, ...messages.slice(0, random.int(10))], random);
        const { stored, maxHeld } = receive(arrivals);
        sawGap ||= maxHeld > 0;
        assert.equal(stored.length, messages.length, 'each entry stored once');
        assert.deepEqual(
          [...stored].sort(compareEntries).map((m) => m.hash.toString('hex')),
          reference,
          `round ${round}`,
        );
      }
      assert.ok(sawGap, 'the permutations exercised gaps');
    }
  });

  test('a member holding a causally closed subset lists it in the same relative order', () => {
    const { messages } = writeDag('subset', 60);
    const full = [...messages].sort(compareEntries).map((m) => m.hash.toString('hex'));
    // The ancestors of one head: what a member that saw only that head holds.
    const byHash = new Map(messages.map((m) => [m.hash.toString('hex'), m]));
    const head = messages[40] as GroupEntry;
    const subset = new Set<string>();
    const stack = [head];
    while (stack.length > 0) {
      const e = stack.pop() as GroupEntry;
      if (subset.has(e.hash.toString('hex'))) continue;
      subset.add(e.hash.toString('hex'));
      for (const p of e.parents) stack.push(byHash.get(p.toString('hex')) as GroupEntry);
    }
    const partial = [...messages].filter((m) => subset.has(m.hash.toString('hex'))).sort(compareEntries);
    assert.deepEqual(
      partial.map((m) => m.hash.toString('hex')),
      full.filter((h) => subset.has(h)),
    );
  });

  test('pending entries are bounded and expire', () => {
    const { messages } = writeDag('bounds', 20);
    const sorted = [...messages].sort(compareEntries);
    const pending = new PendingEntries({ maxEntries: 3, maxAgeMs: 1000 });
    let held = 0;
    for (const m of sorted.slice(1)) if (pending.hold(m, [Buffer.alloc(32, 1)], 0)) held++;
    assert.equal(held, 3);
    assert.equal(pending.missing().length, 1);
    assert.equal(pending.expire(999), 0);
    assert.equal(pending.expire(1000), 3);
    assert.equal(pending.size, 0);
    assert.deepEqual(pending.missing(), []);
  });
});
