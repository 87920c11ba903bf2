/**
 * Fuzz tier: 100,000+ mutated uTP packets (seeded, replayable) thrown at endpoints with live connections, from
 * the live peer's own address so they reach connection state. Nothing may throw, no buffer may grow past its
 * bound, and the endpoint must keep its connection table and reset limiter bounded.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodePacket, encodePacket, type PacketType, type UtpSocket } from '../../src/net/index.ts';
import { makePair, patternBytes } from '../net/utp/sim-harness.ts';

const PACKETS = 120_000;

/** xorshift32: a fast seeded generator for the mutation loop (SeededRandom is SHA-256 based, too slow here). */
function prng(seed: number): (max: number) => number {
  let x = seed >>> 0 || 1;
  return (max) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % max;
  };
}

describe('uTP fuzzing', () => {
  test(`${PACKETS} mutated packets into endpoints with live connections: no throw, buffers bounded`, () => {
    const seed = 0x5eed;
    const pair = makePair(`fuzz-${seed}`, { latencyMs: 3, jitterMs: 2 }, { recvBufferBytes: 256 * 1024 });
    const { clock, client, server } = pair;
    const rand = prng(seed);
    const clientAddress = { host: '10.0.0.1', port: 1000 };
    const serverAddress = server.localAddress();
    // Live traffic: a few connections moving data both ways; the server reads only sometimes.
    const sockets: UtpSocket[] = [];
    for (let i = 0; i < 4; i++) sockets.push(client.connect(serverAddress));
    clock.advance(50);
    const chunk = patternBytes(4096, 1);
    // A corpus of real packets to mutate, captured from the live connections' own traffic.
    const corpus: Buffer[] = [];
    const network = pair.network as unknown as { route: (b: Uint8Array, f: unknown, t: unknown) => void };
    const route = network.route.bind(network);
    network.route = (bytes, from, to) => {
      if (corpus.length < 512) corpus.push(Buffer.from(bytes));
      route(bytes, from, to);
    };
    for (const s of sockets) s.write(chunk);
    clock.advance(20);
    for (const s of pair.accepted) s.write(chunk);
    clock.advance(20);
    const ids = sockets.flatMap((s) => [s.connection.recvId, s.connection.sendId]);
    const base = (type: number): Buffer =>
      encodePacket({
        type: type as PacketType,
        connectionId: ids[rand(ids.length)] as number,
        timestampUs: rand(0x100000000),
        timestampDiffUs: rand(4) === 0 ? 0 : rand(0x100000000),
        wndSize: rand(4) === 0 ? 0 : rand(0x100000000),
        seqNr: rand(0x10000),
        ackNr: rand(0x10000),
        sack:
          rand(3) === 0 ? Buffer.from(Array.from({ length: 4 * (1 + rand(8)) }, () => rand(256))) : undefined,
        payload: rand(2) === 0 ? Buffer.alloc(rand(1500), rand(256)) : undefined,
      });
    assert.ok(corpus.length > 20, 'captured live packets');
    let thrown = 0;
    let decodeRejects = 0;
    for (let i = 0; i < PACKETS; i++) {
      const template =
        corpus.length > 0 && rand(2) === 0 ? (corpus[rand(corpus.length)] as Buffer) : base(rand(5));
      const packet = Buffer.from(template);
      const mutations = rand(4);
      for (let m = 0; m < mutations; m++) {
        const op = rand(5);
        if (op === 0 && packet.length > 0) {
          const at = rand(packet.length);
          packet[at] = (packet[at] as number) ^ (1 << rand(8));
        } else if (op === 1 && packet.length > 0) packet[rand(packet.length)] = rand(256);
        else if (op === 2 && packet.length > 2)
          packet[1] = rand(4); // extension chain
        else if (op === 3)
          packet.writeUInt16BE(rand(0x10000), 18); // ack_nr anywhere
        else if (op === 4 && packet.length >= 20) packet.writeUInt16BE(rand(0x10000), 16); // seq_nr anywhere
      }
      const cut = rand(8) === 0 ? packet.subarray(0, rand(packet.length + 1)) : packet;
      if (!decodePacket(cut).ok) decodeRejects++;
      try {
        if (rand(2) === 0) server.handleDatagram(cut, clientAddress);
        else client.handleDatagram(cut, serverAddress);
      } catch {
        thrown++;
      }
      if (i % 64 === 0) {
        clock.advance(1 + rand(20));
        for (const s of sockets) if (!s.isClosed && s.sendQueueBytes < 64 * 1024) s.write(chunk);
        if (rand(4) === 0) for (const s of pair.accepted) while (s.read() !== undefined);
        for (const s of pair.accepted) {
          assert.ok(
            s.connection.bufferedReceiveBytes <= 256 * 1024,
            `seed=${seed} packet ${i}: buffer bound`,
          );
        }
      }
    }
    clock.advance(60_000);
    assert.equal(thrown, 0, `seed=${seed}: exceptions escaped`);
    assert.ok(decodeRejects > PACKETS / 20, 'the mutations produced malformed packets too');
    assert.ok(server.connectionCount <= 1024 && client.connectionCount <= 1024);
    assert.ok(server.stats.packetsIn >= PACKETS / 2 - 1000);
  });

  test('100,000 random byte strings never make the decoder throw', () => {
    const rand = prng(42);
    let ok = 0;
    for (let i = 0; i < 100_000; i++) {
      const bytes = Buffer.from(Array.from({ length: rand(64) }, () => rand(256)));
      if (rand(2) === 0 && bytes.length > 0) bytes[0] = (rand(5) << 4) | 1;
      if (decodePacket(bytes).ok) ok++;
    }
    assert.ok(ok > 0);
  });
});
