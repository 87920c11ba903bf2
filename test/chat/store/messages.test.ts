import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_MESSAGE_TEXT_BYTES } from '../../../src/chat/store/message-state.ts';
import { BOB, CAROL, codeOf, makeHarness, ME } from './store-harness.ts';

const id = (n: number): Buffer => Buffer.alloc(16, n);

describe('messages', () => {
  test('enqueue writes a queued outgoing message with a 16-byte random id from the injected Random', () => {
    const h = makeHarness('ids');
    try {
      const m = h.store.messages.enqueue(BOB, 'hello');
      assert.equal(m.id.length, 16);
      assert.equal(m.state, 'queued');
      assert.equal(m.direction, 'outgoing');
      assert.deepEqual(m.sender, ME);
      assert.equal(m.createdMs, h.clock.wallMs());
      assert.notDeepEqual(h.store.messages.enqueue(BOB, 'again').id, m.id);
      // The same seed gives the same ids: the store draws ids only from the injected Random.
      const again = makeHarness('ids');
      try {
        assert.deepEqual(again.store.messages.enqueue(BOB, 'hello').id, m.id);
      } finally {
        again.cleanup();
      }
    } finally {
      h.cleanup();
    }
  });

  test('receive dedupes by id: the second copy reports isNew false and writes nothing', () => {
    const h = makeHarness();
    try {
      const incoming = { id: id(1), conversation: BOB, text: 'hi', createdMs: 5, via: 'session' as const };
      const first = h.store.messages.receive(incoming);
      assert.equal(first.isNew, true);
      assert.equal(first.message.state, 'delivered');
      h.clock.advance(1000);
      const second = h.store.messages.receive({ ...incoming, text: 'changed' });
      assert.equal(second.isNew, false);
      assert.equal(second.message.text, 'hi');
      assert.equal(h.store.messages.count(BOB), 1);
      // An id reused in another conversation is still the same message: ignored.
      assert.equal(h.store.messages.receive({ ...incoming, conversation: CAROL }).isNew, false);
      assert.equal(h.store.messages.count(), 1);
    } finally {
      h.cleanup();
    }
  });

  test('each conversation has its own sequence; listing is in that order across directions', () => {
    const h = makeHarness();
    try {
      const a = h.store.messages.enqueue(BOB, 'one');
      h.store.messages.enqueue(CAROL, 'carol one');
      h.store.messages.receive({ id: id(7), conversation: BOB, text: 'two', createdMs: 1, via: 'session' });
      const c = h.store.messages.enqueue(BOB, 'three');
      assert.deepEqual(
        h.store.messages.list(BOB).map((m) => [m.seq, m.text]),
        [
          [1, 'one'],
          [2, 'two'],
          [3, 'three'],
        ],
      );
      assert.equal(h.store.messages.list(CAROL)[0]?.seq, 1);
      assert.deepEqual(
        h.store.messages.list(BOB, { limit: 2 }).map((m) => m.text),
        ['two', 'three'],
      );
      assert.deepEqual(
        h.store.messages.list(BOB, { beforeSeq: 3, limit: 1 }).map((m) => m.text),
        ['two'],
      );
      assert.equal(a.seq, 1);
      assert.equal(c.seq, 3);
    } finally {
      h.cleanup();
    }
  });

  test('a batch fetched out of order is stored in the sender order', () => {
    const h = makeHarness();
    try {
      const batch = [3, 1, 2].map((n) => ({
        id: id(n),
        conversation: BOB,
        text: `m${n}`,
        createdMs: n,
        senderSeq: n,
        via: 'offline' as const,
      }));
      const results = h.store.messages.receiveMany(batch);
      assert.deepEqual(
        results.map((r) => r.message.text),
        ['m3', 'm1', 'm2'],
      );
      assert.deepEqual(
        h.store.messages.list(BOB).map((m) => m.text),
        ['m1', 'm2', 'm3'],
      );
      assert.ok(h.store.messages.list(BOB).every((m) => m.via === 'offline' && m.direction === 'incoming'));
    } finally {
      h.cleanup();
    }
  });

  test('the outbox holds outgoing messages not yet delivered, in order', () => {
    const h = makeHarness();
    try {
      const m1 = h.store.messages.enqueue(BOB, '1');
      const m2 = h.store.messages.enqueue(CAROL, '2');
      const m3 = h.store.messages.enqueue(BOB, '3');
      const m4 = h.store.messages.enqueue(BOB, '4');
      h.store.messages.receive({ id: id(9), conversation: BOB, text: 'in', createdMs: 0, via: 'session' });
      h.store.messages.advance(m3.id, 'stored');
      h.store.messages.advance(m1.id, 'delivered');
      assert.deepEqual(
        h.store.messages.outbox(BOB).map((m) => [m.text, m.state]),
        [
          ['3', 'stored'],
          ['4', 'queued'],
        ],
      );
      assert.equal(h.store.messages.outbox().length, 3);
      assert.equal(h.store.messages.outbox(undefined, 1).length, 1);
      h.store.messages.advance(m2.id, 'read');
      h.store.messages.advance(m4.id, 'delivered');
      assert.deepEqual(
        h.store.messages.outbox().map((m) => m.text),
        ['3'],
      );
    } finally {
      h.cleanup();
    }
  });

  test('text is limited to 16 KiB of UTF-8: 16384 bytes pass, 16385 fail, multi-byte counted in bytes', () => {
    const h = makeHarness();
    try {
      assert.equal(MAX_MESSAGE_TEXT_BYTES, 16_384);
      const exact = 'a'.repeat(16_384);
      assert.equal(h.store.messages.enqueue(BOB, exact).text, exact);
      assert.equal(
        codeOf(() => h.store.messages.enqueue(BOB, `${exact}a`)),
        'CHAT_MESSAGE_TOO_LARGE',
      );
      const euro = '€'.repeat(5461); // 3 bytes each: 16383 bytes, 5461 UTF-16 units
      assert.equal(h.store.messages.enqueue(BOB, `${euro}a`).text.length, 5462);
      assert.equal(
        codeOf(() => h.store.messages.enqueue(BOB, `${euro}ab`)),
        'CHAT_MESSAGE_TOO_LARGE',
      );
      const emoji = '😀'.repeat(4096); // 4 bytes each: exactly 16384 bytes
      assert.equal(h.store.messages.enqueue(BOB, emoji).text, emoji);
      assert.equal(
        codeOf(() => h.store.messages.enqueue(BOB, `${emoji}x`)),
        'CHAT_MESSAGE_TOO_LARGE',
      );
      assert.equal(
        codeOf(() =>
          h.store.messages.receive({
            id: id(1),
            conversation: BOB,
            text: `${exact}é`,
            createdMs: 0,
            via: 'session',
          }),
        ),
        'CHAT_MESSAGE_TOO_LARGE',
      );
      assert.equal(h.store.messages.count(BOB), 3);
    } finally {
      h.cleanup();
    }
  });

  test('unknown contacts and messages, and malformed ids, get their own codes', () => {
    const h = makeHarness();
    try {
      const stranger = Buffer.alloc(32, 0x55);
      assert.equal(
        codeOf(() => h.store.messages.enqueue(stranger, 'x')),
        'CHAT_UNKNOWN_FRIEND',
      );
      assert.equal(
        codeOf(() =>
          h.store.messages.receive({
            id: id(1),
            conversation: stranger,
            text: 'x',
            createdMs: 0,
            via: 'session',
          }),
        ),
        'CHAT_UNKNOWN_FRIEND',
      );
      assert.equal(
        codeOf(() => h.store.messages.advance(id(42), 'read')),
        'CHAT_UNKNOWN_MESSAGE',
      );
      assert.equal(
        codeOf(() => h.store.messages.get(Buffer.alloc(15))),
        'CHAT_STORE_BAD_ARGUMENT',
      );
      const m = h.store.messages.enqueue(BOB, 'x');
      assert.equal(
        codeOf(() => h.store.messages.enqueue(BOB, 'dup', m.id)),
        'CHAT_STORE_BAD_ARGUMENT',
      );
      assert.equal(h.store.messages.count(), 1);
    } finally {
      h.cleanup();
    }
  });

  test('attempts, read marking and the CLI listing shape', () => {
    const h = makeHarness();
    try {
      const out = h.store.messages.enqueue(BOB, 'out');
      h.clock.advance(10);
      h.store.messages.noteAttempt(out.id);
      h.clock.advance(10);
      h.store.messages.noteAttempt(out.id);
      const after = h.store.messages.get(out.id);
      assert.equal(after?.attempts, 2);
      assert.equal(after?.sentMs, out.createdMs + 10);
      assert.equal(after?.lastAttemptMs, out.createdMs + 20);
      h.store.messages.receive({ id: id(1), conversation: BOB, text: 'a', createdMs: 111, via: 'session' });
      h.store.messages.receive({ id: id(2), conversation: BOB, text: 'b', createdMs: 222, via: 'session' });
      assert.deepEqual(h.store.messages.markIncomingRead(BOB, 2), [id(1)]);
      assert.deepEqual(h.store.messages.markIncomingRead(BOB), [id(2)]);
      assert.deepEqual(h.store.messages.markIncomingRead(BOB), []);
      assert.deepEqual(h.store.messages.listForCli(BOB), [
        {
          id: out.id.toString('hex'),
          from: ME.toString('hex'),
          text: 'out',
          ts: out.createdMs,
          state: 'queued',
        },
        { id: id(1).toString('hex'), from: BOB.toString('hex'), text: 'a', ts: 111, state: 'read' },
        { id: id(2).toString('hex'), from: BOB.toString('hex'), text: 'b', ts: 222, state: 'read' },
      ]);
    } finally {
      h.cleanup();
    }
  });

  test('ChatStore.transaction commits together or not at all', () => {
    const h = makeHarness();
    try {
      assert.throws(() =>
        h.store.transaction(() => {
          h.store.messages.enqueue(BOB, 'lost');
          throw new Error('boom');
        }),
      );
      assert.equal(h.store.messages.count(), 0);
      h.store.transaction(() => {
        h.store.messages.enqueue(BOB, 'kept 1');
        h.store.messages.enqueue(BOB, 'kept 2');
      });
      assert.equal(h.reopen().messages.count(), 2);
    } finally {
      h.cleanup();
    }
  });
});
