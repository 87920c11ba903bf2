/**
 * Joining and rejoining (src/dht/joiner.ts) on a MemoryNetwork in virtual time: a resolver that fails and then
 * works, a bootstrap address where nobody listens yet, a whole network that goes silent, and a node whose
 * external address changes under it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DhtNode, type JoinEvent } from '../../src/dht/index.ts';
import { type DatagramTransport, SeededRandom, type UdpAddress } from '../../src/runtime/index.ts';
import { createSimNet, type SimNet } from './dht-node-harness.ts';

/** Join events with the virtual time they happened at. */
interface Seen {
  readonly atMs: number;
  readonly event: JoinEvent;
}

function recorder(net: SimNet): { seen: Seen[]; onJoinEvent: (event: JoinEvent) => void } {
  const seen: Seen[] = [];
  return { seen, onJoinEvent: (event) => seen.push({ atMs: net.clock.monotonicMs(), event }) };
}

const kinds = (seen: readonly Seen[]): string[] => seen.map((s) => s.event.kind);
const joinedAfter = (seen: readonly Seen[], fromMs: number): Seen | undefined =>
  seen.find((s) => s.atMs >= fromMs && s.event.kind === 'joined');

describe('Joiner: back-off while the DHT cannot be reached', () => {
  test('a resolver failing 4 times: join_failed after 1, 2, 4, 8 s, then joined by the 5th attempt', async () => {
    const net = await createSimNet('join-resolver', 10);
    const entry = net.nodes[0]!.address;
    let calls = 0;
    const { seen, onJoinEvent } = recorder(net);
    const x = net.add({
      host: '10.0.9.1',
      bootstrap: async () => {
        calls++;
        if (calls <= 4) throw new Error('router.example: name not found');
        return [entry];
      },
      onJoinEvent,
    });
    try {
      const startMs = net.clock.monotonicMs();
      await net.run(x.node.start()); // Never rejects: the first attempt failed, and said so.
      assert.deepEqual(kinds(seen), ['join_failed']);
      const tookMs = await net.until(() => joinedAfter(seen, startMs) !== undefined, 60_000);
      const failed = seen.filter((s) => s.event.kind === 'join_failed').map((s) => s.event);
      assert.deepEqual(
        failed.map((e) => (e.kind === 'join_failed' ? [e.attempt, e.retryInMs] : [])),
        [
          [1, 1000],
          [2, 2000],
          [3, 4000],
          [4, 8000],
        ],
      );
      for (const e of failed) assert.match(e.kind === 'join_failed' ? e.reason : '', /name not found/);
      const joined = joinedAfter(seen, startMs)!.event;
      assert.ok(joined.kind === 'joined' && joined.isRejoin && joined.nodes > 0, JSON.stringify(joined));
      // 1 + 2 + 4 + 8 s of back-off, plus one lookup.
      assert.ok(tookMs <= 15_000 + 3_000, `joined after ${tookMs} ms`);
      assert.equal(calls, 5);
      assert.ok(x.node.routingTableSize() >= 8);
    } finally {
      x.node.close();
      net.close();
    }
  });

  test('retries are capped at 16 s: a bootstrap node that appears after 3 minutes is joined within 30 s', async () => {
    const net = await createSimNet('join-late', 10);
    const late: UdpAddress = { host: '10.0.9.9', port: 6881 };
    const { seen, onJoinEvent } = recorder(net);
    const x = net.add({ host: '10.0.9.1', bootstrap: [late], onJoinEvent });
    try {
      await net.run(x.node.start());
      await net.settle(180_000, 50);
      const delays = seen.map((s) => (s.event.kind === 'join_failed' ? s.event.retryInMs : -1));
      assert.deepEqual(delays.slice(0, 6), [1000, 2000, 4000, 8000, 16_000, 16_000]);
      assert.ok(
        delays.every((d) => d === 16_000 || d <= 8000),
        `every event a join_failed, capped: ${delays}`,
      );
      const failure = seen[0]!.event;
      assert.match(failure.kind === 'join_failed' ? failure.reason : '', /no DHT node answered/);
      // Nobody listened, so nothing was joined; now the bootstrap node comes up (and joins the others).
      const bootstrapNode = net.add({ host: late.host, bootstrap: [net.nodes[0]!.address] });
      await net.run(bootstrapNode.node.start());
      const upMs = net.clock.monotonicMs();
      const tookMs = await net.until(() => joinedAfter(seen, upMs) !== undefined, 60_000);
      assert.ok(tookMs <= 30_000, `joined ${tookMs} ms after the bootstrap node came up`);
      const joined = joinedAfter(seen, upMs)!.event;
      assert.ok(joined.kind === 'joined' && joined.isRejoin && joined.nodes >= 2, JSON.stringify(joined));
    } finally {
      net.close();
    }
  });

  test('an answer to another query while waiting: joined at the next tick, before the retry is due', async () => {
    const net = await createSimNet('join-answer', 10);
    const { seen, onJoinEvent } = recorder(net);
    let routers: UdpAddress[] = [{ host: '10.0.9.9', port: 6881 }];
    const x = net.add({ host: '10.0.9.1', bootstrap: async () => routers, onJoinEvent });
    try {
      await net.run(x.node.start());
      // The 5th failure has just happened: the next retry is 16 s away.
      await net.until(() => kinds(seen).length === 5, 60_000);
      const last = seen.at(-1)!.event;
      assert.ok(last.kind === 'join_failed' && last.retryInMs === 16_000, JSON.stringify(last));
      routers = [net.nodes[0]!.address];
      const pingedMs = net.clock.monotonicMs();
      await net.run(x.node.ping(net.nodes[1]!.address)); // e.g. a chat lookup that got through
      await net.until(() => joinedAfter(seen, pingedMs) !== undefined, 30_000);
      const tookMs = joinedAfter(seen, pingedMs)!.atMs - pingedMs;
      assert.ok(tookMs <= 5_000 + 1_000, `joined ${tookMs} ms after the answer, not 16 s (a tick is 5 s)`);
      const retries = seen.filter((e) => e.atMs > pingedMs && e.event.kind === 'join_failed');
      assert.deepEqual(retries, [], 'no failed retry in between');
    } finally {
      net.close();
    }
  });
});

