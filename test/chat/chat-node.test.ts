/** Two and three ChatNodes on a MemoryNetwork + ManualClock, online path (sessions only, no DHT). */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { TYPING_STALE_MS } from '../../src/chat/typing-tracker.ts';
import { befriend, ChatSim } from './session/chat-harness.ts';

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

describe('ChatNode, online path', { timeout: 60_000 }, () => {
  test('request, accept, messages both ways with delivered and read states', async () => {
    const sim = makeSim('chat-online');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    const requests: string[] = [];
    bob.node.on('request', (r) => requests.push(r.message ?? ''));
    await befriend(sim, alice, bob);
    assert.deepEqual(requests, ['hi from alice']);
    assert.equal(alice.node.contacts()[0]?.presence, 'online');
    assert.equal(bob.node.contacts()[0]?.name, 'alice');

    const got: string[] = [];
    bob.node.on('message', (e) => got.push(e.message.text));
    const sent = await alice.node.send(bob.node.code, 'hello bob');
    assert.equal(sent.state, 'queued');
    await sim.until(() => alice.node.messages(bob.node.code)[0]?.state === 'delivered');
    assert.deepEqual(got, ['hello bob']);
    bob.node.markRead('alice');
    await sim.until(() => alice.node.messages(bob.node.code)[0]?.state === 'read');

    await bob.node.send('alice', 'hi alice ✓');
    await sim.until(() => bob.node.messages('alice')[1]?.state === 'delivered');
    const atAlice = alice.node.messages(bob.node.code);
    assert.deepEqual(
      atAlice.map((m) => [m.text, m.from === bob.node.code]),
      [
        ['hello bob', false],
        ['hi alice ✓', true],
      ],
    );
    alice.node.markRead(bob.node.code);
    await sim.until(() => bob.node.messages('alice')[1]?.state === 'read');
  });
});

describe('ChatNode, answering requests by name', { timeout: 60_000 }, () => {
  test('accept and decline take the name a request gave, exactly or in another case; unknown names fail', async () => {
    const sim = makeSim('chat-request-names');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    const carol = sim.user('carol', 3);
    await sim.startAll();
    await alice.node.addFriend(bob.node.code, { endpoints: [bob.address] });
    await carol.node.addFriend(bob.node.code, { endpoints: [bob.address] });
    await sim.until(() => bob.node.requests().length === 2);
    assert.deepEqual(
      bob.node
        .requests()
        .map((r) => r.name)
        .sort(),
      ['alice', 'carol'],
    );
    assert.throws(() => bob.node.decline('dave'), { code: 'CHAT_UNKNOWN_FRIEND' });
    const accepted = await bob.node.accept('alice');
    assert.equal(accepted.code, alice.node.code);
    bob.node.decline('CAROL');
    assert.deepEqual(bob.node.requests(), []);
    await sim.until(() => alice.node.isConnected(bob.node.code));
    assert.equal(
      bob.node.contacts().find((c) => c.code === carol.node.code),
      undefined,
      'a declined requester is no contact',
    );
  });
});

describe('ChatNode, typing indicators', { timeout: 60_000 }, () => {
  test('typing ends with the message it announced, or after TYPING_STALE_MS without a fresh frame', async () => {
    const sim = makeSim('chat-typing');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    await befriend(sim, alice, bob);
    const typing: [boolean, number][] = [];
    bob.node.on('typing', (e) => typing.push([e.isTyping, sim.clock.monotonicMs()]));
    alice.node.setTyping('bob', true);
    await sim.until(() => typing.length === 1);
    await alice.node.send('bob', 'done typing');
    await sim.until(() => typing.length === 2);
    assert.deepEqual(
      typing.map(([isTyping]) => isTyping),
      [true, false],
      'the message ends it',
    );
    alice.node.setTyping('bob', true);
    await sim.until(() => typing.length === 3);
    const shownAt = typing[2]![1];
    await sim.until(() => typing.length === 4, TYPING_STALE_MS + 5000);
    assert.equal(typing[3]![0], false);
    assert.ok(typing[3]![1] - shownAt >= TYPING_STALE_MS, 'shown for TYPING_STALE_MS after the last frame');
  });
});

