/**
 * ChatNode's contact commands on a MemoryNetwork + ManualClock (online path): names that read alike never reach
 * the wrong person, add/rename/remove/unblock, profile names between friends, empty messages, paging, search.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { befriend, ChatSim, type ChatUser } from './session/chat-harness.ts';

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

/** `from` asks `to` (with `from`'s own name as the suggestion) and waits until `to` lists it. */
async function request(sim: ChatSim, from: ChatUser, to: ChatUser): Promise<void> {
  await from.node.addFriend(to.node.code, { endpoints: [to.address] });
  await sim.until(() => to.node.requests().some((r) => r.code === from.node.code));
}

describe('ChatNode: a stranger named like a friend', { timeout: 60_000 }, () => {
  test('"alice" and "Аlice" never capture send/messages for the friend "Alice"', async () => {
    const sim = makeSim('names-capture');
    const alice = sim.user('Alice', 1);
    const bob = sim.user('bob', 2);
    const mallory = sim.user('alice', 3); // suggests the name "alice"
    const mallet = sim.user('\u0410lice', 4); // Cyrillic А
    await sim.startAll();
    await befriend(sim, alice, bob);
    assert.equal(bob.node.contacts()[0]?.name, 'Alice');

    await request(sim, mallory, bob);
    await request(sim, mallet, bob);
    // By name, the requesters and the friend read alike: refused, everyone listed with their code.
    assert.throws(
      () => bob.node.decline('alice'),
      (error: { code?: string; message?: string }) =>
        error.code === 'CHAT_NAME_AMBIGUOUS' &&
        [alice, mallory, mallet].every((u) => error.message?.includes(u.node.code) === true),
    );
    await assert.rejects(() => bob.node.accept('Alice'), { code: 'CHAT_NAME_AMBIGUOUS' });
    assert.throws(() => bob.node.block('Alice'), { code: 'CHAT_NAME_AMBIGUOUS' }, 'not even the exact name');

    // Accepted by code, their suggested names are not adopted: they stay unnamed.
    const m = await bob.node.accept(mallory.node.code);
    const m2 = await bob.node.accept(mallet.node.code);
    assert.equal(m.name, mallory.node.code);
    assert.equal(m2.name, mallet.node.code);
    await sim.until(() => mallory.node.isConnected(bob.node.code) && mallet.node.isConnected(bob.node.code));

    const got: string[] = [];
    alice.node.on('message', (e) => got.push(e.message.text));
    for (const typed of ['alice', 'ALICE', '\u0410lice', 'a1ice', 'Alice']) {
      await bob.node.send(typed, `to ${typed}`);
      assert.deepEqual(
        bob.node.messages(typed).map((x) => x.from),
        bob.node.messages(alice.node.code).map((x) => x.from),
        typed,
      );
    }
    await sim.until(() => got.length === 5);
    assert.deepEqual(bob.node.messages(mallory.node.code), []);
    assert.deepEqual(bob.node.messages(mallet.node.code), []);
    // Naming a stranger like the friend is refused, naming the friend.
    assert.throws(
      () => bob.node.rename(mallory.node.code, 'alice'),
      (error: { code?: string; message?: string }) =>
        error.code === 'CHAT_CONTACT_NAME_TAKEN' && error.message?.includes(alice.node.code) === true,
    );
  });
});

