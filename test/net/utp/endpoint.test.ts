/** The endpoint on virtual time: dead peers, resets, refusals, id and sequence wrap-around, window bounds. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryNetwork } from '../../../sim/memory-network.ts';
import {
  decodePacket,
  encodePacket,
  PacketType,
  UtpEndpoint,
  type UtpSocket,
} from '../../../src/net/index.ts';
import { ManualClock, type Random, SeededRandom } from '../../../src/runtime/index.ts';
import { makePair, patternBytes, runTransfer } from './sim-harness.ts';

const SERVER = { host: '10.0.0.2', port: 2000 };

function collectEvents(socket: UtpSocket): string[] {
  const events: string[] = [];
  socket.onEvent((e) => events.push(e.type === 'closed' ? `closed:${e.errorCode ?? 'clean'}` : e.type));
  return events;
}

describe('uTP endpoint', () => {
  test('a peer that vanishes mid-transfer is detected within the peer timeout', () => {
    const seed = 'vanish-1';
    const pair = makePair(seed, { latencyMs: 15 });
    const socket = pair.client.connect(SERVER);
    const events = collectEvents(socket);
    const chunk = patternBytes(64 * 1024, 3);
    for (let i = 0; i < 200 && !socket.isConnected; i++) pair.clock.advance(5);
    assert.ok(socket.isConnected, `seed=${seed}`);
    // Keep data flowing for a while, then the server disappears (its transport is gone: every packet is lost).
    for (let i = 0; i < 100; i++) {
      if (socket.sendQueueBytes < 128 * 1024) socket.write(chunk);
      pair.clock.advance(5);
    }
    // The server's host drops off the network: from now on every packet either way is lost, silently.
    pair.network.link.lossRate = 1;
    const vanishedAtMs = pair.clock.monotonicMs();
    let detectedAtMs = 0;
    for (let i = 0; i < 10_000 && detectedAtMs === 0; i++) {
      if (socket.sendQueueBytes < 128 * 1024 && !socket.isClosed) socket.write(chunk);
      pair.clock.advance(10);
      if (socket.isClosed) detectedAtMs = pair.clock.monotonicMs();
    }
    const peerTimeoutMs = pair.client.config.peerTimeoutMs;
    assert.equal(socket.errorCode, 'UTP_TIMEOUT', `seed=${seed} events=${events}`);
    const tookMs = detectedAtMs - vanishedAtMs;
    assert.ok(tookMs >= peerTimeoutMs - 1000, `seed=${seed}: detected too early (${tookMs} ms)`);
    assert.ok(
      tookMs <= peerTimeoutMs + pair.client.config.maxTimeoutMs + 500,
      `seed=${seed}: took ${tookMs} ms`,
    );
    assert.equal(pair.client.connectionCount, 0, 'the dead connection is forgotten');
  });

  test('connecting to nobody fails with UTP_CONNECT_TIMEOUT after the connect timeout', () => {
    const pair = makePair('nobody', { latencyMs: 5 });
    const socket = pair.client.connect({ host: '10.9.9.9', port: 1 });
    const events = collectEvents(socket);
    const startMs = pair.clock.monotonicMs();
    for (let i = 0; i < 2000 && !socket.isClosed; i++) pair.clock.advance(10);
    assert.deepEqual(events, ['closed:UTP_CONNECT_TIMEOUT']);
    const tookMs = pair.clock.monotonicMs() - startMs;
    assert.ok(Math.abs(tookMs - pair.client.config.connectTimeoutMs) <= 20, `took ${tookMs}`);
    // SYNs were resent at a steady pace, not flooded.
    assert.ok(
      pair.network.counters.sent >= 5 && pair.network.counters.sent <= 10,
      `${pair.network.counters.sent}`,
    );
  });

  test('SYNs alone hold nothing: each is answered by a SYN-ACK no bigger than itself, and no connection exists', () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork(clock, new SeededRandom('n'), { latencyMs: 2 });
    const server = new UtpEndpoint({
      transport: network.createTransport(SERVER),
      clock,
      random: new SeededRandom('s'),
    });
    let accepted = 0;
    server.listen(() => accepted++);
    const forger = network.createTransport({ host: '10.6.6.6', port: 666 });
    const replyBytes: number[] = [];
    forger.onPacket((bytes) => replyBytes.push(bytes.length));
    const syn = (id: number) =>
      encodePacket({
        type: PacketType.ST_SYN,
        connectionId: id * 2,
        timestampUs: 1,
        timestampDiffUs: 0,
        wndSize: 1 << 20,
        seqNr: 1,
        ackNr: 0,
      });
    for (let id = 0; id < 10; id++) forger.send(syn(id), SERVER);
    clock.advance(10);
    assert.equal(server.connectionCount, 0);
    assert.equal(accepted, 0);
    assert.equal(server.stats.synAcksSent, 10);
    assert.ok(replyBytes.length === 10 && replyBytes.every((n) => n <= syn(0).length), `${replyBytes}`);
  });

  test('an idle but real connection survives past the connect timeout (the initiator confirms itself)', () => {
    const pair = makePair('idle-1', { latencyMs: 5 });
    const socket = pair.client.connect(SERVER);
    pair.clock.advance(pair.client.config.connectTimeoutMs * 3);
    assert.ok(socket.isConnected);
    assert.equal(pair.server.connectionCount, 1);
    assert.equal(pair.accepted[0]?.isConnected, true);
  });

  test('an idle connection sends a keepalive every keepaliveMs (NAT mappings stay open)', () => {
    const pair = makePair('keepalive-1', { latencyMs: 5 });
    const socket = pair.client.connect(SERVER);
    pair.clock.advance(100);
    assert.ok(socket.isConnected);
    const before = pair.network.counters.sent;
    const keepaliveMs = pair.client.config.keepaliveMs;
    pair.clock.advance(keepaliveMs * 4 + 100);
    const sent = pair.network.counters.sent - before;
    // Both ends keep their own mapping alive: about 4 each, nothing more while idle.
    assert.ok(sent >= 6 && sent <= 10, `sent ${sent}`);
    assert.ok(socket.isConnected && pair.accepted[0]?.isConnected);
  });

  test('a SYN to an endpoint that does not listen is refused with ST_RESET', () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork(clock, new SeededRandom('n'), { latencyMs: 5 });
    const a = new UtpEndpoint({
      transport: network.createTransport({ host: '10.0.0.1', port: 1 }),
      clock,
      random: new SeededRandom('a'),
    });
    const b = new UtpEndpoint({
      transport: network.createTransport(SERVER),
      clock,
      random: new SeededRandom('b'),
    });
    const socket = a.connect(SERVER);
    const events = collectEvents(socket);
    clock.advance(100);
    assert.deepEqual(events, ['closed:UTP_CONNECTION_REFUSED']);
    assert.equal(b.stats.synsRefused, 1);
  });

  test('reset() on one side closes the other with UTP_RESET', () => {
    const pair = makePair('reset-1', { latencyMs: 5 });
    const socket = pair.client.connect(SERVER);
    const events = collectEvents(socket);
    pair.clock.advance(50);
    socket.write(Buffer.from('hello'));
    pair.clock.advance(50);
    const peer = pair.accepted[0] as UtpSocket;
    assert.equal(peer.read()?.toString(), 'hello');
    peer.reset();
    pair.clock.advance(50);
    assert.deepEqual(events, ['connected', 'closed:UTP_RESET']);
    assert.equal(pair.client.connectionCount, 0);
    assert.equal(pair.server.connectionCount, 0);
  });

  test('packets for unknown connections get at most one ST_RESET per source per interval', () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork(clock, new SeededRandom('n'), { latencyMs: 1 });
    const endpoint = new UtpEndpoint({
      transport: network.createTransport(SERVER),
      clock,
      random: new SeededRandom('e'),
      resetIntervalMs: 1000,
    });
    const attacker = network.createTransport({ host: '10.6.6.6', port: 666 });
    const resets: number[] = [];
    attacker.onPacket((bytes) => {
      const d = decodePacket(bytes);
      if (d.ok && d.packet.type === PacketType.ST_RESET) resets.push(clock.monotonicMs());
    });
    const bogus = (connectionId: number) =>
      encodePacket({
        type: PacketType.ST_DATA,
        connectionId,
        timestampUs: 1,
        timestampDiffUs: 0,
        wndSize: 1000,
        seqNr: 5,
        ackNr: 9,
        payload: Buffer.from('x'),
      });
    for (let i = 0; i < 500; i++) {
      attacker.send(bogus(i), SERVER);
      clock.advance(1);
    }
    clock.advance(10);
    assert.equal(resets.length, 1, 'one reset in the first interval');
    for (let i = 0; i < 600; i++) {
      attacker.send(bogus(i), SERVER);
      clock.advance(1);
    }
    clock.advance(10);
    assert.equal(resets.length, 2, 'one more after the interval');
    assert.ok(endpoint.stats.resetsSuppressed >= 1000);
    assert.equal(endpoint.connectionCount, 0);
  });

  test('connection ids and sequence numbers wrap around 16 bits', () => {
    // A Random that always picks the top of the range: recv id 0xffff (send id 0), seq 0xffff.
    const top: Random = { bytes: (n) => Buffer.alloc(n, 0xff), int: (max) => max - 1 };
    const clock = new ManualClock();
    const network = new MemoryNetwork(clock, new SeededRandom('wrap'), {
      latencyMs: 5,
      jitterMs: 4,
      lossRate: 0.02,
    });
    const client = new UtpEndpoint({
      transport: network.createTransport({ host: '10.0.0.1', port: 1000 }),
      clock,
      random: top,
    });
    const server = new UtpEndpoint({ transport: network.createTransport(SERVER), clock, random: top });
    const accepted: UtpSocket[] = [];
    server.listen((s) => accepted.push(s));
    const data = patternBytes(2 * 1024 * 1024, 11);
    const r = runTransfer({ clock, network, client, server, accepted, seed: 'wrap' }, data, 200_000);
    assert.ok(r.received.equals(data), `got ${r.received.length}`);
    const conn = accepted[0]?.connection;
    assert.equal(conn?.recvId, 0, 'acceptor recv id = 0xffff + 1 wrapped');
    assert.equal(conn?.sendId, 0xffff);
  });

  test('a receiver that does not read never buffers more than its window, then gets everything', () => {
    const seed = 'window-1';
    const pair = makePair(
      seed,
      { latencyMs: 5, jitterMs: 3, duplicateRate: 0.05 },
      { recvBufferBytes: 64 * 1024 },
    );
    const socket = pair.client.connect(SERVER);
    const data = patternBytes(1024 * 1024, 5);
    pair.clock.advance(30);
    socket.write(data);
    socket.end();
    let maxBuffered = 0;
    for (let i = 0; i < 2000; i++) {
      pair.clock.advance(5);
      const peer = pair.accepted[0];
      if (peer !== undefined) maxBuffered = Math.max(maxBuffered, peer.connection.bufferedReceiveBytes);
    }
    assert.ok(maxBuffered <= 64 * 1024, `seed=${seed} buffered ${maxBuffered}`);
    assert.ok(maxBuffered > 32 * 1024, `seed=${seed} the window was used (${maxBuffered})`);
    const peer = pair.accepted[0] as UtpSocket;
    const chunks: Buffer[] = [];
    for (let i = 0; i < 100_000 && !peer.isClosed; i++) {
      for (let c = peer.read(); c !== undefined; c = peer.read()) chunks.push(c);
      if (peer.connection.state === 'connected' && Buffer.concat(chunks).length === data.length) peer.end();
      pair.clock.advance(2);
    }
    assert.ok(Buffer.concat(chunks).equals(data), `seed=${seed}`);
  });
});
