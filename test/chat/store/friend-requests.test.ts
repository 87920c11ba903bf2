import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { codeOf, makeHarness } from './store-harness.ts';

const STRANGER = Buffer.alloc(32, 0x51);
const OTHER = Buffer.alloc(32, 0x52);

describe('friend requests', () => {
  test('an incoming request is new once; repeats are counted, not re-announced', () => {
    const h = makeHarness();
    try {
      const first = h.store.requests.receiveIncoming(STRANGER, 'hi, it is me');
      assert.deepEqual([first.isNew, first.isDeclined, first.request.state], [true, false, 'pending']);
      h.clock.advance(60_000);
      const again = h.store.requests.receiveIncoming(STRANGER, 'hello?');
      assert.deepEqual([again.isNew, again.request.attempts, again.request.message], [false, 2, 'hello?']);
      assert.deepEqual(
        h.store.requests.list({ direction: 'incoming', state: 'pending' }).map((r) => r.publicKey),
        [STRANGER],
      );
    } finally {
      h.cleanup();
    }
  });

  test('declines are remembered across restarts; adding the key yourself lifts it', () => {
    const h = makeHarness();
    try {
      h.store.requests.receiveIncoming(STRANGER, 'spam');
      h.store.requests.setState(STRANGER, 'incoming', 'declined');
      const store = h.reopen();
      assert.equal(store.requests.isDeclined(STRANGER), true);
      const retry = store.requests.receiveIncoming(STRANGER, 'spam again');
      assert.deepEqual([retry.isNew, retry.isDeclined, retry.request.message], [false, true, 'spam']);
      assert.equal(retry.request.attempts, 2);
      const outgoing = store.requests.saveOutgoing(STRANGER, 'actually, hi');
      assert.equal(outgoing.state, 'pending');
      assert.equal(store.requests.isDeclined(STRANGER), false);
      store.requests.noteOutgoingAttempt(STRANGER);
      assert.equal(store.requests.get(STRANGER, 'outgoing')?.attempts, 1);
      assert.equal(
        codeOf(() => store.requests.setState(OTHER, 'incoming', 'accepted')),
        'CHAT_UNKNOWN_REQUEST',
      );
      assert.equal(
        codeOf(() => store.requests.saveOutgoing(OTHER, 'z'.repeat(16_385))),
        'CHAT_MESSAGE_TOO_LARGE',
      );
    } finally {
      h.cleanup();
    }
  });

  test('rate slots: a fixed window per bucket that survives a restart', () => {
    const h = makeHarness();
    try {
      const take = (bucket: string): boolean => h.store.requests.takeRateSlot(bucket, 3_600_000, 3).isAllowed;
      assert.deepEqual([take('in'), take('in'), take('in'), take('in')], [true, true, true, false]);
      assert.equal(take('in/other'), true);
      h.reopen();
      assert.equal(take('in'), false);
      h.clock.advance(3_600_000);
      assert.equal(take('in'), true);
      assert.equal(h.store.requests.takeRateSlot('in', 3_600_000, 3).count, 2);
      assert.equal(h.store.requests.pruneRateBuckets(h.clock.wallMs()), 1);
    } finally {
      h.cleanup();
    }
  });

  test('strangers’ rows: counted, listed least recently asked first, forgotten with their contact', () => {
    const h = makeHarness();
    try {
      const requests = h.store.requests;
      for (const key of [STRANGER, OTHER]) {
        requests.receiveIncoming(key, 'hi');
        h.store.contacts.upsert(key, 'pending-incoming');
        h.store.contacts.noteEndpoint(key, { host: '10.0.0.1', port: 7000 }, 'request');
        h.clock.advance(1000);
      }
      requests.receiveIncoming(STRANGER, 'hi again'); // STRANGER asked last now
      assert.equal(requests.countPendingIncoming(), 2);
      assert.deepEqual(requests.pendingIncomingKeys(10), [OTHER, STRANGER]);
      assert.deepEqual(requests.pendingIncomingKeys(10, h.clock.wallMs()), [OTHER]);
      requests.forgetIncoming(OTHER);
      assert.equal(requests.get(OTHER, 'incoming'), undefined);
      assert.equal(h.store.contacts.get(OTHER), undefined);
      assert.deepEqual(h.store.contacts.endpoints(OTHER), []);
      // Only a pending request and a pending-incoming contact are forgotten: never a friend.
      requests.setState(STRANGER, 'incoming', 'accepted');
      h.store.contacts.setState(STRANGER, 'accepted');
      requests.forgetIncoming(STRANGER);
      assert.equal(h.store.contacts.get(STRANGER)?.state, 'accepted');
      assert.equal(requests.get(STRANGER, 'incoming')?.state, 'accepted');
    } finally {
      h.cleanup();
    }
  });

  test('declined rows past retention are pruned; pending and recent ones stay', () => {
    const h = makeHarness();
    try {
      const requests = h.store.requests;
      requests.receiveIncoming(STRANGER, 'spam');
      requests.setState(STRANGER, 'incoming', 'declined');
      h.clock.advance(10_000);
      requests.receiveIncoming(OTHER, 'hello');
      assert.equal(requests.pruneDeclined(h.clock.wallMs() - 20_000), 0);
      assert.equal(requests.pruneDeclined(h.clock.wallMs()), 1);
      assert.equal(requests.get(STRANGER, 'incoming'), undefined);
      assert.equal(requests.get(OTHER, 'incoming')?.state, 'pending');
      assert.equal(requests.countRateBuckets(), 0);
    } finally {
      h.cleanup();
    }
  });
});
