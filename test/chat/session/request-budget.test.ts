/**
 * The friend-request budget and the acknowledgement, on a MemoryNetwork + ManualClock: stamps checked before
 * anything is stored, blocked keys dropped without a write, what strangers leave in the store bounded and
 * pruned, and the requester told when its request arrived (and asked again when the recipient forgot it).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, describe, test } from 'node:test';
import { HOUR_EPOCH_MS } from '../../../src/chat/epoch.ts';
import { identityFromSeed } from '../../../src/chat/identity.ts';
import { type RequestStamp, STAMP_NONCES_BYTES, stampWork } from '../../../src/chat/request-stamp.ts';
import type { ChatFrame } from '../../../src/chat/session/frames.ts';
import { REQUEST_BUDGET } from '../../../src/chat/session/request-budget.ts';
import { ChatSession, DEFAULT_SESSION_TIMING } from '../../../src/chat/session/session.ts';
import type { ContactView } from '../../../src/chat/session/views.ts';
import { UtpEndpoint } from '../../../src/net/index.ts';
import { nullLogger, SeededRandom } from '../../../src/runtime/index.ts';
import { ChatSim, type ChatUser, TEST_STAMP_BITS, testStamp } from './chat-harness.ts';

const DAY_MS = 24 * HOUR_EPOCH_MS;
let sims: ChatSim[] = [];
afterEach(() => {
  for (const s of sims) s.close();
  sims = [];
});
function makeSim(seed: string): ChatSim {
  const sim = new ChatSim(seed);
  sims.push(sim);
  return sim;
}

/** A stranger on its own host that sends raw request frames and keeps what comes back. */
function stranger(sim: ChatSim, name: string, host: string) {
  const identity = identityFromSeed(createHash('sha256').update(name).digest());
  const random = new SeededRandom(`${sim.sim.seed}/${name}`);
  const utp = new UtpEndpoint({
    transport: sim.sim.network.createTransport({ host, port: 7000 }),
    clock: sim.clock,
    random,
  });
  const ctx = { identity, clock: sim.clock, random, logger: nullLogger, timing: DEFAULT_SESSION_TIMING };
  return {
    identity,
    utp,
    stamp: (to: ChatUser, nowMs = sim.clock.wallMs()) =>
      testStamp(to.identity.publicKey, identity.publicKey, nowMs),
    /** Sends one request; resolves with the frames received once the session has closed. */
    async ask(to: ChatUser, stamp: RequestStamp, message = 'hello'): Promise<ChatFrame[]> {
      const session = ChatSession.connect(ctx, utp, to.address, to.identity.publicKey, { isXX: true });
      const received: ChatFrame[] = [];
      session.send({ type: 'request', name: name, message, stamp });
      session.established.then(
        () => session.admit({ onFrame: (f) => received.push(f), onClose: () => {} }),
        () => {},
      );
      await sim.until(() => !session.isOpen, 30_000, 20);
      return received;
    },
  };
}

const ackOf = (frames: ChatFrame[]) =>
  frames.find((f): f is Extract<ChatFrame, { type: 'request-ack' }> => f.type === 'request-ack')?.status;

/** Counts the store calls that write, by wrapping them. */
function countWrites(user: ChatUser): { count: number } {
  const counter = { count: 0 };
  const wrap = (target: object, names: string[]): void => {
    const t = target as Record<string, (...args: unknown[]) => unknown>;
    for (const name of names) {
      const original = t[name] as (...args: unknown[]) => unknown;
      t[name] = (...args) => {
        counter.count++;
        return original.apply(target, args);
      };
    }
  };
  wrap(user.store.requests, [
    'receiveIncoming',
    'takeRateSlot',
    'setState',
    'forgetIncoming',
    'noteOutgoingAttempt',
  ]);
  wrap(user.store.contacts, ['upsert', 'noteEndpoint', 'setState', 'setPresence']);
  wrap(user.store.kv, ['set', 'delete']);
  return counter;
}

