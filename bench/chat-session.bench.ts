/**
 * Chat sessions on loopback UDP (two ChatNodes in one process, real sockets, real SQLite with synchronous=FULL):
 *   - connect: both nodes start (friends already, last known endpoints stored) → first message delivered; 20 runs.
 *   - latency: 100 messages one at a time over one session, send → delivered (both commits and the ack) p50/p99.
 *   - burst: 300 messages sent back to back over one session → msgs/s until the last is delivered.
 * Both nodes share one process and one disk: every message costs the sender's commit and the receiver's, each
 * an fsync with synchronous=FULL (~100/s on this VM, see "## Chat store"), which bounds the burst.
 * Run: node --import tsx bench/chat-session.bench.ts   (prints a JSON object, then a table)
 * Not the full "daemon start" number (no DHT bootstrap, no process start): the session path alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatNode } from '../src/chat/chat-node.ts';
import { identityFromSeed } from '../src/chat/identity.ts';
import { ChatStore } from '../src/chat/store/chat-store.ts';
import { DatagramDemux, UtpEndpoint } from '../src/net/index.ts';
import { cryptoRandom, systemClock, type UdpAddress, UdpTransport } from '../src/runtime/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'dhtchat-bench-'));

interface Side {
  node: ChatNode;
  address: UdpAddress;
  close(): void;
}

async function side(
  label: string,
  seed: number,
  port: number,
  peer: { seed: number; port: number },
): Promise<Side> {
  const identity = identityFromSeed(Buffer.alloc(32, seed));
  const socket = await UdpTransport.bind({ host: '127.0.0.1', port });
  const demux = new DatagramDemux(socket);
  const utp = new UtpEndpoint({ transport: demux.utp, clock: systemClock, random: cryptoRandom });
  const store = ChatStore.open({
    path: join(dir, `${label}.sqlite`),
    ownPublicKey: identity.publicKey,
    clock: systemClock,
    random: cryptoRandom,
  });
  const peerKey = identityFromSeed(Buffer.alloc(32, peer.seed)).publicKey;
  if (store.contacts.get(peerKey) === undefined) {
    store.contacts.upsert(peerKey, 'accepted', label === 'a' ? 'b' : 'a');
    store.contacts.noteEndpoint(peerKey, { host: '127.0.0.1', port: peer.port }, 'session');
  }
  const address = socket.localAddress();
  const node = new ChatNode({
    identity,
    store,
    utp,
    clock: systemClock,
    random: cryptoRandom,
    localEndpoints: () => [address],
  });
  return {
    node,
    address,
    close: () => {
      void node.close();
      utp.close();
      demux.close();
      store.close();
    },
  };
}

function waitFor(cond: () => boolean, maxMs = 15_000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - start > maxMs) reject(new Error('timeout'));
      else setImmediate(tick);
    };
    tick();
  });
}

const pct = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
};

const probe = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
const probe2 = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
const portA = probe.localAddress().port;
const portB = probe2.localAddress().port;
probe.close();
probe2.close();

const connectMs: number[] = [];
for (let run = 0; run < 20; run++) {
  const t0 = performance.now();
  const a = await side('a', 1, portA, { seed: 2, port: portB });
  const b = await side('b', 2, portB, { seed: 1, port: portA });
  await Promise.all([a.node.start(), b.node.start()]);
  const sent = await a.node.send('b', `run ${run}`);
  await waitFor(() => a.node.messages('b').some((m) => m.id === sent.id && m.state === 'delivered'));
  connectMs.push(performance.now() - t0);
  a.close();
  b.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
}

const a = await side('a', 1, portA, { seed: 2, port: portB });
const b = await side('b', 2, portB, { seed: 1, port: portA });
await Promise.all([a.node.start(), b.node.start()]);
await waitFor(() => a.node.isConnected('b'));
// Latency: one message at a time, each waited for until delivered (send → friend committed → ack committed).
const LATENCY_RUNS = 100;
const latencies: number[] = [];
for (let i = 0; i < LATENCY_RUNS; i++) {
  const at = performance.now();
  const { id } = await a.node.send('b', `ping ${i}`);
  await waitFor(() => a.node.messages('b').some((m) => m.id === id && m.state === 'delivered'));
  latencies.push(performance.now() - at);
}
// Throughput: a burst sent back to back, until the last is delivered.
const COUNT = 300;
let delivered = 0;
a.node.on('state', (e) => {
  if (e.state === 'delivered') delivered++;
});
const t0 = performance.now();
for (let i = 0; i < COUNT; i++) await a.node.send('b', `message ${i} ${'x'.repeat(100)}`);
await waitFor(() => delivered >= COUNT, 60_000);
const burstMs = performance.now() - t0;
a.close();
b.close();
rmSync(dir, { recursive: true, force: true });

const result = {
  connectToFirstDeliveredMs: { p50: pct(connectMs, 50), p95: pct(connectMs, 95), runs: connectMs.length },
  burst: {
    messages: COUNT,
    messagesPerSecond: Math.round((COUNT / burstMs) * 1000),
  },
  latencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99), runs: latencies.length },
};
console.log(JSON.stringify(result));
console.table({
  'start → first delivered (ms)': {
    p50: result.connectToFirstDeliveredMs.p50.toFixed(1),
    p95: result.connectToFirstDeliveredMs.p95.toFixed(1),
  },
  'send → delivered, one at a time (ms)': {
    p50: result.latencyMs.p50.toFixed(1),
    p95: `${result.latencyMs.p99.toFixed(1)} (p99)`,
  },
});
console.log(`burst: ${result.burst.messagesPerSecond} messages/s over one session`);
