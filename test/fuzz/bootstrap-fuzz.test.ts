/**
 * Fuzz target for the bootstrap server's hot path: 120,000 seeded mutations of real queries and pongs (bit
 * flips, byte insertions and deletions, truncations, splices, random bytes) go through handleDatagram from
 * varied sources. Nothing may throw; every reply must decode strictly and stay within AMPLIFICATION_LIMIT × its
 * request; buffers and queues stay within their capacities. The seed is printed on failure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AMPLIFICATION_LIMIT } from '../../src/bootstrap/index.ts';
import { nodeIdForHost } from '../../src/dht/index.ts';
import { SeededRandom } from '../../src/runtime/index.ts';
import { decodeBencode } from '../../src/wire/index.ts';
import { decode, makeServer, pong, query } from '../bootstrap/server-harness.ts';

const PACKETS = 120_000;
const SEED = 'bootstrap-fuzz-1';

test(`bootstrap server survives ${PACKETS} mutated packets (seed ${SEED})`, () => {
  const random = new SeededRandom(SEED);
  const { server, sent } = makeServer({ nodesCapacity: 64, pingQueueCapacity: 64, recentCapacity: 256 });
  const hosts = [
    '127.0.0.1',
    '127.0.0.2',
    '1.2.3.4',
    '10.0.0.1',
    '::1',
    '2001:db8::1',
    '0.0.0.0',
    'not-an-ip',
  ];
  // Real cookies: run one ping cycle so the pong path sees genuine tids to mutate.
  const seeds: Buffer[] = [];
  for (let i = 0; i < 8; i++)
    server.handlePacket(
      query('find_node', nodeIdForHost('127.0.0.1', random)),
      { host: '127.0.0.1', port: 100 + i },
      0,
    );
  sent.length = 0;
  server.handleTimeout(2000);
  for (const ping of sent.splice(0))
    seeds.push(pong(nodeIdForHost('127.0.0.1', random), decode(ping.bytes)['t'] as Buffer));
  for (const method of ['ping', 'find_node', 'get_peers', 'get', 'announce_peer']) {
    seeds.push(
      query(method, nodeIdForHost('127.0.0.1', random), { want: ['n4', 'n6'], ro: method === 'get' }),
    );
  }
  let nowMs = 2000;
  let replies = 0;
  try {
    for (let i = 0; i < PACKETS; i++) {
      const packet = mutate(seeds[random.int(seeds.length)]!, random);
      const host = hosts[random.int(hosts.length)]!;
      const port = random.int(8) === 0 ? 0 : 1 + random.int(2000);
      sent.length = 0;
      server.handleDatagram(packet, host, port, nowMs, host.includes(':') ? 1 : 0);
      nowMs += random.int(50);
      if (i % 1000 === 0) server.handleTimeout(nowMs);
      for (const reply of sent) {
        if (reply.bytes.includes(Buffer.from('4:ping'))) continue; // our own pings from handleTimeout
        replies++;
        assert.ok(decodeBencode(reply.bytes).ok, 'reply decodes strictly');
        assert.ok(reply.bytes.length <= AMPLIFICATION_LIMIT * packet.length, 'amplification bound');
      }
    }
  } catch (error) {
    throw new Error(`fuzz failed with seed ${SEED}: ${String(error)}`, { cause: error });
  }
  const sizes = server.sizes();
  assert.ok(sizes.nodes4 <= 64 && sizes.nodes6 <= 64 && sizes.queue4 <= 64 && sizes.queue6 <= 64);
  assert.ok(replies > 1000, `some mutations stay valid queries (${replies})`);
});

function mutate(seed: Buffer, random: SeededRandom): Buffer {
  const kind = random.int(8);
  const b = Buffer.from(seed);
  switch (kind) {
    case 0:
      return b; // unmodified
    case 1: {
      for (let n = 1 + random.int(3); n > 0; n--) {
        const at = random.int(b.length);
        b[at] = b[at]! ^ (1 << random.int(8));
      }
      return b;
    }
    case 2:
      return b.subarray(0, random.int(b.length));
    case 3: {
      const at = random.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), random.bytes(1 + random.int(8)), b.subarray(at)]);
    }
    case 4: {
      const at = random.int(b.length);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + random.int(4))]);
    }
    case 5: {
      const at = random.int(b.length);
      const digit = '0123456789:deil'[random.int(15)]!;
      b[at] = digit.charCodeAt(0);
      return b;
    }
    case 6:
      return random.bytes(random.int(200));
    default: {
      const at = random.int(b.length);
      return Buffer.concat([b.subarray(0, at), b.subarray(random.int(b.length))]);
    }
  }
}
