/**
 * createChatHost (src/chat/chat-host.ts): two hosts on a MemoryNetwork under a ManualClock make a session and
 * exchange a message; close() tears down in order (the peer hears the session end, then the socket, the timers
 * and the store are gone); drop() does it synchronously; with a DHT, the join is logged and the routing table
 * outlives a restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type ChatHost, type ChatHostDhtOptions, ChatStore, createChatHost } from '../../src/chat/index.ts';
import { identityFromSeed } from '../../src/chat/identity.ts';
import { type Logger, SeededRandom, type UdpAddress } from '../../src/runtime/index.ts';
import { SimNet } from '../dht/dht-node-harness.ts';
import { recordingLogger } from '../helpers/recording-logger.ts';
import { TEST_STAMP_BITS } from './session/chat-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'dhtchat-chat-host-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function host(
  sim: SimNet,
  label: string,
  seedByte: number,
  opts: { dht?: ChatHostDhtOptions | false; logger?: Logger } = {},
): { host: ChatHost; address: UdpAddress } {
  const identity = identityFromSeed(Buffer.alloc(32, seedByte));
  const address = { host: `10.1.0.${seedByte}`, port: 7000 };
  const random = new SeededRandom(`${sim.seed}/${label}`);
  const store = ChatStore.open({
    path: join(dir, `${sim.seed}-${label}.sqlite`),
    ownPublicKey: identity.publicKey,
    clock: sim.clock,
    random,
    synchronous: 'NORMAL',
  });
  const created = createChatHost({
    transport: sim.network.createTransport(address),
    store,
    identity,
    clock: sim.clock,
    random,
    dht: opts.dht ?? false,
    localEndpoints: () => [address],
    name: label,
    requestStampBits: TEST_STAMP_BITS,
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
  });
  return { host: created, address };
}

async function friends(sim: SimNet, alice: ChatHost, bob: ChatHost, bobAddress: UdpAddress): Promise<void> {
  await alice.chat.addFriend(bob.chat.code, { name: 'bob', endpoints: [bobAddress] });
  await sim.until(() => bob.chat.requests().length === 1, 60_000);
  await bob.chat.accept(alice.chat.code);
  await sim.until(() => alice.chat.isConnected('bob') && bob.chat.isConnected('alice'), 60_000);
}

/** Alice and Bob, chat hosts on a memory network, started and friends with a session up. */
async function startedFriends(seed: string) {
  const sim = new SimNet(seed);
  const alice = host(sim, 'alice', 1);
  const bob = host(sim, 'bob', 2);
  await alice.host.start();
  await bob.host.start();
  await friends(sim, alice.host, bob.host, bob.address);
  return { sim, alice, bob };
}

describe('createChatHost', { timeout: 60_000 }, () => {
  test('two hosts make a session and exchange a message', async () => {
    const { sim, alice, bob } = await startedFriends('chat-host-message');
    try {
      const got: string[] = [];
      bob.host.chat.on('message', (e) => got.push(e.message.text));
      const sent = await alice.host.chat.send('bob', 'hello through the host');
      await sim.until(() => alice.host.chat.messages('bob')[0]?.state === 'delivered', 30_000);
      assert.equal(sent.state, 'queued');
      assert.deepEqual(got, ['hello through the host']);
      assert.ok(alice.host.demux.counters.utp > 0, 'the session ran over the demux');
      assert.equal(alice.host.dht, undefined);
    } finally {
      await alice.host.close();
      await bob.host.close();
      sim.close();
    }
  });

  test('close() ends the sessions before the socket closes, then leaves no timer, socket or store open', async () => {
    const { sim, alice, bob } = await startedFriends('chat-host-close');

    await alice.host.close();
    // uTP closed while the socket was still open (its resets went out): Bob hears the session end at once, not
    // after his liveness timeout.
    await sim.until(() => !bob.host.chat.isConnected('alice'), 1_000);
    // The socket is closed: its address is free again.
    sim.network.createTransport(alice.address).close();
    // The store is closed.
    assert.throws(() => alice.host.chat.contacts());
    await bob.host.close();
    // Packets in flight land (or find nobody); after that, neither host left a timer behind.
    await sim.settle(1_000);
    assert.equal(sim.clock.pendingCount, 0);
    sim.close();
  });

  test('drop() stops at once, as a killed process: socket and store closed before it returns', async () => {
    const { sim, alice, bob } = await startedFriends('chat-host-drop');
    try {
      alice.host.drop();
      // No await in between: a harness restarts the user on the same address right away.
      sim.network.createTransport(alice.address).close();
      assert.throws(() => alice.host.chat.contacts());
      await sim.until(() => !bob.host.chat.isConnected('alice'), 1_000);
    } finally {
      alice.host.drop();
      await bob.host.close();
      sim.close();
    }
  });

  test('close() while the DHT is still joining cancels the join wait and the table saving', async () => {
    const sim = new SimNet('chat-host-joining');
    // Nobody answers at the bootstrap address: the join goes on past close().
    const alice = host(sim, 'alice', 1, {
      dht: { bootstrap: [{ host: '10.9.9.9', port: 6881 }], allowPrivate: true },
    });
    await alice.host.start();
    await sim.settle(1_000);
    assert.ok(sim.clock.pendingCount > 0, 'the join, its wait and the table saving are pending');
    await alice.host.close();
    await sim.settle(1_000);
    assert.equal(sim.clock.pendingCount, 0);
    sim.close();
  });

  test('with a DHT: the join is logged and the routing table outlives a restart', async () => {
    const sim = new SimNet('chat-host-dht');
    const first = sim.add({ host: '10.9.0.1' });
    for (let i = 1; i < 6; i++) sim.add({ host: `10.9.0.${i + 1}`, bootstrap: [first.address] });
    await sim.startAll();
    const dht = { bootstrap: [first.address], allowPrivate: true };
    try {
      const { logger, lines } = recordingLogger();
      const alice = host(sim, 'alice', 1, { dht, logger });
      await sim.run(alice.host.join());
      await alice.host.start();
      const joined = lines.find((l) => l['event'] === 'bootstrapped');
      assert.ok(joined !== undefined && typeof joined['nodes'] === 'number' && joined['nodes'] > 0);
      const id = alice.host.dht?.id;
      assert.ok(id !== undefined);
      await alice.host.close();

      // A second start on the same store rejoins as the same node, from the saved table.
      const again = host(sim, 'alice', 1, { dht: { ...dht, bootstrap: [] } });
      assert.ok(again.host.dht?.id.equals(id) === true, 'the saved state was loaded');
      assert.ok((again.host.dht?.routingTableSize() ?? 0) > 0, 'with its contacts');
      await again.host.close();

      const fresh = host(sim, 'alice', 1, { dht: { ...dht, isRoutingTableKept: false } });
      assert.equal(fresh.host.dht?.routingTableSize(), 0, 'isRoutingTableKept: false starts empty');
      await fresh.host.close();
    } finally {
      sim.close();
    }
  });
});