describe('friend-request stamps and budget', { timeout: 60_000 }, () => {
  test('no valid stamp (none, too little work, stale hour, another recipient’s): "stamp-refused" and no write', async () => {
    const sim = makeSim('stamp-refused');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    const mallory = stranger(sim, 'mallory', '10.6.6.6');
    const writes = countWrites(alice);
    const now = sim.clock.wallMs();
    const hour = Math.floor(now / HOUR_EPOCH_MS);
    const forBob = await mallory.stamp(bob);
    const stale = await mallory.stamp(alice, now - 2 * HOUR_EPOCH_MS);
    // Nonces whose digests have fewer zero bits than Alice asks for.
    const weak: RequestStamp = { hour, nonces: Buffer.alloc(STAMP_NONCES_BYTES) };
    const parties = { recipientPk: alice.identity.publicKey, requesterPk: mallory.identity.publicKey };
    while (stampWork(parties, weak) >= TEST_STAMP_BITS) weak.nonces.writeUInt8((weak.nonces[7] ?? 0) + 1, 7);
    for (const stamp of [weak, stale, forBob])
      assert.equal(ackOf(await mallory.ask(alice, stamp)), 'stamp-refused');
    assert.equal(writes.count, 0);
    assert.deepEqual(alice.node.requests(), []);
    assert.equal(ackOf(await mallory.ask(alice, await mallory.stamp(alice))), 'received');
    assert.equal(alice.node.requests().length, 1);
    mallory.utp.close();
  });

  test('a blocked or declined key is turned away at the handshake: no frame read, no write', async () => {
    const sim = makeSim('blocked');
    const alice = sim.user('alice', 1);
    await sim.startAll();
    const mallory = stranger(sim, 'mallory', '10.6.6.6');
    const eve = stranger(sim, 'eve', '10.6.6.7');
    assert.equal(ackOf(await mallory.ask(alice, await mallory.stamp(alice))), 'received');
    assert.equal(ackOf(await eve.ask(alice, await eve.stamp(alice))), 'received');
    alice.node.block(alice.node.requests().find((r) => r.name === 'mallory')?.code ?? '');
    alice.node.decline(alice.node.requests().find((r) => r.name === 'eve')?.code ?? '');
    const writes = countWrites(alice);
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await mallory.ask(alice, await mallory.stamp(alice)), []);
      assert.deepEqual(await eve.ask(alice, await eve.stamp(alice)), []);
    }
    assert.equal(writes.count, 0);
    assert.deepEqual(alice.node.requests(), []);
    mallory.utp.close();
    eve.utp.close();
  });

  test('storage is bounded: a full pending list drops the least recently asked request for a new one', async () => {
    const sim = makeSim('pending-cap');
    const alice = sim.user('alice', 1, { requestBudget: { maxPending: 3 } });
    await sim.startAll();
    const askers = [0, 1, 2, 3].map((i) => stranger(sim, `asker-${i}`, `10.7.${i}.1`));
    for (const asker of askers) {
      assert.equal(ackOf(await asker.ask(alice, await asker.stamp(alice))), 'received');
      await sim.sim.settle(1000, 50);
    }
    const names = alice.node.requests().map((r) => r.name);
    assert.deepEqual(names, ['asker-1', 'asker-2', 'asker-3']);
    assert.equal(alice.store.contacts.get(askers[0]?.identity.publicKey ?? Buffer.alloc(32)), undefined);
    for (const asker of askers) asker.utp.close();
  });

  test('pruning: past rate windows, declined rows after 180 days, unanswered requests after 30 days', async () => {
    const sim = makeSim('prune');
    const alice = sim.user('alice', 1);
    await sim.startAll();
    const old = stranger(sim, 'old', '10.6.6.1');
    const declined = stranger(sim, 'declined', '10.6.6.2');
    // Rows as an older version left them: one rate row per requesting key.
    for (let i = 0; i < 50; i++)
      alice.store.requests.takeRateSlot(`incoming/${i.toString(16).padStart(64, '0')}`, HOUR_EPOCH_MS, 5);
    assert.equal(ackOf(await old.ask(alice, await old.stamp(alice))), 'received');
    assert.equal(ackOf(await declined.ask(alice, await declined.stamp(alice))), 'received');
    alice.node.decline(alice.node.requests().find((r) => r.name === 'declined')?.code ?? '');
    assert.ok(alice.store.requests.countRateBuckets() >= 51);
    // Windows end an hour after they start; the hourly prune drops them at its first run after that.
    await sim.sim.settle(2 * HOUR_EPOCH_MS + 60_000, 60_000);
    assert.ok(alice.store.requests.countRateBuckets() <= 1, 'the hourly prune dropped the past windows');
    sim.clock.advance(31 * DAY_MS);
    await sim.sim.settle(HOUR_EPOCH_MS, 60_000);
    assert.deepEqual(alice.node.requests(), [], 'the unanswered request is forgotten');
    assert.equal(alice.store.contacts.get(old.identity.publicKey), undefined);
    assert.equal(alice.store.requests.get(declined.identity.publicKey, 'incoming')?.state, 'declined');
    sim.clock.advance(150 * DAY_MS);
    await sim.sim.settle(HOUR_EPOCH_MS, 60_000);
    assert.equal(alice.store.requests.get(declined.identity.publicKey, 'incoming'), undefined);
    // The key is still turned away: the declined contact stays.
    assert.equal(alice.store.contacts.get(declined.identity.publicKey)?.state, 'declined');
    assert.deepEqual(await declined.ask(alice, await declined.stamp(alice)), []);
    old.utp.close();
    declined.utp.close();
  });
});

