/**
 * Sessions under attack and under churn, on a MemoryNetwork + ManualClock: strangers (IK and XX), tampered and
 * replayed packets, simultaneous open, restart reconnect from last known endpoints.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { identityFromSeed } from '../../../src/chat/identity.ts';
import { ChatSession, DEFAULT_SESSION_TIMING } from '../../../src/chat/session/session.ts';
import { UtpEndpoint } from '../../../src/net/index.ts';
import { nullLogger, SeededRandom, type UdpAddress } from '../../../src/runtime/index.ts';
import { befriend, ChatSim, type ChatUser, testStamp } from './chat-harness.ts';

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

/** A raw session from an identity Bob never accepted. */
function stranger(sim: ChatSim, host: string) {
  const identity = identityFromSeed(Buffer.alloc(32, 0x66));
  const random = new SeededRandom(`${sim.sim.seed}/mallory`);
  const utp = new UtpEndpoint({
    transport: sim.sim.network.createTransport({ host, port: 7000 }),
    clock: sim.clock,
    random,
  });
  const ctx = { identity, clock: sim.clock, random, logger: nullLogger, timing: DEFAULT_SESSION_TIMING };
  const stampFor = (recipient: ChatUser) =>
    testStamp(recipient.identity.publicKey, identity.publicKey, sim.clock.wallMs());
  return { identity, utp, ctx, stampFor };
}

const messageFrame = (text: string) => ({
  type: 'message' as const,
  id: Buffer.alloc(16, 0x42),
  createdMs: 1,
  senderSeq: 1,
  text,
});

function countMessages(user: ChatUser): number {
  return user.store.messages.count();
}

