/** Two ChatNodes on real UDP sockets (127.0.0.1, port 0) and the system clock: the online path end to end. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ChatHost, createChatHost } from '../../src/chat/chat-host.ts';
import { identityFromSeed } from '../../src/chat/identity.ts';
import { ChatStore } from '../../src/chat/store/chat-store.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../../src/runtime/index.ts';

/** Polls cond every 10 ms for at most maxMs of real time (real sockets: there is no virtual time to jump). */
async function until(cond: () => boolean, maxMs = 10_000): Promise<void> {
  for (let waited = 0; waited < maxMs; waited += 10) {
    if (cond()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail('condition not met in time');
}

test('ChatNode over loopback UDP: request, accept, message, delivered and read', {
  timeout: 30_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-udp-'));
  const hosts: ChatHost[] = [];
  try {
    const make = async (label: string, seed: number) => {
      const identity = identityFromSeed(Buffer.alloc(32, seed));
      const socket = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
      const store = ChatStore.open({
        path: join(dir, `${label}.sqlite`),
        ownPublicKey: identity.publicKey,
        clock: systemClock,
        random: cryptoRandom,
      });
      const address = socket.localAddress();
      const host = createChatHost({
        transport: socket,
        store,
        identity,
        clock: systemClock,
        random: cryptoRandom,
        dht: false,
        localEndpoints: () => [address],
        name: label,
      });
      hosts.push(host);
      await host.start();
      const node = host.chat;
      return { node, address };
    };
    const alice = await make('alice', 1);
    const bob = await make('bob', 2);
    await alice.node.addFriend(bob.node.code, { name: 'bob', endpoints: [bob.address] });
    await until(() => bob.node.requests().length === 1);
    await bob.node.accept(alice.node.code);
    await until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'));
    await alice.node.send('bob', 'over real UDP');
    await until(() => alice.node.messages('bob')[0]?.state === 'delivered');
    bob.node.markRead('alice');
    await until(() => alice.node.messages('bob')[0]?.state === 'read');
    assert.deepEqual(
      bob.node.messages('alice').map((m) => m.text),
      ['over real UDP'],
    );
  } finally {
    for (const host of hosts) await host.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
