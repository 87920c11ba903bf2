import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { BOB, CAROL, codeOf, makeHarness } from './store-harness.ts';

function part(text: string): { target: Buffer; v: Buffer } {
  const v = Buffer.from(text);
  return { target: createHash('sha1').update(v).digest(), v };
}

describe('offline bundles', () => {
  test('sender: a bundle is kept until acked, puts counted, the ack delivers its messages', () => {
    const h = makeHarness();
    try {
      const m1 = h.store.messages.enqueue(BOB, 'one');
      const m2 = h.store.messages.enqueue(BOB, 'two');
      const m3 = h.store.messages.enqueue(CAROL, 'three');
      const head = h.store.offline.saveBundle(BOB, [part('b1 head'), part('b1 tail')], [m2.id, m1.id]);
      assert.deepEqual(head, part('b1 head').target);
      h.clock.advance(1);
      const carolHead = h.store.offline.saveBundle(CAROL, [part('c1 head')], [m3.id]);
      h.store.messages.advance(m1.id, 'stored');
      h.clock.advance(10);
      h.store.offline.notePut(head);

      const pending = h.reopen().offline.pending(BOB);
      assert.equal(pending.length, 1);
      const bundle = pending[0];
      assert.deepEqual(
        bundle?.parts.map((p) => p.v.toString()),
        ['b1 head', 'b1 tail'],
      );
      assert.deepEqual(bundle?.messageIds, [m1.id, m2.id]); // in conversation order
      assert.equal(bundle?.putCount, 1);
      assert.equal(bundle?.lastPutMs, h.clock.wallMs());
      assert.deepEqual(
        h.store.offline.pending().map((b) => b.headTarget),
        [head, carolHead],
      );

      // An ack from the wrong friend changes nothing; the right one delivers both messages once.
      assert.deepEqual(h.store.offline.ack(CAROL, head), []);
      h.store.messages.advance(m2.id, 'read');
      assert.deepEqual(h.store.offline.ack(BOB, head), [m1.id]);
      assert.deepEqual(h.store.offline.ack(BOB, head), []);
      assert.equal(h.store.messages.get(m1.id)?.state, 'delivered');
      assert.equal(h.store.messages.get(m2.id)?.state, 'read'); // never backwards
      assert.deepEqual(h.store.offline.pending(BOB), []);
      assert.deepEqual(h.store.messages.outbox(BOB), []);

      assert.equal(h.store.offline.drop(carolHead), true);
      assert.equal(h.store.offline.drop(carolHead), false);
      assert.deepEqual(h.store.offline.pending(), []);
      assert.equal(h.store.messages.get(m3.id)?.state, 'queued');
    } finally {
      h.cleanup();
    }
  });

  test('bundles are checked: targets, value size, only our own messages to that friend', () => {
    const h = makeHarness();
    try {
      const m = h.store.messages.enqueue(BOB, 'x');
      const bad = (fn: () => unknown): void => assert.equal(codeOf(fn), 'CHAT_STORE_BAD_ARGUMENT');
      bad(() =>
        h.store.offline.saveBundle(BOB, [{ target: Buffer.alloc(20), v: Buffer.alloc(1001) }], [m.id]),
      );
      bad(() => h.store.offline.saveBundle(BOB, [{ target: Buffer.alloc(19), v: Buffer.alloc(1) }], [m.id]));
      bad(() => h.store.offline.saveBundle(BOB, [], [m.id]));
      bad(() => h.store.offline.saveBundle(BOB, [part('p')], []));
      bad(() => h.store.offline.saveBundle(CAROL, [part('p')], [m.id]));
      const incoming = Buffer.alloc(16, 3);
      h.store.messages.receive({ id: incoming, conversation: BOB, text: 'in', createdMs: 0, via: 'session' });
      bad(() => h.store.offline.saveBundle(BOB, [part('p')], [incoming]));
      assert.deepEqual(h.store.offline.pending(), []);
      h.store.offline.saveBundle(BOB, [{ target: Buffer.alloc(20, 1), v: Buffer.alloc(1000) }], [m.id]);
      assert.equal(h.store.offline.pending().length, 1);
    } finally {
      h.cleanup();
    }
  });

  test('receiver: fetched heads are remembered (with the messages, atomically) and are what we ack', () => {
    const h = makeHarness();
    try {
      const a = part('a').target;
      const b = part('b').target;
      assert.equal(h.store.offline.hasFetched(a), false);
      h.store.transaction(() => {
        h.store.messages.receive({
          id: Buffer.alloc(16, 1),
          conversation: BOB,
          text: 'hi',
          createdMs: 0,
          via: 'offline',
        });
        h.store.offline.noteFetched(BOB, a);
      });
      h.clock.advance(5);
      h.store.offline.noteFetched(BOB, b);
      h.store.offline.noteFetched(BOB, a);
      assert.equal(h.reopen().offline.hasFetched(a), true);
      assert.deepEqual(h.store.offline.ackedHeads(BOB), [b, a]);
      assert.deepEqual(h.store.offline.ackedHeads(BOB, 1), [b]);
      assert.deepEqual(h.store.offline.ackedHeads(CAROL), []);
      // A crash inside the transaction stores neither the message nor the ack.
      const c = part('c').target;
      assert.throws(() =>
        h.store.transaction(() => {
          h.store.messages.receive({
            id: Buffer.alloc(16, 2),
            conversation: BOB,
            text: 'x',
            createdMs: 0,
            via: 'offline',
          });
          h.store.offline.noteFetched(BOB, c);
          throw new Error('crash');
        }),
      );
      assert.equal(h.store.offline.hasFetched(c), false);
      assert.equal(h.store.messages.get(Buffer.alloc(16, 2)), undefined);
    } finally {
      h.cleanup();
    }
  });
});
