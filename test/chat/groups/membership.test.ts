import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { writeOp } from '../../../src/chat/groups/group-authoring.ts';
import { foldMembership, messageVerdict } from '../../../src/chat/groups/membership.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';
import { opEntry, person, refOf, Scribe, T0 } from './group-fixtures.ts';

const alice = person(1);
const bob = person(2);
const carol = person(3);
const dave = person(4);
const eve = person(5);
const hex = (id: { publicKey: Buffer }) => id.publicKey.toString('hex');

function shuffled<T>(items: readonly T[], random: SeededRandom): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('membership fold', () => {
  test('create, add, promote, remove, leave: members, roles, epochs', () => {
    const s = new Scribe(alice);
    assert.equal(s.membership().name, 'friends');
    assert.deepEqual([...s.membership().members.keys()], [hex(alice)]);
    s.op(
      alice,
      { type: 'add', target: bob.publicKey, messageHeads: [] },
      { recipients: s.members(undefined, bob) },
    );
    s.op(
      alice,
      { type: 'add', target: carol.publicKey, messageHeads: [] },
      { recipients: s.members(undefined, carol) },
    );
    s.op(alice, { type: 'promote', target: bob.publicKey });
    let m = s.membership();
    assert.equal(m.members.size, 3);
    assert.equal(m.members.get(hex(bob))?.role, 'admin');
    assert.equal(m.members.get(hex(carol))?.role, 'member');
    assert.equal(m.epochs.size, 3, 'create and two adds each started an epoch');
    assert.ok(m.currentEpoch !== undefined && !m.needsRekey);
    const remove = s.op(
      bob,
      { type: 'remove', target: carol.publicKey, targetLastSeq: 0 },
      { recipients: s.members(carol) },
    );
    m = s.membership();
    assert.ok(!m.members.has(hex(carol)));
    assert.deepEqual(m.currentEpoch?.hash, remove.hash, 'the removal started the current epoch');
    assert.ok(!m.currentEpoch?.holders.has(hex(carol)));
    s.op(bob, { type: 'leave' });
    m = s.membership();
    assert.deepEqual([...m.members.keys()], [hex(alice)]);
    assert.equal(m.currentEpoch, undefined, 'Bob still holds the latest key');
    assert.ok(m.needsRekey);
    s.op(alice, { type: 'rekey' }, { recipients: s.members() });
    assert.ok(!s.membership().needsRekey && s.membership().currentEpoch !== undefined);
  });

  test('who may do what: checks against the state before each op', () => {
    const s = new Scribe(alice);
    s.op(
      alice,
      { type: 'add', target: bob.publicKey, messageHeads: [] },
      { recipients: s.members(undefined, bob) },
    );
    const notAdmin = s.op(
      bob,
      { type: 'add', target: carol.publicKey, messageHeads: [] },
      { recipients: s.members(undefined, carol) },
    );
    const stranger = s.op(eve, { type: 'promote', target: eve.publicKey });
    const twice = s.op(
      alice,
      { type: 'add', target: bob.publicKey, messageHeads: [] },
      { recipients: s.members() },
    );
    const selfRemove = s.op(
      alice,
      { type: 'remove', target: alice.publicKey, targetLastSeq: 0 },
      { recipients: s.members() },
    );
    const keepsKey = s.op(
      alice,
      { type: 'remove', target: bob.publicKey, targetLastSeq: 0 },
      { recipients: s.members() },
    );
    const memberRekey = s.op(bob, { type: 'rekey' }, { recipients: s.members() });
    const m = s.membership();
    assert.equal(m.verdicts.get(notAdmin.hash.toString('hex')), 'not-admin');
    assert.equal(m.verdicts.get(stranger.hash.toString('hex')), 'not-member');
    assert.equal(m.verdicts.get(twice.hash.toString('hex')), 'already-member');
    assert.equal(m.verdicts.get(selfRemove.hash.toString('hex')), 'self');
    assert.equal(
      m.verdicts.get(keepsKey.hash.toString('hex')),
      'bad-key-block',
      'a removal may not hand Bob the key',
    );
    assert.equal(m.verdicts.get(memberRekey.hash.toString('hex')), 'applied', 'any member may rekey');
    assert.equal(m.members.size, 2);
  });

  test('only the creator can start a group under its id; a second create is ignored', () => {
    const s = new Scribe(alice);
    const other = new Scribe(eve, 'eve');
    const m = foldMembership(s.groupId, [...s.ops, ...other.ops].map(opEntry));
    assert.deepEqual(m.creator, alice.publicKey);
    assert.equal(m.verdicts.get(other.ops[0]?.hash.toString('hex') as string), 'no-create');
    assert.equal(foldMembership(Buffer.alloc(32), s.ops.map(opEntry)).creator, undefined, 'wrong group id');
  });

  test('the last admin leaving makes the longest-standing member an admin', () => {
    const s = new Scribe(alice);
    for (const who of [bob, carol]) {
      s.op(
        alice,
        { type: 'add', target: who.publicKey, messageHeads: [] },
        { recipients: s.members(undefined, who) },
      );
    }
    s.op(alice, { type: 'leave' });
    const m = s.membership();
    assert.equal(m.members.get(hex(bob))?.role, 'admin');
    assert.equal(m.members.get(hex(carol))?.role, 'member');
  });

  test('concurrent ops give every member the same membership, in any arrival order (property)', () => {
    const random = new SeededRandom('membership-property');
    for (let round = 0; round < 30; round++) {
      const s = new Scribe(alice, `round-${round}`);
      for (const who of [bob, carol, dave]) {
        s.op(
          alice,
          { type: 'add', target: who.publicKey, messageHeads: [] },
          { recipients: s.members(undefined, who) },
        );
      }
      s.op(alice, { type: 'promote', target: bob.publicKey });
      const base = [...s.ops];
      // Alice and Bob, both admins, act at once without seeing each other's ops.
      const fork = base.slice(-1);
      const ops = [
        () =>
          s.op(
            alice,
            { type: 'remove', target: carol.publicKey, targetLastSeq: 0 },
            { parents: fork, recipients: s.members(carol) },
          ),
        () =>
          s.op(
            bob,
            { type: 'remove', target: alice.publicKey, targetLastSeq: 0 },
            { parents: fork, recipients: s.members(alice) },
          ),
        () =>
          s.op(
            bob,
            { type: 'add', target: eve.publicKey, messageHeads: [] },
            { parents: fork, recipients: s.members(undefined, eve) },
          ),
        () => s.op(dave, { type: 'leave' }, { parents: fork }),
        () => s.op(alice, { type: 'promote', target: dave.publicKey }, { parents: fork }),
      ];
      for (const make of shuffled(ops, random).slice(0, 2 + random.int(4))) make();
      const reference = s.membership();
      for (let k = 0; k < 5; k++) {
        const m = foldMembership(s.groupId, shuffled(s.ops, random).map(opEntry));
        assert.deepEqual(
          [...m.members.entries()].sort(),
          [...reference.members.entries()].sort(),
          `round ${round}`,
        );
        assert.deepEqual(m.currentEpoch?.hash, reference.currentEpoch?.hash);
        assert.equal(m.needsRekey, reference.needsRekey);
        assert.deepEqual(m.verdicts, reference.verdicts);
      }
      // Concurrent ops that crossed never leave a current epoch held by a non-member or missing a member.
      if (reference.currentEpoch !== undefined) {
        assert.deepEqual([...reference.currentEpoch.holders].sort(), [...reference.members.keys()].sort());
      }
    }
  });

  test('a removed member is cut off: its messages that did not see the removal do not count', () => {
    const s = new Scribe(alice);
    s.op(
      alice,
      { type: 'add', target: bob.publicKey, messageHeads: [] },
      { recipients: s.members(undefined, bob) },
    );
    const oldEpoch = s.membership().currentEpoch?.hash as Buffer;
    const seen = s.message(bob, 'before'); // Bob's seq 1
    s.op(
      alice,
      { type: 'remove', target: bob.publicKey, targetLastSeq: seen.seq },
      { recipients: s.members(bob) },
    );
    const late = s.message(bob, 'written after, pretending not to know', { epoch: oldEpoch });
    const m = s.membership();
    assert.equal(messageVerdict(m, { author: bob.publicKey, seq: seen.seq, epoch: oldEpoch }), 'ok');
    assert.equal(messageVerdict(m, { author: bob.publicKey, seq: late.seq, epoch: oldEpoch }), 'cut-off');
    assert.equal(
      messageVerdict(m, { author: bob.publicKey, seq: 9, epoch: m.currentEpoch?.hash as Buffer }),
      'not-holder',
    );
    assert.equal(
      messageVerdict(m, { author: alice.publicKey, seq: 9, epoch: Buffer.alloc(32) }),
      'unknown-epoch',
    );
  });

  test('ops without parents other than the create are never applied', () => {
    const s = new Scribe(alice);
    const { entry } = writeOp(
      { identity: alice, random: new SeededRandom('x'), nowMs: T0 },
      { groupId: s.groupId, seq: 2, parents: [] },
      { type: 'promote', target: alice.publicKey },
    );
    const m = foldMembership(s.groupId, [...s.ops, entry].map(opEntry));
    assert.equal(m.verdicts.get(entry.hash.toString('hex')), 'no-parents');
    assert.ok(refOf(entry).lamport === 1);
  });
});
