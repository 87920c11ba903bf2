/**
 * The bootstrap worker on both datagram backends: the batched addon (when built) and the node:dgram fallback
 * answer the same queries the same way; with the addon, two workers bind one port with SO_REUSEPORT and the
 * kernel spreads requesters over them.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, test } from 'node:test';
import { type BootstrapWorkerConfig, startBootstrapWorker } from '../../src/app/bootstrap-worker.ts';
import { nodeIdForHost } from '../../src/dht/index.ts';
import { BatchedUdpSocket, nullLogger, SeededRandom } from '../../src/runtime/index.ts';
import { type BDict, decodeBencode } from '../../src/wire/index.ts';

const random = new SeededRandom('bootstrap-worker');

function config(overrides: Partial<BootstrapWorkerConfig>): BootstrapWorkerConfig {
  return {
    workerIndex: 0,
    isClusterWorker: false,
    host: '127.0.0.1',
    port: 0,
    ipv6: [],
    ids: [nodeIdForHost('127.0.0.1', random)],
    masterSecret: Buffer.alloc(32, 7),
    nodes: 1000,
    pingQueue: 1000,
    responseSize: 16,
    pingDelayMs: 60_000,
    secretRotateMs: 60_000,
    dataDir: undefined,
    isPrivateAllowed: true,
    isIdVerified: true,
    version: undefined,
    crossPollinate: undefined,
    logger: nullLogger,
    ...overrides,
  };
}

/** A client socket on 127.0.0.x that sends find_node and collects decoded replies. */
async function client(host: string): Promise<{ ask: (port: number) => Promise<BDict>; close: () => void }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const query = Buffer.concat([
    Buffer.from('d1:ad2:id20:', 'latin1'),
    nodeIdForHost(host, random),
    Buffer.from('6:target20:bbbbbbbbbbbbbbbbbbbbe1:q9:find_node1:t2:aa1:y1:qe', 'latin1'),
  ]);
  return {
    ask: (port) =>
      new Promise<BDict>((resolve, reject) => {
        const timer = setInterval(() => socket.send(query, port, '127.0.0.1'), 1000);
        const deadline = setTimeout(() => {
          clearInterval(timer);
          reject(new Error('no reply within 10 s'));
        }, 10_000);
        socket.once('message', (reply) => {
          clearInterval(timer);
          clearTimeout(deadline);
          const decoded = decodeBencode(reply);
          if (decoded.ok) resolve(decoded.value as BDict);
          else reject(new Error(decoded.code));
        });
        socket.send(query, port, '127.0.0.1');
      }),
    close: () => socket.close(),
  };
}

const backends = BatchedUdpSocket.isAvailable() ? [true, false] : [false];

for (const isBatchingAllowed of backends) {
  describe(isBatchingAllowed ? 'bootstrap worker, batched' : 'bootstrap worker, node:dgram', () => {
    test('answers find_node with the requester in ip, our id, and the filler nodes', async () => {
      const worker = await startBootstrapWorker(config({ isBatchingAllowed }));
      const clients = [await client('127.0.0.2'), await client('127.0.0.3')];
      try {
        assert.equal(worker.backend, isBatchingAllowed ? 'batched' : 'dgram');
        const first = await clients[0]!.ask(worker.address.port);
        const ip = first['ip'] as Buffer;
        assert.deepEqual([...ip.subarray(0, 4)], [127, 0, 0, 2]);
        assert.equal(first['y']!.toString(), 'r');
        // The second requester is topped up with the first (a BEP 42-valid requester) while the buffer is empty.
        const second = await clients[1]!.ask(worker.address.port);
        const nodes = (second['r'] as BDict)['nodes'] as Buffer;
        assert.equal(nodes.length % 26, 0);
        assert.ok(nodes.length >= 26);
        assert.deepEqual([...nodes.subarray(20, 24)], [127, 0, 0, 2]);
        assert.ok(worker.snapshot().responses >= 2);
      } finally {
        for (const c of clients) c.close();
        worker.stop();
      }
    });
  });
}

describe('bootstrap workers on SO_REUSEPORT sockets', { skip: !BatchedUdpSocket.isAvailable() }, () => {
  const stops: Array<() => void> = [];
  after(() => {
    for (const stop of stops) stop();
  });

  test('two workers share one port and the kernel spreads 16 requesters over them', async () => {
    const first = await startBootstrapWorker(config({ isClusterWorker: true }));
    stops.push(() => first.stop());
    const port = first.address.port;
    const second = await startBootstrapWorker(config({ isClusterWorker: true, port, workerIndex: 1 }));
    stops.push(() => second.stop());
    assert.equal(second.address.port, port);
    const clients = await Promise.all(Array.from({ length: 16 }, (_, i) => client(`127.0.0.${i + 2}`)));
    try {
      await Promise.all(clients.map((c) => c.ask(port)));
      const a = first.snapshot().responses;
      const b = second.snapshot().responses;
      assert.ok(
        a + b >= 16,
        'every requester was answered (a resend on a slow machine may be answered twice)',
      );
      assert.ok(a > 0 && b > 0, `both workers answered (${a} / ${b})`);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