describe('a removed contact is a stranger again', { timeout: 60_000 }, () => {
  test('with the conversation kept, its next request needs a stamp and is announced as new', async () => {
    const sim = makeSim('removed');
    const alice = sim.user('alice', 1);
    await sim.startAll();
    const bob = stranger(sim, 'bob', '10.6.6.9');
    assert.equal(ackOf(await bob.ask(alice, await bob.stamp(alice))), 'received');
    await alice.node.accept(alice.node.requests()[0]?.code ?? '');
    // A message from Alice keeps a conversation (the contact row stays, bare, after the removal).
    await alice.node.send(alice.node.contacts()[0]?.code ?? '', 'before');
    alice.node.remove(alice.node.contacts()[0]?.code ?? '');
    assert.equal(alice.store.contacts.get(bob.identity.publicKey)?.state, 'pending-incoming');
    const events: string[] = [];
    alice.node.on('request', (r) => events.push(r.code));
    const blank = { hour: 0, nonces: Buffer.alloc(STAMP_NONCES_BYTES) };
    assert.equal(ackOf(await bob.ask(alice, blank)), 'stamp-refused');
    assert.deepEqual(alice.node.requests(), []);
    assert.equal(ackOf(await bob.ask(alice, await bob.stamp(alice))), 'received');
    assert.equal(events.length, 1);
    assert.equal(alice.node.requests().length, 1);
    bob.utp.close();
  });
});

describe('the requester learns its request arrived', { timeout: 60_000 }, () => {
  test('contacts show request "sent" then "received" with a request_received event; announcing stops', async () => {
    const sim = makeSim('ack');
    const alice = sim.user('alice', 1);
    const carol = sim.user('carol', 3);
    await sim.startAll();
    const events: ContactView[] = [];
    carol.node.on('request_received', (c) => events.push(c));
    const added = await carol.node.addFriend(alice.node.code, { name: 'alice', endpoints: [alice.address] });
    assert.equal(added.request, 'sent');
    assert.equal(carol.node.contacts()[0]?.request, 'sent');
    await sim.until(() => events.length > 0, 20_000);
    assert.deepEqual(
      events.map((e) => [e.name, e.request]),
      [['alice', 'received']],
    );
    assert.equal(carol.node.contacts()[0]?.request, 'received');
    assert.equal(alice.node.requests()[0]?.code, carol.node.code);
    // Re-sends after the ack are acknowledged without a new event.
    await sim.sim.settle(20_000, 50);
    assert.equal(events.length, 1);
    await alice.node.accept(carol.node.code);
    await sim.until(() => carol.node.isConnected(alice.node.code), 20_000);
    assert.equal(carol.node.contacts()[0]?.request, undefined, 'a friend has no request field');
  });

  test('a recipient that forgot the request answers "stamp-refused": the requester solves a stamp and asks again', async () => {
    const sim = makeSim('forgotten');
    const alice = sim.user('alice', 1);
    const carol = sim.user('carol', 3);
    await sim.startAll();
    await carol.node.addFriend(alice.node.code, { name: 'alice', endpoints: [alice.address] });
    await sim.until(() => carol.node.contacts()[0]?.request === 'received', 20_000);
    alice.store.requests.forgetIncoming(carol.identity.publicKey);
    assert.deepEqual(alice.node.requests(), []);
    // Carol's next re-send (her back-off is at most a few seconds here) carries no stamp any more.
    await sim.until(() => alice.node.requests().some((r) => r.code === carol.node.code), 60_000, 50);
    await sim.until(() => carol.node.contacts()[0]?.request === 'received', 20_000);
  });

  test('one key re-sending does not spend other requesters’ slots (per-key writes, per-host new keys)', async () => {
    const sim = makeSim('no-starving');
    const alice = sim.user('alice', 1);
    await sim.startAll();
    const loud = stranger(sim, 'loud', '10.8.0.1');
    const stamp = await loud.stamp(alice);
    const writes = countWrites(alice);
    for (let i = 0; i < 30; i++) assert.equal(ackOf(await loud.ask(alice, stamp, `again ${i}`)), 'received');
    // The first store plus REQUEST_BUDGET.writesPerKeyPerHour - 1 re-sends were written; the rest only acked.
    assert.equal(
      alice.store.requests.get(loud.identity.publicKey, 'incoming')?.attempts,
      REQUEST_BUDGET.writesPerKeyPerHour,
    );
    assert.ok(writes.count < 30, `${writes.count} writes for 30 requests`);
    const others = [1, 2, 3, 4].map((i) => stranger(sim, `other-${i}`, `10.9.${i}.1`));
    for (const other of others)
      assert.equal(ackOf(await other.ask(alice, await other.stamp(alice))), 'received');
    assert.equal(alice.node.requests().length, 5);
    loud.utp.close();
    for (const other of others) other.utp.close();
  });
});