describe('ChatNode: add, rename, remove, unblock', { timeout: 60_000 }, () => {
  test('add of a friend says so and renames nothing; rename is its own call', async () => {
    const sim = makeSim('names-add');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    await befriend(sim, alice, bob);
    await assert.rejects(
      () => alice.node.addFriend(bob.node.code, { name: 'x' }),
      (error: { code?: string; message?: string }) =>
        error.code === 'CHAT_ALREADY_FRIEND' &&
        /bob \(dhtchat:.*\) is already a friend; to rename/.test(error.message ?? ''),
    );
    assert.equal(alice.node.contacts()[0]?.name, 'bob');
    assert.equal(alice.node.rename('bob', 'Robert').name, 'Robert');
    assert.equal(alice.node.rename('robert', 'ROBERT').name, 'ROBERT', 'found by a name that reads alike');
    await assert.rejects(() => alice.node.addFriend(alice.node.code), { code: 'CHAT_ADD_SELF' });
  });

  test('empty and blank messages are refused and nothing is stored', async () => {
    const sim = makeSim('names-empty');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    await befriend(sim, alice, bob);
    for (const blank of ['', ' ', '\n\t', '\u00a0\u200b', '\u3000']) {
      await assert.rejects(
        () => alice.node.send('bob', blank),
        { code: 'CHAT_MESSAGE_EMPTY' },
        JSON.stringify(blank),
      );
    }
    assert.deepEqual(alice.node.messages('bob'), []);
  });

  test('remove keeps the conversation (by code) and makes a later request a fresh one; --forget deletes it', async () => {
    const sim = makeSim('names-remove');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    await befriend(sim, alice, bob);
    await alice.node.send('bob', 'before');
    await sim.until(() => alice.node.messages('bob')[0]?.state === 'delivered');

    const removed = alice.node.remove('bob');
    assert.equal(removed.code, bob.node.code);
    assert.deepEqual(alice.node.contacts(), []);
    await sim.until(() => !alice.node.isConnected(bob.node.code) && !bob.node.isConnected(alice.node.code));
    assert.throws(() => alice.node.messages('bob'), { code: 'CHAT_UNKNOWN_FRIEND' }, 'the name is gone');
    assert.deepEqual(
      alice.node.messages(bob.node.code).map((m) => m.text),
      ['before'],
    );
    await assert.rejects(() => alice.node.send(bob.node.code, 'x'), { code: 'CHAT_UNKNOWN_FRIEND' });

    // Bob, who does not know, asks again (as a new request): Alice is asked, not auto-befriended.
    bob.node.remove('alice');
    await request(sim, bob, alice);
    assert.equal(alice.node.requests()[0]?.code, bob.node.code);
    await alice.node.accept(bob.node.code);
    await sim.until(() => alice.node.isConnected(bob.node.code));
    assert.deepEqual(
      alice.node.messages(bob.node.code).map((m) => m.text),
      ['before'],
      'the kept conversation is there again',
    );

    alice.node.remove(bob.node.code, { isHistoryForgotten: true });
    assert.throws(() => alice.node.messages(bob.node.code), { code: 'CHAT_UNKNOWN_FRIEND' });
  });

  test('unblock lets a blocked stranger ask again; blocked lists who is blocked', async () => {
    const sim = makeSim('names-unblock');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    await request(sim, bob, alice);
    alice.node.block(bob.node.code);
    assert.deepEqual(
      alice.node.blocked().map((c) => c.code),
      [bob.node.code],
    );
    assert.throws(() => alice.node.unblock('nobody'), { code: 'CHAT_UNKNOWN_FRIEND' });
    assert.equal(alice.node.unblock(bob.node.code).code, bob.node.code);
    assert.deepEqual(alice.node.blocked(), []);
    assert.throws(
      () => alice.node.unblock(bob.node.code),
      { code: 'CHAT_UNKNOWN_FRIEND' },
      'not blocked now',
    );
    bob.node.remove(alice.node.code);
    await request(sim, bob, alice);
    assert.equal(alice.node.requests()[0]?.code, bob.node.code);
  });
});

describe('ChatNode: profile names, paging, search, typing', { timeout: 60_000 }, () => {
  test('a friend learns our name when the session comes up and when it changes; ours for them stays', async () => {
    const sim = makeSim('names-profile');
    const saved: string[] = [];
    const alice = sim.user('alice', 1, { saveName: async (name) => void saved.push(name) });
    const bob = sim.user('bob', 2);
    await sim.startAll();
    await befriend(sim, alice, bob);
    const aliceAtBob = () => bob.node.contacts().find((c) => c.code === alice.node.code);
    await sim.until(() => aliceAtBob()?.profileName === 'alice');
    assert.deepEqual(await alice.node.setProfileName('Alicia ✿'), {
      name: 'Alicia ✿',
      code: alice.node.code,
    });
    assert.deepEqual(saved, ['Alicia ✿']);
    await sim.until(() => aliceAtBob()?.profileName === 'Alicia ✿');
    assert.equal(aliceAtBob()?.name, 'alice', 'the name Bob gave her is his');
    await assert.rejects(() => alice.node.setProfileName('x\u202ey'), { code: 'CHAT_NAME_INVALID' });
    assert.deepEqual(saved, ['Alicia ✿']);
  });

  test('messages page back by id and time; search finds text in any case; typing says if it was sent', async () => {
    const sim = makeSim('names-paging');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    await befriend(sim, alice, bob);
    for (let i = 1; i <= 6; i++) {
      await alice.node.send('bob', `Note ${i}`);
      sim.clock.advance(1000);
    }
    const all = alice.node.messages('bob');
    assert.deepEqual(
      alice.node.messages('bob', { limit: 2 }).map((m) => m.text),
      ['Note 5', 'Note 6'],
    );
    assert.deepEqual(
      alice.node.messages('bob', { limit: 2, beforeId: all[4]?.id }).map((m) => m.text),
      ['Note 3', 'Note 4'],
    );
    assert.deepEqual(
      alice.node.messages('bob', { beforeMs: all[1]?.ts }).map((m) => m.text),
      ['Note 1'],
    );
    assert.throws(() => alice.node.messages('bob', { beforeId: 'ab'.repeat(16) }), {
      code: 'CHAT_UNKNOWN_MESSAGE',
    });
    assert.throws(() => alice.node.messages('bob', { limit: 0 }), { code: 'CHAT_BAD_QUERY' });
    const found = alice.node.search('NOTE', { with: 'bob', limit: 2 });
    assert.deepEqual(
      found.map((m) => [m.with, m.text]),
      [
        [bob.node.code, 'Note 5'],
        [bob.node.code, 'Note 6'],
      ],
    );
    assert.throws(() => alice.node.search('  '), { code: 'CHAT_BAD_QUERY' });
    assert.deepEqual(alice.node.setTyping('bob', true), { to: alice.node.contacts()[0], isSent: true });
    sim.stop(bob);
    await sim.until(() => alice.node.contacts()[0]?.presence !== 'online', 120_000, 100);
    assert.equal(alice.node.setTyping('bob', false).isSent, false);
  });
});
