/**
 * The whole punch chain on a MemoryNetwork under a ManualClock: two ChatNodes, each behind a simulated NAT, a
 * public DHT of dhtchat nodes. The NAT model is the part that matters for punching: a packet from outside gets
 * in only if the node sent to that exact address in the last 30 s (address- and port-dependent filtering; the
 * mapping keeps the node's address, so it is endpoint-independent). The real thing, with Linux NATs in network
 * namespaces, is test/integration/nat-punch.test.ts.
 *
 * Without the notes (dropped at the NATs) the session still comes up, later: Bob reads Alice's record on the fast
 * schedule (she is alive and he cannot reach her, rendezvous-schedule.ts) and dials her while her dials keep
 * her NAT open towards him — the record-coordinated path that needs no introducer (test/chat/nat-pairs.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createChatHost } from '../../src/chat/chat-host.ts';
import { identityFromSeed } from '../../src/chat/identity.ts';
import { RENDEZVOUS_TIMING } from '../../src/chat/rendezvous-service.ts';
import { ChatStore } from '../../src/chat/store/chat-store.ts';
import { addressKey, type Clock, type DatagramTransport, SeededRandom } from '../../src/runtime/index.ts';
import { SimNet } from '../dht/dht-node-harness.ts';

const NAT_TIMEOUT_MS = 30_000;
/** How long after Alice's start the session must (punch) or must not (control) be up; before Bob's next poll. */
const WINDOW_MS = 10_000;

/** Filtering NAT in front of a transport; counts what it dropped. dropNotes: also drop forwarded punch notes. */
function behindNat(
  inner: DatagramTransport,
  clock: Clock,
  dropNotes: boolean,
): DatagramTransport & { dropped: () => number } {
  const sentTo = new Map<string, number>();
  let dropped = 0;
  return {
    send: (bytes, to) => {
      sentTo.set(addressKey(to), clock.monotonicMs());
      inner.send(bytes, to);
    },
    onPacket: (handler) =>
      inner.onPacket((bytes, from) => {
        const lastMs = sentTo.get(addressKey(from));
        const isNote = dropNotes && bytes.includes('12:dhtchat_note');
        if (lastMs !== undefined && clock.monotonicMs() - lastMs <= NAT_TIMEOUT_MS && !isNote)
          handler(bytes, from);
        else dropped++;
      }),
    localAddress: () => inner.localAddress(),
    close: () => inner.close(),
    dropped: () => dropped,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'dhtchat-nat-sim-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Two NATed friends, Bob online first; Alice arrives and dials. */
async function scenario(dropNotes: boolean) {
  {
    const sim = new SimNet('nat-punch-sim');
    const clock = sim.clock;
    const first = sim.add({ host: '10.9.0.1' });
    for (let i = 1; i < 10; i++) sim.add({ host: `10.9.0.${i + 1}`, bootstrap: [first.address] });
    await sim.startAll();

    const people = ['alice', 'bob'].map((label, i) => {
      const identity = identityFromSeed(Buffer.alloc(32, i + 1));
      const address = { host: `10.1.0.${i + 1}`, port: 7000 };
      const random = new SeededRandom(`nat-punch-sim/${label}`);
      const nat = behindNat(sim.network.createTransport(address), clock, dropNotes);
      const store = ChatStore.open({
        path: join(dir, `${label}-${dropNotes ? 'control' : 'punch'}.sqlite`),
        ownPublicKey: identity.publicKey,
        clock,
        random,
        synchronous: 'NORMAL',
      });
      const host = createChatHost({
        transport: nat,
        store,
        identity,
        clock,
        random,
        dht: { allowPrivate: true, bootstrap: [first.address], isRoutingTableKept: false },
        localEndpoints: () => [address],
        name: label,
        // About punching alone: relay lookups would add DHT traffic between the two (opening their NATs by chance).
        isRelayEnabled: false,
      });
      return { label, identity, nat, store, host, dht: host.dht, node: host.chat };
    });
    const [alice, bob] = people as [(typeof people)[0], (typeof people)[0]];
    // Friends already (the request flow across NATs is not this test's subject).
    alice.store.contacts.upsert(bob.identity.publicKey, 'accepted', 'bob');
    bob.store.contacts.upsert(alice.identity.publicKey, 'accepted', 'alice');
    const until = async (cond: () => boolean, maxMs: number): Promise<void> => {
      for (let t = 0; t <= maxMs && !cond(); t += 20) await sim.settle(20, 20);
      assert.ok(cond(), `not within ${maxMs} ms of virtual time`);
    };
    try {
      // Bob is online first: he finds introducers among the DHT nodes and lists them in his records.
      await sim.run(bob.host.join());
      await bob.host.start();
      // Alice comes after Bob's first record poll: his next one is 2 × pollFirstMs later (back-off).
      await sim.settle(RENDEZVOUS_TIMING.pollFirstMs + 5000, 20);
      if (!dropNotes) assert.ok(bob.dht.stats().notes.notesIn > 0, 'the introducer probes came back to Bob');
      // Alice arrives, fetches Bob's record, dials him and asks his introducers for a punch.
      await sim.run(alice.host.join());
      await alice.host.start();
      if (dropNotes) {
        await until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'), 3 * WINDOW_MS);
        assert.ok(bob.nat.dropped() > 0, "Bob's NAT dropped Alice's packets");
        return;
      }
      await until(() => alice.node.isConnected('bob') && bob.node.isConnected('alice'), WINDOW_MS);
      const forwarded = sim.nodes.reduce((n, s) => n + s.node.stats().notes.forwarded, 0);
      assert.ok(forwarded > 0, 'introducers forwarded notes');
      assert.ok(alice.nat.dropped() + bob.nat.dropped() > 0, 'the NATs did drop unsolicited packets');
      const sent = await alice.node.send('bob', 'through the NAT');
      await until(
        () => alice.node.messages('bob').find((m) => m.id === sent.id)?.state === 'delivered',
        30_000,
      );
      assert.equal(bob.node.messages('alice')[0]?.text, 'through the NAT');
    } finally {
      for (const p of people) await p.host.close();
      sim.close();
    }
  }
}

describe('hole punching through introducers (simulated NATs)', { timeout: 120_000 }, () => {
  test('two NATed friends get a session and a message through, after a punch', () => scenario(false));
  test('with the punch notes dropped, the fast record polls bring the session up', () => scenario(true));
});
