/**
 * Live fuzzing: 100,000 random and mutated packets into a running DhtNode over real UDP on 127.0.0.1, from 16
 * source sockets. Passes if nothing escapes (process 'uncaughtException' / 'unhandledRejection' hooks), the heap
 * after a forced GC is back near its baseline, and the node still answers a ping from a fresh node.
 *
 * The node's per-source rate limit is raised for this test so that the packets reach the decoder and handlers
 * instead of being dropped at the door (the limiter has its own tests). Seed: DHTCHAT_FUZZ_SEED (printed).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DhtNode } from '../../src/dht/index.ts';
import { cryptoRandom, SeededRandom, systemClock, UdpTransport } from '../../src/runtime/index.ts';
import { type BValue, encodeBencode } from '../../src/wire/index.ts';

const PACKET_COUNT = 100_000;
const SOURCE_SOCKETS = 16;
const BATCH = 250;
/** Heap growth allowed after the run and a forced GC (stores are bounded; this catches leaks, not noise). */
const HEAP_SLACK_BYTES = 16 * 1024 * 1024;
const SEED = process.env['DHTCHAT_FUZZ_SEED'] ?? String(Date.now());

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const escaped: unknown[] = [];
const onEscape = (error: unknown): void => {
  escaped.push(error);
};

let target: UdpTransport;
let node: DhtNode;
let sources: UdpTransport[] = [];

before(async () => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  target = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
  node = new DhtNode({
    transport: target,
    clock: systemClock,
    random: cryptoRandom,
    allowPrivate: true,
    rateLimit: { ratePerSec: 10_000_000, burst: 10_000_000 },
  });
  sources = await Promise.all(
    Array.from({ length: SOURCE_SOCKETS }, () => UdpTransport.bind({ host: '127.0.0.1', port: 0 })),
  );
  for (const s of sources) s.onPacket(() => {}); // replies are read and dropped
});

after(() => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
  node.close();
  target.close();
  for (const s of sources) s.close();
});

/** Valid KRPC packets of every kind: the seeds the mutator starts from. */
function corpus(random: SeededRandom): Buffer[] {
  const id = (): Buffer => random.bytes(20);
  const q = (method: string, a: Record<string, BValue>): Buffer =>
    encodeBencode({ t: random.bytes(2), y: Buffer.from('q'), q: Buffer.from(method), a: { id: id(), ...a } });
  const keyLike = random.bytes(32);
  return [
    q('ping', {}),
    q('find_node', { target: id() }),
    q('find_node', { target: id(), want: [Buffer.from('n4'), Buffer.from('n6')] }),
    q('get_peers', { info_hash: id() }),
    q('get_peers', { info_hash: id(), scrape: 1, noseed: 1 }),
    q('announce_peer', { info_hash: id(), port: 6881, token: random.bytes(8), implied_port: 1 }),
    q('get', { target: id(), seq: 3 }),
    q('put', { token: random.bytes(8), v: Buffer.from('immutable value') }),
    q('put', {
      token: random.bytes(8),
      v: Buffer.from('m'),
      k: keyLike,
      sig: random.bytes(64),
      seq: 1,
      salt: Buffer.from('s'),
    }),
    q('sample_infohashes', { target: id() }),
    q('vote', { target: id() }),
    encodeBencode({ t: random.bytes(2), y: Buffer.from('r'), r: { id: id(), nodes: random.bytes(26 * 8) } }),
    encodeBencode({
      t: random.bytes(2),
      y: Buffer.from('r'),
      r: { id: id(), values: [random.bytes(6)], token: random.bytes(4) },
      ip: random.bytes(6),
    }),
    encodeBencode({ t: random.bytes(2), y: Buffer.from('e'), e: [203, Buffer.from('Protocol Error')] }),
  ];
}

