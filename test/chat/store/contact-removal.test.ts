/**
 * Removing a contact in the store (contact-removal.ts): afterwards they are a stranger — no name, no state, no
 * endpoints, no requests, no offline bundles — and the conversation stays (anchored by a bare row) unless it is
 * forgotten too.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { BOB, CAROL, makeHarness } from './store-harness.ts';

function part(text: string): { target: Buffer; v: Buffer } {
  const v = Buffer.from(text);
  return { target: createHash('sha1').update(v).digest(), v };
}

describe('removing a contact', () => {
  test('history kept: a bare row anchors the messages; everything else about them is gone', () => {
    const h = makeHarness();
    try {
      const sent = h.store.messages.enqueue(BOB, 'hello');
      h.store.messages.receive({
        id: Buffer.alloc(16, 1),
        conversation: BOB,
        text: 'hi',
        createdMs: 1,
        via: 'session',
      });
      h.store.offline.saveBundle(BOB, [part('bundle for bob')], [sent.id]);
      h.store.contacts.noteEndpoint(BOB, { host: '127.0.0.1', port: 4000 }, 'session');
      h.store.contacts.setProfileName(BOB, 'Robert');
      h.store.requests.saveOutgoing(BOB, 'hi');
      h.store.prekeys.rotate(BOB, 1, Buffer.alloc(32, 7));

      const result = h.store.removeContact(BOB, { isHistoryForgotten: false });
      assert.deepEqual(result, { isRowDeleted: false, messagesDeleted: 0 });
      const bare = h.store.contacts.get(BOB);
      assert.equal(bare?.state, 'pending-incoming');
      assert.equal(bare?.name, undefined);
      assert.equal(bare?.profileName, undefined);
      assert.deepEqual(h.store.contacts.endpoints(BOB), []);
      assert.equal(h.store.requests.get(BOB, 'outgoing'), undefined);
      assert.deepEqual(h.store.offline.pending(BOB), []);
      assert.deepEqual(h.store.prekeys.list(BOB), []);
      assert.equal(h.store.messages.count(BOB), 2, 'the conversation is kept');
      assert.deepEqual(
        h.store.contacts.list(['accepted', 'pending-outgoing']).map((c) => c.name),
        ['carol'],
      );
      // The name is free again.
      assert.equal(h.store.contacts.rename(CAROL, 'bob').name, 'bob');
    } finally {
      h.cleanup();
    }
  });

  test('history forgotten, or none: the row goes too', () => {
    const h = makeHarness();
    try {
      h.store.messages.enqueue(BOB, 'hello');
      assert.deepEqual(h.store.removeContact(BOB, { isHistoryForgotten: true }), {
        isRowDeleted: true,
        messagesDeleted: 1,
      });
      assert.equal(h.store.contacts.get(BOB), undefined);
      assert.equal(h.store.messages.count(BOB), 0);
      assert.deepEqual(h.store.removeContact(CAROL, { isHistoryForgotten: false }), {
        isRowDeleted: true,
        messagesDeleted: 0,
      });
      assert.equal(h.store.contacts.get(CAROL), undefined);
      assert.deepEqual(h.store.integrityCheck(), ['ok']);
    } finally {
      h.cleanup();
    }
  });
});
