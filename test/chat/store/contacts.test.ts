import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_ENDPOINTS_PER_CONTACT } from '../../../src/chat/store/contacts.ts';
import { BOB, CAROL, codeOf, makeHarness } from './store-harness.ts';

const DAVE = Buffer.alloc(32, 0xd0);

describe('contacts', () => {
  test('upsert, lookup by key and name, state changes, listing order', () => {
    const h = makeHarness();
    try {
      const dave = h.store.contacts.upsert(DAVE, 'pending-outgoing', 'dave');
      assert.equal(dave.state, 'pending-outgoing');
      assert.equal(dave.presence, 'offline');
      h.clock.advance(5);
      const accepted = h.store.contacts.upsert(DAVE, 'accepted');
      assert.equal(accepted.name, 'dave'); // an upsert without a name keeps the old one
      assert.equal(accepted.updatedMs, dave.createdMs + 5);
      assert.deepEqual(h.store.contacts.findByName('dave')?.publicKey, DAVE);
      assert.equal(h.store.contacts.setState(DAVE, 'blocked').state, 'blocked');
      assert.deepEqual(
        h.store.contacts.list().map((c) => c.name),
        ['bob', 'carol', 'dave'],
      );
      assert.deepEqual(
        h.store.contacts.list(['blocked']).map((c) => c.name),
        ['dave'],
      );
      assert.equal(
        codeOf(() => h.store.contacts.setState(Buffer.alloc(32, 9), 'accepted')),
        'CHAT_UNKNOWN_FRIEND',
      );
    } finally {
      h.cleanup();
    }
  });

  test('names are unique, printable, and never look like a friend code', () => {
    const h = makeHarness();
    try {
      assert.equal(
        codeOf(() => h.store.contacts.upsert(DAVE, 'accepted', 'bob')),
        'CHAT_CONTACT_NAME_TAKEN',
      );
      assert.equal(h.store.contacts.get(DAVE), undefined);
      for (const bad of ['', 'x'.repeat(65), 'a\nb', ' padded', 'dhtchat:abc', 'a\u202eb']) {
        assert.equal(
          codeOf(() => h.store.contacts.rename(BOB, bad)),
          'CHAT_NAME_INVALID',
          JSON.stringify(bad),
        );
      }
      assert.equal(h.store.contacts.rename(BOB, 'robert').name, 'robert');
      assert.equal(h.store.contacts.rename(BOB, undefined).name, undefined);
      assert.equal(h.store.contacts.upsert(DAVE, 'accepted', 'bob').name, 'bob');
    } finally {
      h.cleanup();
    }
  });

  test('presence and last seen', () => {
    const h = makeHarness();
    try {
      h.clock.advance(100);
      h.store.contacts.setPresence(BOB, 'online');
      const seenAt = h.clock.wallMs();
      h.clock.advance(100);
      h.store.contacts.setPresence(BOB, 'offline');
      const bob = h.store.contacts.get(BOB);
      assert.equal(bob?.presence, 'offline');
      assert.equal(bob?.lastSeenMs, seenAt);
      assert.equal(bob?.presenceMs, seenAt + 100);
      assert.equal(
        codeOf(() => h.store.contacts.setPresence(DAVE, 'online')),
        'CHAT_UNKNOWN_FRIEND',
      );
    } finally {
      h.cleanup();
    }
  });

  test('last known endpoints: newest first, refreshed in place, bounded per contact', () => {
    const h = makeHarness();
    try {
      for (let i = 0; i < MAX_ENDPOINTS_PER_CONTACT + 3; i++) {
        h.clock.advance(1);
        h.store.contacts.noteEndpoint(BOB, { host: '127.0.0.1', port: 1000 + i }, 'record');
      }
      h.clock.advance(1);
      h.store.contacts.noteEndpoint(BOB, { host: '127.0.0.1', port: 1005 }, 'session');
      const eps = h.store.contacts.endpoints(BOB);
      assert.equal(eps.length, MAX_ENDPOINTS_PER_CONTACT);
      assert.deepEqual(
        eps.slice(0, 3).map((e) => [e.port, e.source]),
        [
          [1005, 'session'],
          [1010, 'record'],
          [1009, 'record'],
        ],
      );
      assert.ok(eps.every((e) => e.port >= 1003));
      assert.ok((eps[0]?.firstSeenMs ?? 0) < (eps[0]?.lastSeenMs ?? 0));
      h.store.contacts.forgetEndpoint(BOB, { host: '127.0.0.1', port: 1005 });
      assert.equal(h.store.contacts.endpoints(BOB)[0]?.port, 1010);
      assert.deepEqual(h.store.contacts.endpoints(CAROL), []);
      assert.equal(
        codeOf(() => h.store.contacts.noteEndpoint(BOB, { host: '::1', port: 0 }, 'x')),
        'CHAT_STORE_BAD_ARGUMENT',
      );
      assert.equal(h.reopen().contacts.endpoints(BOB).length, MAX_ENDPOINTS_PER_CONTACT - 1);
    } finally {
      h.cleanup();
    }
  });
});
