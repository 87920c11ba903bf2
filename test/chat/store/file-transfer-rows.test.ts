/** File transfer rows (migration 3): what is kept, found by id prefix, moved between states, and pruned. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewTransfer } from '../../../src/chat/store/file-transfer-rows.ts';
import { BOB, CAROL, makeHarness } from './store-harness.ts';

const offer = (id: number, extra: Partial<NewTransfer> = {}): NewTransfer => ({
  id: Buffer.alloc(16, id),
  peer: BOB,
  direction: 'incoming',
  name: `file-${id}.bin`,
  sizeBytes: 1000 + id,
  pieceBytes: 262_144,
  root: Buffer.alloc(32, id),
  state: 'offered',
  ...extra,
});

test('a transfer row round-trips; the hash list lives apart and survives a reopen; bitfields are saved', () => {
  const h = makeHarness();
  try {
    const hashes = Buffer.alloc(64, 7);
    const out = h.store.files.insert(
      offer(1, { direction: 'outgoing', path: '/home/me/a', sourceModifiedMs: 5, hashes }),
    );
    assert.equal(out.state, 'offered');
    assert.equal(out.doneMs, undefined);
    assert.equal(out.path, '/home/me/a');
    assert.equal(out.isSettled, false);
    h.clock.advance(10);
    const accepted = h.store.files.setAccepted(out.localId, { dir: '/dl', partPath: '/dl/a.part' });
    assert.equal(accepted.state, 'accepted');
    h.store.files.saveBitfield(out.localId, Buffer.of(0x80));
    const reopened = h.reopen();
    assert.deepEqual(reopened.files.hashes(out.localId), hashes);
    assert.deepEqual(reopened.files.get(BOB, Buffer.alloc(16, 1))?.bitfield, Buffer.of(0x80));
    const done = reopened.files.setState(out.localId, 'complete');
    assert.equal(done.doneMs, h.clock.wallMs());
    assert.equal(reopened.files.get(CAROL, Buffer.alloc(16, 1)), undefined, "a transfer is one peer's");
    assert.throws(() => reopened.files.insert(offer(1, { direction: 'outgoing' })), /UNIQUE|constraint/i);
  } finally {
    h.cleanup();
  }
});

test('found by a unique id prefix, counted by state, and finished incoming rows pruned per peer', () => {
  const h = makeHarness();
  try {
    for (let i = 1; i <= 5; i++) h.store.files.insert(offer(i, { state: i <= 3 ? 'declined' : 'offered' }));
    h.store.files.insert(offer(0x11));
    assert.equal(h.store.files.findByIdPrefix('0101').length, 1);
    assert.equal(h.store.files.findByIdPrefix('01', 5).length, 1, 'only 0101… starts with 01');
    assert.equal(h.store.files.findByIdPrefix('zz').length, 0);
    assert.equal(h.store.files.count(BOB, 'incoming', ['offered']), 3);
    assert.equal(h.store.files.pruneFinished(BOB, 1), 2, 'keeps the newest finished one');
    assert.equal(h.store.files.list({ peer: BOB }).length, 4);
    assert.deepEqual(
      h.store.files.list({ states: ['declined'] }).map((t) => t.id[0]),
      [3],
    );
  } finally {
    h.cleanup();
  }
});
