import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BOB, CAROL, makeHarness, ME } from './store-harness.ts';

const G = Buffer.alloc(32, 0x61);
const h = (n: number) => Buffer.alloc(32, n);

function entry(hash: Buffer, parents: Buffer[], lamport: number, extra: Record<string, unknown> = {}) {
  return {
    hash,
    groupId: G,
    kind: 'message' as const,
    author: BOB,
    seq: lamport,
    lamport,
    createdMs: 1000 + lamport,
    parents,
    epoch: h(0xee),
    bytes: Buffer.from(`entry ${hash[0]}`),
    text: `text ${hash[0]}`,
    status: 'ok' as const,
    ...extra,
  };
}

describe('group tables', () => {
  test('groups: upsert keeps what is not given; list by state', () => {
    const t = makeHarness();
    try {
      const groups = t.store.groups;
      groups.upsert(G, { state: 'invited', name: 'book club', inviter: BOB });
      const joined = groups.upsert(G, { state: 'member', joinOp: h(9) });
      assert.equal(joined.name, 'book club');
      assert.deepEqual(joined.inviter, BOB);
      assert.deepEqual(joined.joinOp, h(9));
      assert.deepEqual(
        groups.list(['member']).map((g) => g.groupId),
        [G],
      );
      assert.deepEqual(groups.list(['invited']), []);
      assert.throws(
        () => groups.upsert(Buffer.alloc(31), { state: 'member' }),
        /CHAT_STORE_BAD_ARGUMENT|32 bytes/,
      );
    } finally {
      t.cleanup();
    }
  });

  test('entries: insert once, heads follow, order is (lamport, hash), paging back', () => {
    const t = makeHarness();
    try {
      const groups = t.store.groups;
      groups.upsert(G, { state: 'member' });
      assert.ok(groups.insertEntry(entry(h(1), [], 1)));
      assert.ok(!groups.insertEntry(entry(h(1), [], 1)), 'a duplicate is not stored twice');
      groups.insertEntry(entry(h(3), [h(1)], 2));
      groups.insertEntry(entry(h(2), [h(1)], 2));
      assert.deepEqual(
        groups.heads(G, 'message').map((x) => x.hash[0]),
        [2, 3],
      );
      groups.insertEntry(entry(h(4), [h(2), h(3)], 3, { status: 'hidden' }));
      assert.deepEqual(
        groups.heads(G, 'message').map((x) => x.hash[0]),
        [4],
      );
      assert.deepEqual(
        groups.messages(G).map((m) => m.hash[0]),
        [1, 2, 3],
        'hidden ones are not listed',
      );
      assert.deepEqual(
        groups.messages(G, { before: { lamport: 2, hash: h(3) } }).map((m) => m.hash[0]),
        [1, 2],
      );
      assert.deepEqual(
        groups.messages(G, { limit: 1 }).map((m) => m.hash[0]),
        [3],
      );
      groups.setStatus(h(4), 'ok');
      assert.equal(groups.messages(G).length, 4);
      const stored = groups.entry(h(4));
      assert.deepEqual(stored?.parents, [h(2), h(3)]);
      assert.equal(groups.maxSeq(G, BOB), 3);
      assert.equal(groups.maxSeq(G, ME), 0);
      assert.deepEqual([...groups.lamportsOf([h(2), h(7)]).entries()], [[h(2).toString('hex'), 2]]);
      assert.equal(groups.markRead(G).length, 4);
      assert.equal(groups.markRead(G).length, 0);
      assert.equal(groups.dagFrom(G, 2).length, 3);
    } finally {
      t.cleanup();
    }
  });

  test('keys, frontiers, boundaries, invites and member endpoints', () => {
    const t = makeHarness();
    try {
      const groups = t.store.groups;
      groups.upsert(G, { state: 'member' });
      groups.saveKey(G, { epoch: h(5), step: 0, key: h(6), mailbox: h(7), startMs: 10 });
      groups.saveKey(G, { epoch: h(5), step: 2, key: h(8), mailbox: h(7), startMs: 10 });
      assert.deepEqual(groups.key(G, h(5)), { epoch: h(5), step: 2, key: h(8), mailbox: h(7), startMs: 10 });
      groups.deleteKey(G, h(5));
      assert.equal(groups.keys(G).length, 0);
      groups.setFrontier(G, CAROL, 'have', [h(1), h(2)]);
      assert.deepEqual(groups.frontiers(G, 'have').get(CAROL.toString('hex')), [h(1), h(2)]);
      assert.equal(groups.frontiers(G, 'read').size, 0);
      groups.addBoundaries(G, [{ hash: h(3), lamport: 7 }], { isHead: true });
      assert.equal(groups.boundary(G, h(3)), 7);
      assert.equal(groups.boundary(G, h(4)), undefined);
      assert.deepEqual(
        groups.heads(G, 'message'),
        [{ hash: h(3), lamport: 7 }],
        'a joined member starts there',
      );
      groups.noteInviteSent(G, CAROL);
      assert.ok(groups.hasInviteSent(G, CAROL));
      groups.deleteInviteSent(G, CAROL);
      assert.ok(!groups.hasInviteSent(G, CAROL));
      for (let port = 1; port <= 6; port++) {
        t.clock.advance(1);
        groups.noteEndpoint(CAROL, { host: '10.0.0.1', port });
      }
      assert.deepEqual(
        groups.endpoints(CAROL).map((e) => e.port),
        [6, 5, 4, 3],
        'the newest four',
      );
    } finally {
      t.cleanup();
    }
  });

  test('bundles: saved before put, listed with parts and hashes, dropped; fetched heads', () => {
    const t = makeHarness();
    try {
      t.store.groups.upsert(G, { state: 'member' });
      const parts = [
        { target: Buffer.alloc(20, 1), v: Buffer.from('head') },
        { target: Buffer.alloc(20, 2), v: Buffer.from('tail') },
      ];
      const head = t.store.groupBundles.save(G, h(5), parts, [h(1), h(2)]);
      assert.deepEqual(head, Buffer.alloc(20, 1));
      t.store.groupBundles.notePut(head);
      const [bundle] = t.store.groupBundles.list(G);
      assert.equal(bundle?.putCount, 1);
      assert.deepEqual(
        bundle?.parts.map((p) => p.v.toString()),
        ['head', 'tail'],
      );
      assert.equal(bundle?.hashes.length, 2);
      t.store.groupBundles.drop(head);
      assert.equal(t.store.groupBundles.list().length, 0);
      t.store.groupBundles.noteFetched(G, Buffer.alloc(20, 9));
      assert.ok(t.store.groupBundles.hasFetched(Buffer.alloc(20, 9)));
      t.clock.advance(100);
      assert.equal(t.store.groupBundles.pruneFetched(t.clock.wallMs()), 1);
    } finally {
      t.cleanup();
    }
  });
});
