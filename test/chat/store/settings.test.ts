import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dayEpoch, dayEpochStartMs } from '../../../src/chat/epoch.ts';
import { KvKey } from '../../../src/chat/store/kv.ts';
import { RECORD_EPOCHS_KEPT } from '../../../src/chat/store/record-seqs.ts';
import { BOB, CAROL, codeOf, makeHarness, ME } from './store-harness.ts';

describe('settings: kv, prekeys, record seqs', () => {
  test('kv holds bytes and JSON across restarts; the owner key is recorded at first open', () => {
    const h = makeHarness();
    try {
      assert.deepEqual(h.store.kv.get(KvKey.ownPublicKey), ME);
      h.store.kv.set(KvKey.routingTable, Buffer.from([1, 2, 3]));
      h.store.kv.setJson('ui', { theme: 'dark', n: 2 });
      const store = h.reopen();
      assert.deepEqual(store.kv.get(KvKey.routingTable), Buffer.from([1, 2, 3]));
      assert.deepEqual(store.kv.getJson('ui'), { theme: 'dark', n: 2 });
      assert.equal(store.kv.delete('ui'), true);
      assert.equal(store.kv.get('ui'), undefined);
      assert.equal(store.kv.getJson('missing'), undefined);
    } finally {
      h.cleanup();
    }
  });

  test('prekeys: current and previous kept, older forgotten, ids never reused', () => {
    const h = makeHarness();
    try {
      assert.equal(h.store.prekeys.current(BOB), undefined);
      h.store.prekeys.rotate(BOB, 1, Buffer.alloc(32, 1));
      h.store.prekeys.rotate(BOB, 2, Buffer.alloc(32, 2));
      h.store.prekeys.rotate(CAROL, 1, Buffer.alloc(32, 9));
      assert.equal(h.store.prekeys.current(BOB)?.id, 2);
      assert.deepEqual(h.store.prekeys.secret(BOB, 1), Buffer.alloc(32, 1));
      h.store.prekeys.rotate(BOB, 3, Buffer.alloc(32, 3));
      assert.deepEqual(
        h
          .reopen()
          .prekeys.list(BOB)
          .map((p) => [p.id, p.isCurrent]),
        [
          [3, true],
          [2, false],
        ],
      );
      assert.equal(h.store.prekeys.secret(BOB, 1), undefined);
      assert.equal(h.store.prekeys.current(CAROL)?.id, 1);
      assert.equal(
        codeOf(() => h.store.prekeys.rotate(BOB, 2, Buffer.alloc(32))),
        'CHAT_STORE_BAD_ARGUMENT',
      );
      assert.equal(
        codeOf(() => h.store.prekeys.rotate(Buffer.alloc(32, 0x77), 1, Buffer.alloc(32))),
        'CHAT_UNKNOWN_FRIEND',
      );
    } finally {
      h.cleanup();
    }
  });

  test('record seqs: ours follow the clock yet only grow per epoch, even when the clock steps back', () => {
    const h = makeHarness();
    try {
      const epoch = dayEpoch(h.clock.wallMs());
      const intoEpochS = Math.floor((h.clock.wallMs() - dayEpochStartMs(epoch)) / 1000);
      const first = h.store.recordSeqs.nextOwnSeq(BOB, epoch);
      assert.equal(first, intoEpochS);
      assert.equal(h.store.recordSeqs.nextOwnSeq(BOB, epoch), first + 1); // same second: still higher
      h.clock.advance(60_000);
      assert.equal(h.store.recordSeqs.nextOwnSeq(BOB, epoch), intoEpochS + 60);
      // A restart with the clock set back an hour still never reuses a seq.
      const store = h.reopen();
      h.clock.advance(-3_600_000);
      assert.equal(store.recordSeqs.nextOwnSeq(BOB, epoch), intoEpochS + 61);
      assert.equal(store.recordSeqs.lastOwnSeq(BOB, epoch), intoEpochS + 61);
      assert.equal(store.recordSeqs.lastOwnSeq(CAROL, epoch), undefined);
      // The next epoch has its own key and its own sequence.
      assert.equal(store.recordSeqs.nextOwnSeq(BOB, epoch + 1), 0);
      assert.equal(
        codeOf(() => store.recordSeqs.nextOwnSeq(BOB, -1)),
        'CHAT_STORE_BAD_ARGUMENT',
      );
    } finally {
      h.cleanup();
    }
  });

  test('record seqs: theirs reject replays and older copies, per epoch; old epochs are forgotten', () => {
    const h = makeHarness();
    try {
      const seqs = h.store.recordSeqs;
      assert.equal(seqs.noteTheirs(BOB, 100, 5), true);
      assert.equal(seqs.noteTheirs(BOB, 100, 5), false);
      assert.equal(seqs.noteTheirs(BOB, 100, 4), false);
      assert.equal(seqs.noteTheirs(BOB, 101, 1), true);
      assert.equal(seqs.noteTheirs(BOB, 100, 9), true);
      assert.equal(seqs.noteTheirs(CAROL, 100, 0), true);
      assert.equal(h.reopen().recordSeqs.lastTheirSeq(BOB, 100), 9);
      h.store.recordSeqs.noteTheirs(BOB, 100 + RECORD_EPOCHS_KEPT + 1, 1);
      assert.equal(h.store.recordSeqs.lastTheirSeq(BOB, 100), undefined);
      assert.equal(h.store.recordSeqs.lastTheirSeq(BOB, 101 + RECORD_EPOCHS_KEPT), 1);
      assert.equal(h.store.recordSeqs.lastTheirSeq(CAROL, 100), 0);
    } finally {
      h.cleanup();
    }
  });
});