describe('ChatNode, three users and bad input', { timeout: 60_000 }, () => {
  test('alice talks to bob and carol; typing; bob cannot reach carol; errors are stable codes', async () => {
    const sim = makeSim('chat-three');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    const carol = sim.user('carol', 3);
    await sim.startAll();
    await befriend(sim, alice, bob);
    await befriend(sim, alice, carol);
    assert.deepEqual(
      alice.node.contacts().map((c) => [c.name, c.presence]),
      [
        ['bob', 'online'],
        ['carol', 'online'],
      ],
    );
    const typing: boolean[] = [];
    bob.node.on('typing', (e) => typing.push(e.isTyping));
    alice.node.setTyping('bob', true);
    alice.node.setTyping('bob', false);
    await alice.node.send('bob', 'to bob');
    await alice.node.send('carol', 'to carol');
    await sim.until(() =>
      ['bob', 'carol'].every((who) => alice.node.messages(who)[0]?.state === 'delivered'),
    );
    assert.deepEqual(typing, [true, false]);
    assert.deepEqual(
      carol.node.messages('alice').map((m) => m.text),
      ['to carol'],
    );
    await assert.rejects(bob.node.send(carol.node.code, 'hi'), { code: 'CHAT_UNKNOWN_FRIEND' });
    await assert.rejects(bob.node.send('nobody', 'hi'), { code: 'CHAT_UNKNOWN_FRIEND' });
    await assert.rejects(alice.node.send('bob', 'x'.repeat(16 * 1024 + 1)), {
      code: 'CHAT_MESSAGE_TOO_LARGE',
    });
    await assert.rejects(alice.node.addFriend('dhtchat:not-a-code'), (e: Error & { code?: string }) =>
      String(e.code).startsWith('CHAT_FRIEND_CODE_'),
    );
    await assert.rejects(alice.node.addFriend(alice.node.code), { code: 'CHAT_ADD_SELF' });
    // Blocked: bob's session is closed and refused from then on.
    alice.node.block('bob');
    await sim.sim.settle(5000, 10);
    assert.equal(bob.node.isConnected('alice'), false);
    assert.deepEqual(
      alice.node.contacts().map((c) => c.name),
      ['carol'],
    );
  });
});

describe('ChatNode, churn', { timeout: 60_000 }, () => {
  test('a burst of 200 messages with the receiver killed mid-burst arrives exactly once, in order', async () => {
    const sim = makeSim('chat-burst');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    await befriend(sim, alice, bob);
    const texts = Array.from({ length: 200 }, (_, i) => `m${i}`);
    for (const text of texts.slice(0, 100)) await alice.node.send('bob', text);
    await sim.until(() => bob.store.messages.count() >= 30, 10_000, 1);
    sim.stop(bob); // as kill -9: no goodbye; whatever was committed stays
    for (const text of texts.slice(100)) await alice.node.send('bob', text);
    await sim.restart(bob);
    await sim.startUser(bob);
    await sim.until(() => alice.node.messages('bob').every((m) => m.state === 'delivered'), 60_000, 10);
    assert.deepEqual(
      bob.node.messages('alice').map((m) => m.text),
      texts,
    );
    assert.equal(bob.store.messages.count(), 200);
  });
});

describe('ChatNode, requests across restarts', { timeout: 60_000 }, () => {
  test('accepted while the requester was away: both are friends once it is back', async () => {
    const sim = makeSim('chat-accept-offline');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    const accepted: string[] = [];
    await alice.node.addFriend(bob.node.code, { name: 'bob', endpoints: [bob.address] });
    await sim.until(() => bob.node.requests().length === 1);
    sim.stop(alice);
    await bob.node.accept(alice.node.code);
    await bob.node.send('alice', 'welcome');
    await sim.sim.settle(3000, 10);
    await sim.restart(alice);
    alice.node.on('accepted', (c) => accepted.push(c.name));
    await sim.startUser(alice);
    await sim.until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'), 20_000);
    assert.deepEqual(accepted, ['bob']);
    await sim.until(() => bob.node.messages('alice')[0]?.state === 'delivered', 20_000);
    assert.deepEqual(
      alice.node.messages('bob').map((m) => m.text),
      ['welcome'],
    );
  });
});
