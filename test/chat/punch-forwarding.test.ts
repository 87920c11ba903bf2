/** PunchForwarding with fakes: who is asked, whom the tag names, what is refused, the rate limits. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FORWARDING, forwardTag, type PunchFrame, PunchForwarding } from '../../src/chat/punch-forwarding.ts';
import { ChatStore } from '../../src/chat/store/chat-store.ts';
import { ManualClock, SeededRandom } from '../../src/runtime/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'dhtchat-forwarding-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const key = (n: number) => Buffer.alloc(32, n);
const [A, B, C, D, STRANGER] = [1, 2, 3, 4, 9].map(key) as [Buffer, Buffer, Buffer, Buffer, Buffer];

function node(me: Buffer, friends: Buffer[], online: Buffer[], relayed: Buffer[] = []) {
  const clock = new ManualClock();
  const store = ChatStore.open({
    path: join(dir, `${me[0]}-${Math.random()}.sqlite`),
    ownPublicKey: me,
    clock,
    random: new SeededRandom('forwarding'),
  });
  for (const f of friends) store.contacts.upsert(f, 'accepted', `f${f[0]}`);
  const sent: Array<{ to: Buffer; frame: PunchFrame }> = [];
  const accepted: Array<{ from: Buffer; note: Buffer }> = [];
  const forwarding = new PunchForwarding({
    ownPk: me,
    store,
    clock,
    friendsOnline: () => online,
    isRelayed: (peer) => relayed.some((r) => r.equals(peer)),
    send: (to, frame) => {
      sent.push({ to, frame });
      return true;
    },
    seal: () => Buffer.from('sealed note'),
    accept: (from, note) => {
      accepted.push({ from, note });
      return true;
    },
  });
  return { clock, store, sent, accepted, forwarding };
}

test('A asks its friends online (not the target) once per interval, with the tag of (A, B)', () => {
  const a = node(A, [B, C, D], [B, C, D]);
  assert.equal(a.forwarding.ask(B), 2);
  assert.deepEqual(
    a.sent.map((s) => s.to[0]),
    [3, 4],
  );
  assert.deepEqual(a.sent[0]?.frame, {
    type: 'forward',
    tag: forwardTag(A, B),
    note: Buffer.from('sealed note'),
  });
  assert.equal(a.forwarding.ask(B), 0, 'not again so soon');
  a.clock.advance(FORWARDING.minIntervalMs);
  assert.equal(a.forwarding.ask(B), 2);
});

test('C passes the note to the friend the tag names, never back, never for a stranger; rate-limited', () => {
  const c = node(C, [A, B], [A, B]);
  c.forwarding.onForward(A, forwardTag(A, B), Buffer.from('n'));
  assert.deepEqual(c.sent, [{ to: B, frame: { type: 'relayed', from: A, note: Buffer.from('n') } }]);
  c.forwarding.onForward(A, forwardTag(A, A), Buffer.from('n'));
  c.forwarding.onForward(A, forwardTag(A, D), Buffer.from('n'));
  assert.equal(c.forwarding.counters.noTarget, 2, 'back to the asker, or to someone not our friend online');
  c.forwarding.onForward(STRANGER, forwardTag(STRANGER, B), Buffer.from('n'));
  assert.equal(c.forwarding.counters.throttled, 1, 'only friends may ask');
  for (let i = 0; i < 10; i++) c.forwarding.onForward(B, forwardTag(B, A), Buffer.from('n'));
  assert.equal(c.forwarding.counters.passedOn, 1 + FORWARDING.perSourceBurst, 'a burst, then the rate');
  c.clock.advance(1000);
  c.forwarding.onForward(B, forwardTag(B, A), Buffer.from('n'));
  assert.equal(c.forwarding.counters.passedOn, 2 + FORWARDING.perSourceBurst);
});

test('B accepts a relayed note only as from a friend of its own, and not from itself or the carrier', () => {
  const b = node(B, [A, C], [C]);
  b.forwarding.onRelayed(C, A, Buffer.from('n'));
  b.forwarding.onRelayed(C, STRANGER, Buffer.from('n'));
  b.forwarding.onRelayed(C, C, Buffer.from('n'));
  b.forwarding.onRelayed(C, B, Buffer.from('n'));
  assert.deepEqual(
    b.accepted.map((x) => x.from[0]),
    [1],
  );
});

test("over a relayed session the friend is its own carrier: A's note goes to B through it, B takes it", () => {
  const a = node(A, [B, C], [B, C], [B]);
  assert.equal(a.forwarding.tellOverRelay(B), true);
  assert.deepEqual(a.sent, [
    { to: B, frame: { type: 'relayed', from: A, note: Buffer.from('sealed note') } },
  ]);
  assert.equal(a.forwarding.tellOverRelay(C), false, 'not over a direct session: nothing to upgrade');
  assert.equal(a.forwarding.counters.overRelaySent, 1);

  const b = node(B, [A, C], [A, C], [A]);
  b.forwarding.onRelayed(A, A, Buffer.from('n'));
  b.forwarding.onRelayed(C, C, Buffer.from('n'));
  assert.deepEqual(
    b.accepted.map((x) => x.from[0]),
    [1],
    "the carrier's own note only over a relayed session",
  );
  for (let i = 0; i < 10; i++) b.forwarding.onRelayed(A, A, Buffer.from('n'));
  assert.equal(b.forwarding.counters.overRelayIn, FORWARDING.perSourceBurst, 'a burst, then the rate');
});
