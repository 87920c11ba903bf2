/**
 * Reading back through history: paging (before a message's seq or a time) and search (case-insensitive in every
 * script, SQL wildcards taken literally, newest matches first chosen, returned oldest first).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BOB, CAROL, makeHarness } from './store-harness.ts';

describe('paging and search', () => {
  test('list pages back by seq and by time, oldest first within the page', () => {
    const h = makeHarness();
    try {
      const ids: Buffer[] = [];
      for (let i = 1; i <= 10; i++) {
        h.clock.advance(1000);
        ids.push(h.store.messages.enqueue(BOB, `m${i}`).id);
      }
      const texts = (opts: { limit?: number; beforeSeq?: number; beforeMs?: number }) =>
        h.store.messages.list(BOB, opts).map((m) => m.text);
      assert.deepEqual(texts({ limit: 3 }), ['m8', 'm9', 'm10']);
      const seq8 = h.store.messages.seqOf(BOB, ids[7] as Buffer);
      assert.equal(seq8, 8);
      assert.deepEqual(texts({ limit: 3, beforeSeq: seq8 }), ['m5', 'm6', 'm7']);
      const m3 = h.store.messages.get(ids[2] as Buffer);
      assert.deepEqual(texts({ limit: 5, beforeMs: m3?.createdMs }), ['m1', 'm2']);
      assert.equal(h.store.messages.seqOf(CAROL, ids[0] as Buffer), undefined, 'not in that conversation');
    } finally {
      h.cleanup();
    }
  });

  test('search ignores case in any script, takes % and _ literally, and keeps to the newest matches', () => {
    const h = makeHarness();
    try {
      h.store.messages.enqueue(BOB, 'Привет, Боб');
      h.store.messages.enqueue(CAROL, 'the ΣΟΦΙΑ meeting');
      h.store.messages.enqueue(BOB, '100% sure_thing');
      h.store.messages.enqueue(BOB, '1000 surething');
      for (let i = 1; i <= 5; i++) h.store.messages.enqueue(CAROL, `lunch ${i}?`);
      const found = (query: string, opts = {}) => h.store.messages.search(query, opts).map((m) => m.text);
      assert.deepEqual(found('привет'), ['Привет, Боб']);
      assert.deepEqual(found('σοφια'), ['the ΣΟΦΙΑ meeting']);
      assert.deepEqual(found('0% SURE_'), ['100% sure_thing']);
      assert.deepEqual(found('lunch', { limit: 2 }), ['lunch 4?', 'lunch 5?']);
      assert.deepEqual(found('lunch', { conversation: BOB }), []);
      assert.deepEqual(found('nothing like this'), []);
    } finally {
      h.cleanup();
    }
  });
});
