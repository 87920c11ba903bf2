/**
 * From what the user typed to a key (contact-resolver.ts), on a real store: codes, exact names, names that read
 * alike, ambiguity listing every candidate, requesters' suggested names, blocked contacts only when allowed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeFriendCode } from '../../../src/chat/friend-code.ts';
import { resolveFriend, resolveWho } from '../../../src/chat/session/contact-resolver.ts';
import { DhtchatError } from '../../../src/runtime/index.ts';
import { BOB, CAROL, makeHarness } from '../store/store-harness.ts';

const ALICE = Buffer.alloc(32, 0xa1);
const STRANGER = Buffer.alloc(32, 0x5e);

function thrown(fn: () => unknown): DhtchatError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DhtchatError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('resolving a typed name or code', () => {
  test('a code, an exact name, or the one name that reads alike', () => {
    const h = makeHarness();
    try {
      h.store.contacts.upsert(ALICE, 'accepted', 'Alice');
      assert.deepEqual(resolveWho(h.store, encodeFriendCode(ALICE)), ALICE);
      assert.deepEqual(resolveWho(h.store, ` ${encodeFriendCode(ALICE).toUpperCase()} `), ALICE);
      assert.deepEqual(resolveWho(h.store, 'Alice'), ALICE);
      for (const typed of ['alice', 'ALICE', '\u0410lice', 'a1ice', ' Alice ']) {
        assert.deepEqual(resolveWho(h.store, typed), ALICE, typed);
      }
      assert.equal(thrown(() => resolveWho(h.store, 'dave')).code, 'CHAT_UNKNOWN_FRIEND');
      assert.equal(thrown(() => resolveWho(h.store, 'dhtchat:nope')).code, 'CHAT_FRIEND_CODE_LENGTH');
      assert.equal(thrown(() => resolveWho(h.store, encodeFriendCode(STRANGER))).code, 'CHAT_UNKNOWN_FRIEND');
    } finally {
      h.cleanup();
    }
  });

  test('requesters: by code or suggested name; one reading like a contact makes even the exact name ambiguous', () => {
    const h = makeHarness();
    try {
      h.store.contacts.upsert(ALICE, 'accepted', 'Alice');
      const requesters = () => [{ peer: STRANGER, name: 'alice' }];
      const opts = { isRequesterAllowed: true, requesters };
      h.store.requests.receiveIncoming(STRANGER, 'hi');
      assert.deepEqual(resolveWho(h.store, encodeFriendCode(STRANGER), opts), STRANGER);
      const error = thrown(() => resolveWho(h.store, 'Alice', opts));
      assert.equal(error.code, 'CHAT_NAME_AMBIGUOUS');
      assert.equal(
        error.message,
        `"Alice" could mean 2 people: "Alice" (${encodeFriendCode(ALICE)}), "alice" (${encodeFriendCode(STRANGER)}, ` +
          'friend request); use the friend code',
      );
      assert.deepEqual(resolveWho(h.store, 'Alice'), ALICE, 'without requesters in play, the name is hers');
      assert.deepEqual(
        resolveWho(h.store, 'carol', {
          isRequesterAllowed: true,
          requesters: () => [{ peer: STRANGER, name: 'Carl' }],
        }),
        CAROL,
      );
    } finally {
      h.cleanup();
    }
  });

  test('blocked contacts only when allowed; resolveFriend says why a contact is no friend yet', () => {
    const h = makeHarness();
    try {
      h.store.contacts.setState(BOB, 'blocked');
      assert.equal(thrown(() => resolveWho(h.store, 'bob')).code, 'CHAT_UNKNOWN_FRIEND');
      assert.deepEqual(resolveWho(h.store, 'BOB', { isBlockedAllowed: true }), BOB);
      h.store.contacts.upsert(ALICE, 'pending-outgoing', 'Alice');
      assert.match(
        thrown(() => resolveFriend(h.store, 'alice')).message,
        /not a friend yet \(pending-outgoing\)/,
      );
      assert.deepEqual(resolveFriend(h.store, 'Carol'), CAROL);
    } finally {
      h.cleanup();
    }
  });
});
