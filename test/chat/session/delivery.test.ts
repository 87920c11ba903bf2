/**
 * Delivery across crashes, deterministically: the windows a `kill -9` in the end-to-end crash test almost never
 * hits by chance (they last microseconds) are opened here on purpose. Two Delivery instances on real stores
 * (temporary SQLite files) talk through fake sessions whose frames the test hands over, or drops, by hand; a
 * "crash" closes a store without a word and a new Delivery opens it again from disk.
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
  /** Hands every frame sent so far to the other end's handlers, as one received chunk. */
  deliverTo(handlers: Pick<SessionHandlers, 'onFrame' | 'onBatchEnd'>): ChatFrame[] {
    const frames = this.sent.splice(0);
    for (const frame of frames) handlers.onFrame(frame);
    handlers.onBatchEnd?.();
    return frames;
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
  const side: Side = { key, peer, path, store, delivery: undefined as never, session: undefined, received };
  side.delivery = new Delivery({
    store,
    clock,
    logger: nullLogger,
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

/** kill -9: the store is closed without a word, the session is gone; a new Delivery opens the file again. */
function crash(side: Side): Side {
  if (side.session !== undefined) side.session.isOpen = false;
  side.delivery.close();
  side.store.close();
  return openSide(side.key, side.peer, side.path, side.received);
}

const framesOf = (frames: ChatFrame[], type: ChatFrame['type']) => frames.filter((f) => f.type === type);

describe('Delivery across crashes', () => {
  test('the receiver dies after its commit, before its ack: the resent message is stored once and acked', () => {
    let { alice, bob } = pair();
    let link = connect(alice, bob);
    const sent = alice.delivery.send(BOB, 'one');
    assert.equal(framesOf(link.atAlice.deliverTo(link.toBob), 'message').length, 1);
    assert.equal(bob.received.length, 1, 'committed and announced');
    // Bob's ack is in his send buffer when he dies: it never reaches Alice.
    assert.equal(framesOf(link.atBob.sent.splice(0), 'ack').length, 1);
    bob = crash(bob);
    link.atAlice.isOpen = false;
    assert.equal(bob.store.messages.count(ALICE), 1, 'the commit survived the crash');
    assert.equal(alice.store.messages.get(sent.id)?.state, 'queued');

    link = connect(alice, bob);
    const resent = framesOf(link.atAlice.deliverTo(link.toBob), 'message');
    assert.deepEqual(
      resent.map((f) => f.type === 'message' && f.id.toString('hex')),
      [sent.id.toString('hex')],
      'the next session resends the unacknowledged message',
    );
    assert.equal(bob.store.messages.count(ALICE), 1, 'deduplicated by id');
    assert.equal(bob.received.length, 1, 'not announced twice');
    link.atBob.deliverTo(link.toAlice);
    assert.equal(alice.store.messages.get(sent.id)?.state, 'delivered', 'the duplicate is acked too');
    // Nothing is left to send: the next retransmit round stays silent.
    clock.advance(60_000);
    assert.equal(framesOf(link.atAlice.sent, 'message').length, 0);
    alice = crash(alice);
    assert.equal(alice.store.messages.outbox(BOB).length, 0);
  });

  test('the sender dies after Bob acked, before it read the ack: it resends, Bob dedupes and acks again', () => {
    let { alice, bob } = pair();
    let link = connect(alice, bob);
    const ids = ['a', 'b', 'c'].map((text) => alice.delivery.send(BOB, text).id.toString('hex'));
    link.atAlice.deliverTo(link.toBob);
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
    const resent = framesOf(link.atAlice.deliverTo(link.toBob), 'message');
    assert.deepEqual(
      resent.map((f) => f.type === 'message' && f.id.toString('hex')),
      ids,
      'in order',
    );
    assert.equal(bob.store.messages.count(ALICE), 3);
    assert.equal(bob.received.length, 3);
    link.atBob.deliverTo(link.toAlice);
    for (const m of alice.store.messages.list(BOB)) assert.equal(m.state, 'delivered');
  });

  test('the sender dies after queueing with no session up: the message waits on disk for the next session', () => {
    let { alice, bob } = pair();
    const queued = alice.delivery.send(BOB, 'while away');
    assert.equal(queued.state, 'queued');
    alice = crash(alice);
    assert.equal(alice.store.messages.get(queued.id)?.text, 'while away');

    const link = connect(alice, bob);
    link.atAlice.deliverTo(link.toBob);
    link.atBob.deliverTo(link.toAlice);
    assert.deepEqual(
      bob.store.messages.list(ALICE).map((m) => [m.id.toString('hex'), m.text]),
      [[queued.id.toString('hex'), 'while away']],
    );
    assert.equal(alice.store.messages.get(queued.id)?.state, 'delivered');
    bob = crash(bob);
    assert.equal(bob.store.messages.count(ALICE), 1);
  });
});
