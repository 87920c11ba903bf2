/**
 * Delivery across crashes, deterministically: the windows a `kill -9` in the end-to-end crash test almost never
 * hits by chance (they last microseconds) are opened here on purpose. Two Delivery instances on real stores
 * (temporary SQLite files) talk through fake sessions whose frames the test hands over, or drops, by hand; each
 * side's group commit waits for the end of a turn that the test ends by hand (`endTurn`), so a crash can land
 * between a send and its commit, or between reading a friend's frames and committing them. A "crash" closes a
 * store without a word and a new Delivery opens it again from disk.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { Delivery } from '../../../src/chat/session/delivery.ts';
import type { ChatFrame } from '../../../src/chat/session/frames.ts';
import type { ChatSession, SessionHandlers } from '../../../src/chat/session/session.ts';
import { ChatStore } from '../../../src/chat/store/chat-store.ts';
import type { StoredMessage } from '../../../src/chat/store/messages.ts';
import { ManualClock, nullLogger, SeededRandom } from '../../../src/runtime/index.ts';

const ALICE = Buffer.alloc(32, 0xa1);
const BOB = Buffer.alloc(32, 0xb0);

/** One end of a session: records what Delivery sends; the test decides what reaches the other end. */
class FakeSession {
  isOpen = true;
  readonly sent: ChatFrame[] = [];
  send(frame: ChatFrame): boolean {
    if (!this.isOpen) return false;
    this.sent.push(frame);
    return true;
  }
  /** Hands every frame sent so far to the other end's handlers (read in one turn: the test ends it). */
  deliverTo(handlers: Pick<SessionHandlers, 'onFrame'>): ChatFrame[] {
    const frames = this.sent.splice(0);
    for (const frame of frames) handlers.onFrame(frame);
    return frames;
  }
}