describe('Joiner: joining again', () => {
  test('every node goes silent: the DHT is declared lost and joined again through the re-resolved routers', async () => {
    const net = await createSimNet('join-lost', 10);
    let routers: UdpAddress[] = [net.nodes[0]!.address];
    const { seen, onJoinEvent } = recorder(net);
    const x = net.add({ host: '10.0.9.1', bootstrap: async () => routers, onJoinEvent });
    const oldNetwork = net.nodes.filter((n) => n !== x);
    try {
      await net.run(x.node.start());
      assert.deepEqual(kinds(seen), ['joined']);
      await net.settle(20_000, 50);
      // The whole network X knows goes away, the router included.
      for (const n of oldNetwork) {
        n.node.close();
        n.transport.close();
      }
      const goneMs = net.clock.monotonicMs();
      await net.until(() => seen.some((s) => s.event.kind === 'rejoining'), 150_000, 20);
      const lost = seen.find((s) => s.event.kind === 'rejoining')!;
      assert.match(
        lost.event.kind === 'rejoining' ? lost.event.reason : '',
        /no DHT node answered for \d+ s|every node left the routing table/,
      );
      assert.ok(lost.atMs - goneMs <= 120_000, `noticed after ${lost.atMs - goneMs} ms`);
      await net.settle(10_000, 20);
      assert.equal(kinds(seen).at(-1), 'join_failed', 'nobody to join yet');
      // Another network comes up, under the name the resolver now returns.
      const first = net.add({ host: '10.1.0.1' });
      const newNetwork = [first];
      for (let i = 2; i <= 8; i++)
        newNetwork.push(net.add({ host: `10.1.0.${i}`, bootstrap: [first.address] }));
      await net.run(Promise.all(newNetwork.map((n) => n.node.start())));
      routers = [first.address];
      const upMs = net.clock.monotonicMs();
      const tookMs = await net.until(() => joinedAfter(seen, upMs) !== undefined, 30_000);
      const joined = joinedAfter(seen, upMs)!.event;
      assert.ok(joined.kind === 'joined' && joined.isRejoin, JSON.stringify(joined));
      assert.ok(tookMs <= 30_000, `joined ${tookMs} ms after the new router came up`);
      const found = await net.run(x.node.findNode(Buffer.alloc(20, 0x33)));
      assert.ok(
        found.length > 0 && found.every((n) => n.address.host.startsWith('10.1.0.')),
        'X now knows the new network',
      );
    } finally {
      net.close();
    }
  });

  test('an idle node on a working network stays joined: its liveness probes are answered', async () => {
    const net = await createSimNet('join-quiet', 10);
    const { seen, onJoinEvent } = recorder(net);
    const x = net.add({ host: '10.0.9.1', bootstrap: [net.nodes[0]!.address], onJoinEvent });
    try {
      await net.run(x.node.start());
      const sentAtJoin = x.node.stats().rpc.sent;
      // Ten idle minutes: X has nothing to ask, so only its probes (and maintenance) speak for it.
      await net.settle(600_000, 100);
      assert.deepEqual(kinds(seen), ['joined']);
      assert.ok(x.node.stats().rpc.sent > sentAtJoin + 10, 'it did probe');
    } finally {
      net.close();
    }
  });

  test('a confirmed change of the external address is followed by a join lookup', async () => {
    const net = await createSimNet('join-moved', 12);
    const { seen, onJoinEvent } = recorder(net);
    const before: UdpAddress = { host: '10.0.9.1', port: 6881 };
    const after: UdpAddress = { host: '10.0.9.2', port: 6881 };
    const transport = movingTransport(net, before, after);
    const x = new DhtNode({
      transport,
      clock: net.clock,
      random: new SeededRandom('join-moved/x'),
      allowPrivate: true,
      bootstrap: [net.nodes[0]!.address],
      onJoinEvent,
    });
    try {
      await net.run(x.start());
      await net.run(x.findNode(Buffer.alloc(20, 0x11)));
      assert.deepEqual(x.externalAddress(), before);
      assert.deepEqual(kinds(seen), ['joined']);
      const selfLookups = (): number => x.stats().lookups['find_node'] ?? 0;
      transport.move();
      // Whatever the node does next (here: lookups for others) brings the votes for the new address.
      for (let i = 0; i < 4 && !seen.some((s) => s.event.kind === 'rejoining'); i++) {
        await net.run(x.findNode(Buffer.alloc(20, 0x20 + i)));
      }
      const rejoining = seen.find((s) => s.event.kind === 'rejoining')?.event;
      assert.ok(rejoining?.kind === 'rejoining', `events: ${JSON.stringify(seen)}`);
      assert.equal(rejoining.reason, 'our external address changed from 10.0.9.1 to 10.0.9.2');
      const lookupsAtChange = selfLookups();
      await net.until(() => kinds(seen).at(-1) === 'joined', 30_000);
      assert.ok(selfLookups() > lookupsAtChange, 'a join lookup ran after the change');
      assert.deepEqual(x.externalAddress(), after);
    } finally {
      x.close();
      transport.close();
      net.close();
    }
  });
});

/** A socket whose address changes (a laptop moving to another network): sends from `a`, then from `b`. */
function movingTransport(net: SimNet, a: UdpAddress, b: UdpAddress): DatagramTransport & { move(): void } {
  const first = net.network.createTransport(a);
  const second = net.network.createTransport(b);
  let current = first;
  return {
    send: (bytes, to) => current.send(bytes, to),
    onPacket: (handler) => {
      first.onPacket(handler);
      second.onPacket(handler);
    },
    localAddress: () => current.localAddress(),
    close: () => {
      first.close();
      second.close();
    },
    move: () => {
      current = second;
    },
  };
}