function mutate(packet: Buffer, random: SeededRandom): Buffer {
  let bytes = Buffer.from(packet);
  const rounds = 1 + random.int(4);
  for (let i = 0; i < rounds; i++) {
    const at = bytes.length === 0 ? 0 : random.int(bytes.length);
    switch (random.int(7)) {
      case 0: // flip a bit
        if (bytes.length > 0) bytes[at] = (bytes[at] as number) ^ (1 << random.int(8));
        break;
      case 1: // a random byte
        if (bytes.length > 0) bytes[at] = random.int(256);
        break;
      case 2: // insert bytes
        bytes = Buffer.concat([bytes.subarray(0, at), random.bytes(1 + random.int(8)), bytes.subarray(at)]);
        break;
      case 3: // delete bytes
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + random.int(8))]);
        break;
      case 4: // truncate
        bytes = bytes.subarray(0, at);
        break;
      case 5: // duplicate a slice (nesting, repeated keys)
        bytes = Buffer.concat([
          bytes.subarray(0, at),
          bytes.subarray(at, at + 1 + random.int(24)),
          bytes.subarray(at),
        ]);
        break;
      default: // a digit becomes another (lengths, integers)
        if (bytes.length > 0) bytes[at] = 0x30 + random.int(10);
    }
  }
  return bytes;
}

function nextPacket(i: number, seeds: readonly Buffer[], random: SeededRandom): Buffer {
  const kind = i % 10;
  if (kind === 0) return random.bytes(random.int(1600)); // pure noise, up to past the size limit
  if (kind === 1) return Buffer.concat([Buffer.from('d1:'), random.bytes(random.int(200))]); // looks bencoded
  if (kind === 2) return seeds[random.int(seeds.length)] as Buffer; // valid, so handlers run for real
  return mutate(seeds[random.int(seeds.length)] as Buffer, random);
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(`live node survives ${PACKET_COUNT} fuzzed packets over UDP (seed ${SEED})`, async (t) => {
  const random = new SeededRandom(SEED);
  const seeds = corpus(random);
  const to = target.localAddress();

  // Warm up (JIT, buffers, rate-limiter entries for every source), then take the baseline.
  for (let i = 0; i < 2_000; i++) sources[i % SOURCE_SOCKETS]!.send(nextPacket(i, seeds, random), to);
  await pause(300);
  const baselineBytes = heapUsed();
  const inBefore = node.stats().packetsIn;

  for (let sent = 0; sent < PACKET_COUNT; sent += BATCH) {
    for (let i = sent; i < sent + BATCH && i < PACKET_COUNT; i++) {
      sources[i % SOURCE_SOCKETS]!.send(nextPacket(i, seeds, random), to);
    }
    // Let the node drain its socket before the next batch (loopback drops what overflows the buffer).
    await new Promise((r) => setImmediate(r));
    const deadlineMs = Date.now() + 200;
    while (node.stats().packetsIn - inBefore < sent + BATCH - 2 * BATCH && Date.now() < deadlineMs)
      await pause(1);
  }
  await pause(500);

  const stats = node.stats();
  const received = stats.packetsIn - inBefore;
  assert.deepEqual(escaped, [], 'no exception escaped');
  // Loopback UDP can drop under load; the node must have actually processed nearly all of them.
  assert.ok(received >= PACKET_COUNT * 0.95, `node received ${received} of ${PACKET_COUNT}`);
  assert.ok(stats.dropped.malformed > PACKET_COUNT / 2, `malformed counted: ${stats.dropped.malformed}`);
  assert.ok(stats.responsesSent > 0, 'valid queries were answered');
  assert.equal(stats.dropped.handlerFailures, 0, 'no handler threw');

  const afterBytes = heapUsed();
  t.diagnostic(
    `received ${received}, malformed ${stats.dropped.malformed}, answered ${stats.responsesSent}, ` +
      `heap ${(baselineBytes / 1e6).toFixed(1)} -> ${(afterBytes / 1e6).toFixed(1)} MB`,
  );
  assert.ok(
    afterBytes - baselineBytes < HEAP_SLACK_BYTES,
    `heap grew from ${(baselineBytes / 1e6).toFixed(1)} MB to ${(afterBytes / 1e6).toFixed(1)} MB`,
  );

  // Still alive: a fresh node gets an answer to its ping.
  const probeTransport = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
  const probe = new DhtNode({
    transport: probeTransport,
    clock: systemClock,
    random: cryptoRandom,
    allowPrivate: true,
  });
  try {
    const pong = await probe.ping(to);
    assert.deepEqual(pong.id, node.id);
  } finally {
    probe.close();
    probeTransport.close();
  }
});