/** One process's event loop, as far as the group commit sees it: deferred work runs when the test ends the turn. */
class Turns {
  readonly #pending: (() => void)[] = [];
  readonly defer = (fn: () => void): void => void this.#pending.push(fn);
  end(): void {
    for (const fn of this.#pending.splice(0)) fn();
  }
}

interface Side {
  readonly key: Buffer;
  readonly peer: Buffer;
  readonly path: string;
  store: ChatStore;
  delivery: Delivery;
  session: FakeSession | undefined;
  readonly received: StoredMessage[];
  readonly turns: Turns;
}

const dirs: string[] = [];
const stores: ChatStore[] = [];
const clock = new ManualClock();

afterEach(() => {
  for (const store of stores.splice(0)) {
    try {
      store.close();
    } catch {
      // already closed by a "crash"
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function openSide(key: Buffer, peer: Buffer, path: string, received: StoredMessage[] = []): Side {
  const store = ChatStore.open({
    path,
    ownPublicKey: key,
    clock,
    random: new SeededRandom(`delivery/${key.toString('hex')}/${stores.length}`),
  });
  stores.push(store);
  if (store.contacts.get(peer) === undefined) store.contacts.upsert(peer, 'accepted');
  const turns = new Turns();
  const side: Side = {
    key,
    peer,
    path,
    store,
    delivery: undefined as never,
    session: undefined,
    received,
    turns,
  };
  side.delivery = new Delivery({
    store,
    clock,
    logger: nullLogger,
    defer: turns.defer,
    sessionOf: () => (side.session?.isOpen === true ? (side.session as unknown as ChatSession) : undefined),
    events: {
      onMessage: (_peer, message) => received.push(message),
      onState: () => {},
      onTyping: () => {},
      onFriendRequestFrame: () => {},
      onProfile: () => {},
    },
  });
  return side;
}

function pair(): { alice: Side; bob: Side } {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-delivery-'));
  dirs.push(dir);
  return {
    alice: openSide(ALICE, BOB, join(dir, 'alice.sqlite')),
    bob: openSide(BOB, ALICE, join(dir, 'bob.sqlite')),
  };
}

/** A session between the two: each end attached to its Delivery; returns both ends' frame handlers. */
function connect(alice: Side, bob: Side) {
  alice.session = new FakeSession();
  bob.session = new FakeSession();
  const toAlice = alice.delivery.attach(BOB, alice.session as unknown as ChatSession);
  const toBob = bob.delivery.attach(ALICE, bob.session as unknown as ChatSession);
  return { toAlice, toBob, atAlice: alice.session, atBob: bob.session };
}

/**
 * kill -9: the store is closed without a word, the session is gone; a new Delivery opens the file again. The old
 * Delivery is closed after its store only to stop its timers: whatever it still had to commit fails.
 */
function crash(side: Side): Side {
  if (side.session !== undefined) side.session.isOpen = false;
  side.store.close();
  side.delivery.close();
  return openSide(side.key, side.peer, side.path, side.received);
}

/** Sends and ends the turn: the promise is settled once this returns (resolved after the group's commit). */
async function sendNow(side: Side, text: string): Promise<StoredMessage> {
  const sent = side.delivery.send(side.peer, text);
  side.turns.end();
  return sent;
}

/** Hands what `from` sent to `to` and ends `to`'s turn (its group commit runs, then its acks go out). */
function carry(from: FakeSession, to: Side, handlers: Pick<SessionHandlers, 'onFrame'>): ChatFrame[] {
  const frames = from.deliverTo(handlers);
  to.turns.end();
  return frames;
}

const framesOf = (frames: ChatFrame[], type: ChatFrame['type']) => frames.filter((f) => f.type === type);

const idsOf = (frames: ChatFrame[]) =>
  frames.flatMap((f) => (f.type === 'message' ? [f.id.toString('hex')] : []));
const ackedIds = (frames: ChatFrame[]) =>
  frames.flatMap((f) => (f.type === 'ack' ? f.ids.map((id) => id.toString('hex')) : []));

describe('Delivery across crashes', () => {
  test('the receiver dies after its commit, before its ack: the resent message is stored once and acked', async () => {
    let { alice, bob } = pair();
    let link = connect(alice, bob);
    const sent = await sendNow(alice, 'one');
    assert.equal(framesOf(carry(link.atAlice, bob, link.toBob), 'message').length, 1);
    assert.equal(bob.received.length, 1, 'committed and announced');
    // Bob's ack is in his send buffer when he dies: it never reaches Alice.
    assert.equal(framesOf(link.atBob.sent.splice(0), 'ack').length, 1);
    bob = crash(bob);
    link.atAlice.isOpen = false;
    assert.equal(bob.store.messages.count(ALICE), 1, 'the commit survived the crash');
    assert.equal(alice.store.messages.get(sent.id)?.state, 'queued');

    link = connect(alice, bob);
    const resent = framesOf(carry(link.atAlice, bob, link.toBob), 'message');
    assert.deepEqual(
      idsOf(resent),
      [sent.id.toString('hex')],
      'the next session resends the unacknowledged one',
    );
    assert.equal(bob.store.messages.count(ALICE), 1, 'deduplicated by id');
    assert.equal(bob.received.length, 1, 'not announced twice');
    carry(link.atBob, alice, link.toAlice);
    assert.equal(alice.store.messages.get(sent.id)?.state, 'delivered', 'the duplicate is acked too');
    // Nothing is left to send: the next retransmit round stays silent.
    clock.advance(60_000);
    assert.equal(framesOf(link.atAlice.sent, 'message').length, 0);
    alice = crash(alice);
    assert.equal(alice.store.messages.outbox(BOB).length, 0);
  });

  test('the sender dies after Bob acked, before it read the ack: it resends, Bob dedupes and acks again', async () => {
    let { alice, bob } = pair();
    let link = connect(alice, bob);
    const ids: string[] = [];
    for (const text of ['a', 'b', 'c']) ids.push((await sendNow(alice, text)).id.toString('hex'));
    carry(link.atAlice, bob, link.toBob);
    assert.equal(bob.received.length, 3);
    link.atBob.sent.splice(0); // Bob's acks are on the wire when Alice dies.
    alice = crash(alice);
    link.atBob.isOpen = false;
    assert.deepEqual(
      alice.store.messages.outbox(BOB).map((m) => m.id.toString('hex')),
      ids,
      'sent and committed before the crash, still unacknowledged',
    );

    link = connect(alice, bob);
    assert.deepEqual(idsOf(carry(link.atAlice, bob, link.toBob)), ids, 'resent in order');
    assert.equal(bob.store.messages.count(ALICE), 3);
    assert.equal(bob.received.length, 3);
    carry(link.atBob, alice, link.toAlice);
    for (const m of alice.store.messages.list(BOB)) assert.equal(m.state, 'delivered');
  });

  test("the sender dies with Bob's acks read but its receipts not committed: it resends, Bob acks again", async () => {
    let { alice, bob } = pair();
    let link = connect(alice, bob);
    const sent = await sendNow(alice, 'acked, but not yet for Alice');
    carry(link.atAlice, bob, link.toBob);
    // Alice read the ack; her group commit waits for the end of the turn. (The same as a receipts-only commit that
    // a power cut took: those are not fsync'd.)
    link.atBob.deliverTo(link.toAlice);
    alice = crash(alice);
    link.atBob.isOpen = false;
    assert.equal(alice.store.messages.get(sent.id)?.state, 'queued', 'the receipt was not committed');

    link = connect(alice, bob);
    carry(link.atAlice, bob, link.toBob);
    assert.equal(bob.store.messages.count(ALICE), 1, 'deduplicated by id');
    carry(link.atBob, alice, link.toAlice);
    assert.equal(alice.store.messages.get(sent.id)?.state, 'delivered');
  });

  test('the sender dies before its group commit: the send never answered, nothing was written or sent', async () => {
    let { alice } = pair();
    const link = connect(alice, pair().bob);
    let outcome = 'pending';
    const sent = alice.delivery.send(BOB, 'typed, never confirmed');
    sent.then(
      () => {
        outcome = 'answered';
      },
      (error: { code?: string }) => {
        outcome = error.code ?? 'rejected';
      },
    );
    await Promise.resolve();
    assert.equal(outcome, 'pending', 'no answer before the commit');
    assert.equal(framesOf(link.atAlice.sent, 'message').length, 0, 'nothing goes out before the commit');
    alice = crash(alice);
    await sent.catch(() => {});
    assert.equal(
      outcome,
      'CHAT_STORE_CLOSED',
      'the client is told it failed (a real crash tells it nothing)',
    );
    assert.equal(alice.store.messages.count(BOB), 0, 'an unanswered send may be lost, and only that');
  });

  test('the receiver dies with a turn of messages read but not committed: none acked, all resent, stored once', async () => {
    let { alice, bob } = pair();
    let link = connect(alice, bob);
    const texts = ['x', 'y', 'z'];
    const pending = texts.map((text) => alice.delivery.send(BOB, text));
    alice.turns.end();
    const ids = (await Promise.all(pending)).map((m) => m.id.toString('hex'));
    assert.deepEqual(alice.delivery.groupStats, { groups: 1, jobs: 3 }, 'three sends, one commit');
    link.atAlice.deliverTo(link.toBob); // read by Bob, his group commit not run yet
    assert.deepEqual(
      link.atBob.sent.map((f) => f.type),
      ['hello'],
      'no ack before the commit',
    );
    bob = crash(bob);
    link.atAlice.isOpen = false;
    assert.equal(bob.store.messages.count(ALICE), 0);
    assert.equal(bob.received.length, 0);

    link = connect(alice, bob);
    assert.deepEqual(idsOf(carry(link.atAlice, bob, link.toBob)), ids);
    assert.deepEqual(
      bob.store.messages.list(ALICE).map((m) => m.text),
      texts,
      'stored once each, in order',
    );
    assert.deepEqual(ackedIds(link.atBob.sent), ids, 'acked after the commit, in one frame');
    assert.equal(framesOf(link.atBob.sent, 'ack').length, 1);
    carry(link.atBob, alice, link.toAlice);
    for (const m of alice.store.messages.list(BOB)) assert.equal(m.state, 'delivered');
  });
});

describe('Group commit in delivery', () => {
  test('one turn of sends is one commit, in call order; a send that fails fails alone', async () => {
    const { alice, bob } = pair();
    const link = connect(alice, bob);
    const carol = Buffer.alloc(32, 0xc0);
    const toBob = ['first', 'second'].map((text) => alice.delivery.send(BOB, text));
    const toCarol = alice.delivery.send(carol, 'not a contact');
    const third = alice.delivery.send(BOB, 'third');
    alice.turns.end();
    const sent = await Promise.all([...toBob, third]);
    await assert.rejects(toCarol, { code: 'CHAT_UNKNOWN_FRIEND' });
    assert.deepEqual(alice.delivery.groupStats, { groups: 1, jobs: 3 });
    assert.deepEqual(
      sent.map((m) => [m.text, m.seq]),
      [
        ['first', 1],
        ['second', 2],
        ['third', 3],
      ],
    );
    assert.deepEqual(
      idsOf(link.atAlice.sent),
      sent.map((m) => m.id.toString('hex')),
      'sent after the commit, in order',
    );
    for (const m of sent) assert.equal(alice.store.messages.get(m.id)?.attempts, 1, 'first attempt counted');
  });

  test("a turn of a friend's messages is one commit and as few ack frames as fit; the receipts one more", async () => {
    const { alice, bob } = pair();
    const link = connect(alice, bob);
    const count = 100;
    const pending = Array.from({ length: count }, (_, i) => alice.delivery.send(BOB, `m${i}`));
    alice.turns.end();
    const ids = (await Promise.all(pending)).map((m) => m.id.toString('hex'));
    carry(link.atAlice, bob, link.toBob);
    assert.deepEqual(bob.delivery.groupStats, { groups: 1, jobs: 1 }, 'the session inbox: one job');
    assert.equal(bob.received.length, count);
    const acks = framesOf(link.atBob.sent, 'ack');
    assert.equal(acks.length, 2, '64 ids per frame');
    assert.deepEqual(ackedIds(acks), ids);
    carry(link.atBob, alice, link.toAlice);
    assert.deepEqual(alice.delivery.groupStats, { groups: 2, jobs: 101 });
    assert.equal(alice.store.messages.outbox(BOB).length, 0, 'every one delivered');
  });

  test('a typing frame first commits the messages before it, so they are announced first', async () => {
    const { alice, bob } = pair();
    const link = connect(alice, bob);
    await sendNow(alice, 'before typing');
    link.atAlice.send({ type: 'typing', isTyping: true });
    link.atAlice.deliverTo(link.toBob);
    assert.equal(bob.received.length, 1, 'committed when the typing frame came, not at the end of the turn');
    assert.equal(ackedIds(link.atBob.sent).length, 1);
    assert.equal(bob.delivery.groupStats.groups, 1);
  });
});