describe('chat sessions', { timeout: 60_000 }, () => {
  test('a stranger over IK is closed before any frame is used; over XX only a request gets through', async () => {
    const sim = makeSim('stranger');
    const bob = sim.user('bob', 2);
    await sim.startAll();
    const mallory = stranger(sim, '10.6.6.6');
    const events: string[] = [];
    bob.node.on('message', () => events.push('message'));
    bob.node.on('request', () => events.push('request'));

    const ik = ChatSession.connect(mallory.ctx, mallory.utp, bob.address, bob.identity.publicKey);
    ik.send(messageFrame('let me in'));
    await sim.until(() => !ik.isOpen, 20_000);
    assert.equal(countMessages(bob), 0);

    const xx = ChatSession.connect(mallory.ctx, mallory.utp, bob.address, bob.identity.publicKey, {
      isXX: true,
    });
    xx.send(messageFrame('sneaky'));
    await sim.until(() => !xx.isOpen, 20_000);
    assert.equal(countMessages(bob), 0);
    assert.deepEqual(bob.node.requests(), []);

    const request = ChatSession.connect(mallory.ctx, mallory.utp, bob.address, bob.identity.publicKey, {
      isXX: true,
    });
    const stamp = await mallory.stampFor(bob);
    request.send({ type: 'request', name: 'mallory', message: 'be my friend', stamp });
    request.send(messageFrame('and read this'));
    await sim.until(() => !request.isOpen, 20_000);
    assert.equal(countMessages(bob), 0);
    assert.deepEqual(
      bob.node.requests().map((r) => [r.name, r.message]),
      [['mallory', 'be my friend']],
    );
    assert.deepEqual(events, ['request']);
    // Declined: the same stranger asking again is dropped silently.
    bob.node.decline(bob.node.requests()[0]?.code ?? '');
    const again = ChatSession.connect(mallory.ctx, mallory.utp, bob.address, bob.identity.publicKey, {
      isXX: true,
    });
    again.send({ type: 'request', name: 'mallory', message: 'please', stamp });
    await sim.until(() => !again.isOpen, 20_000);
    assert.deepEqual(bob.node.requests(), []);
    assert.deepEqual(events, ['request']);
    mallory.utp.close();
  });

  test('friend requests are rate-limited per key (5 an hour)', async () => {
    const sim = makeSim('request-rate');
    const bob = sim.user('bob', 2);
    await sim.startAll();
    const mallory = stranger(sim, '10.6.6.8');
    const stamp = await mallory.stampFor(bob);
    for (let i = 0; i < 7; i++) {
      const session = ChatSession.connect(mallory.ctx, mallory.utp, bob.address, bob.identity.publicKey, {
        isXX: true,
      });
      session.send({ type: 'request', name: 'm', message: `ask ${i}`, stamp });
      await sim.until(() => !session.isOpen, 20_000);
    }
    const stored = bob.store.requests.get(mallory.identity.publicKey, 'incoming');
    assert.equal(stored?.attempts, 5);
    assert.equal(bob.node.requests().length, 1);
    mallory.utp.close();
  });

  test('tampered packets produce no message; the original arrives once after the path heals', async () => {
    const sim = makeSim('tamper');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    await befriend(sim, alice, bob);
    const network = sim.sim.network;
    const route = network.route.bind(network);
    let tampered = 0;
    let isTampering = true;
    network.route = (bytes: Uint8Array, from: UdpAddress, to: UdpAddress) => {
      const copy = Buffer.from(bytes);
      // uTP data packets (type 0, version 1) from Alice to Bob with a payload: flip one payload byte.
      if (isTampering && from.host === alice.address.host && copy[0] === 0x01 && copy.length > 40) {
        copy[copy.length - 5] = (copy[copy.length - 5] as number) ^ 0x01;
        tampered++;
      }
      route(copy, from, to);
    };
    const texts: string[] = [];
    bob.node.on('message', (e) => texts.push(e.message.text));
    await alice.node.send('bob', 'the real text');
    await sim.until(() => tampered > 0 && !bob.node.isConnected('alice'), 30_000);
    assert.equal(countMessages(bob), 0);
    isTampering = false;
    await sim.until(() => alice.node.messages('bob')[0]?.state === 'delivered', 60_000);
    assert.deepEqual(texts, ['the real text']);
    assert.equal(countMessages(bob), 1);
  });

  test('replayed datagrams of a whole session produce no message', async () => {
    const sim = makeSim('replay');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    await befriend(sim, alice, bob);
    const network = sim.sim.network;
    const route = network.route.bind(network);
    const captured: Buffer[] = [];
    network.route = (bytes: Uint8Array, from: UdpAddress, to: UdpAddress) => {
      if (from.host === alice.address.host && to.host === bob.address.host) captured.push(Buffer.from(bytes));
      route(bytes, from, to);
    };
    // A fresh session (Bob restarts, Alice redials) that carries one message: capture all of Alice's packets.
    await sim.restart(bob);
    await bob.node.start();
    await alice.node.send('bob', 'once only');
    await sim.until(() => alice.node.messages('bob')[0]?.state === 'delivered', 30_000);
    assert.ok(captured.length > 3);
    // Bob restarts again (new ephemeral keys, new connection ids); the captured packets are replayed to him.
    await sim.restart(bob);
    await bob.node.start();
    const texts: string[] = [];
    bob.node.on('message', (e) => texts.push(e.message.text));
    const replayer = sim.sim.network.createTransport({ host: '10.6.6.7', port: 7000 });
    for (const packet of captured) replayer.send(packet, bob.address);
    await sim.sim.settle(2000, 10);
    // Replayed as if from Alice's own address, too.
    network.route = route;
    for (const packet of captured) route(packet, alice.address, bob.address);
    await sim.sim.settle(2000, 10);
    assert.deepEqual(texts, []);
    assert.equal(countMessages(bob), 1);
  });

  for (const [seed, jitterMs] of [
    ['simultaneous', 0],
    ['simultaneous-j1', 8],
    ['simultaneous-j2', 20],
  ] as const) {
    test(`simultaneous open (${seed}, jitter ${jitterMs} ms): both keep the session the lower key initiated`, async () => {
      const sim = makeSim(seed);
      sim.sim.network.link.jitterMs = jitterMs;
      const alice = sim.user('alice', 1);
      const bob = sim.user('bob', 2);
      // Friends already (as after an earlier exchange), each knowing the other's endpoint: both dial at t = 0.
      alice.store.contacts.upsert(bob.identity.publicKey, 'accepted', 'bob');
      alice.store.contacts.noteEndpoint(bob.identity.publicKey, bob.address, 'session');
      bob.store.contacts.upsert(alice.identity.publicKey, 'accepted', 'alice');
      bob.store.contacts.noteEndpoint(alice.identity.publicKey, alice.address, 'session');
      const presence: string[] = [];
      alice.node.on('presence', (p) => presence.push(`alice:${p.presence}`));
      bob.node.on('presence', (p) => presence.push(`bob:${p.presence}`));
      await Promise.all([alice.node.start(), bob.node.start()]);
      await sim.until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'));
      await sim.sim.settle(60_000, 50);
      const isAliceLower = Buffer.compare(alice.identity.publicKey, bob.identity.publicKey) < 0;
      assert.equal(alice.node.sessionInfo('bob')?.isInitiator, isAliceLower);
      assert.equal(bob.node.sessionInfo('alice')?.isInitiator, !isAliceLower);
      // Online once each, never lost: the duplicate was closed on both sides without a flap.
      assert.deepEqual(
        presence.filter((p) => !p.endsWith('online')),
        [],
      );
      await alice.node.send('bob', 'after the race');
      await sim.until(() => alice.node.messages('bob')[0]?.state === 'delivered');
    });
  }

  test('keepalive holds an idle session; a silent peer is detected dead and shown away', async () => {
    const sim = makeSim('keepalive');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    await befriend(sim, alice, bob);
    await sim.sim.settle(120_000, 100);
    assert.ok(alice.node.isConnected('bob'));
    // Bob's machine vanishes (no FIN, no reset): Alice notices within the dead-peer time.
    sim.stop(bob);
    const tookMs = await sim.until(() => !alice.node.isConnected('bob'), 120_000, 50);
    assert.ok(tookMs <= 60_000, `dead after ${tookMs} ms`);
    await sim.until(() => alice.node.contacts()[0]?.presence === 'away', 10_000);
    assert.ok((alice.node.contacts()[0]?.lastSeen ?? 0) > 0);
  });

  test('after a restart a friend is reconnected from last known endpoints within 5 s; queued messages flow', async (t) => {
    const sim = makeSim('restart');
    const alice = sim.user('alice', 1);
    const bob = sim.user('bob', 2);
    await sim.startAll();
    await befriend(sim, alice, bob);
    sim.stop(bob);
    await sim.until(() => !alice.node.isConnected('bob'), 120_000, 50);
    await alice.node.send('bob', 'while you were away');
    assert.equal(alice.node.messages('bob')[0]?.state, 'queued');
    await sim.restart(bob);
    await bob.node.start();
    const tookMs = await sim.until(
      () => bob.node.isConnected('alice') && alice.node.isConnected('bob'),
      5000,
    );
    assert.ok(tookMs <= 5000);
    t.diagnostic(`reconnected ${tookMs} ms (virtual) after the restart`);
    await sim.until(() => alice.node.messages('bob')[0]?.state === 'delivered', 10_000);
    assert.deepEqual(
      bob.node.messages('alice').map((m) => m.text),
      ['while you were away'],
    );
  });
});
