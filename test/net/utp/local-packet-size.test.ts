/**
 * The dhtchat-only packet size extension: two dhtchat endpoints on loopback agree on big datagrams; anything
 * else (another implementation, a non-loopback peer, the feature turned off) keeps the default size, and a peer
 * that did not offer it never sees the extension.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { MemoryNetwork } from '../../../sim/memory-network.ts';
import {
  decodePacket,
  encodePacket,
  PacketType,
  type UtpConfig,
  UtpEndpoint,
  type UtpSocket,
  UtpStream,
} from '../../../src/net/index.ts';
import {
  cryptoRandom,
  ManualClock,
  SeededRandom,
  systemClock,
  UdpTransport,
} from '../../../src/runtime/index.ts';
import { patternBytes } from './sim-harness.ts';

const LOCAL = { host: '127.0.0.1', port: 2000 };

describe('uTP local packet size', () => {
  test('the extension round-trips next to a selective ACK, and a wrong length is ignored', () => {
    const fields = {
      type: PacketType.ST_STATE,
      connectionId: 7,
      timestampUs: 1,
      timestampDiffUs: 2,
      wndSize: 3,
      seqNr: 4,
      ackNr: 5,
    };
    for (const sack of [undefined, Buffer.from([1, 2, 3, 4])]) {
      const decoded = decodePacket(encodePacket({ ...fields, sack, largePacketBytes: 32_000 }));
      assert.ok(decoded.ok);
      assert.equal(decoded.packet.largePacketBytes, 32_000);
      assert.deepEqual(decoded.packet.sack, sack);
      assert.equal(decoded.packet.payload.length, 0);
    }
    const odd = encodePacket({ ...fields, largePacketBytes: 32_000 });
    odd[HEADER_LENGTH_OFFSET] = 1; // a 1-byte body: not ours to interpret
    const decoded = decodePacket(odd);
    assert.ok(decoded.ok);
    assert.equal(decoded.packet.largePacketBytes, undefined);
  });

  test('a SYN without the offer (libtorrent) is acked without it, and the connection keeps the default size', () => {
    const clock = new ManualClock();
    const network = new MemoryNetwork(clock, new SeededRandom('plain-syn/net'), {});
    const server = new UtpEndpoint({
      transport: network.createTransport(LOCAL),
      clock,
      random: new SeededRandom('plain-syn'),
    });
    const accepted: UtpSocket[] = [];
    server.listen((socket) => accepted.push(socket));
    const peer = network.createTransport({ host: '127.0.0.1', port: 3000 });
    const replies: Buffer[] = [];
    peer.onPacket((bytes) => replies.push(Buffer.from(bytes)));
    const syn = { type: PacketType.ST_SYN, connectionId: 100, timestampUs: 1, timestampDiffUs: 0 };
    peer.send(encodePacket({ ...syn, wndSize: 1 << 20, seqNr: 1, ackNr: 0 }), LOCAL);
    clock.advance(50);
    assert.equal(accepted.length, 0, 'a SYN alone opens nothing (SYN cookie)');
    const ack = replies
      .map((r) => decodePacket(r))
      .find((d) => d.ok && d.packet.type === PacketType.ST_STATE);
    assert.ok(ack?.ok);
    assert.equal(ack.packet.largePacketBytes, undefined);
    assert.equal(ack.packet.extension, 0);
    // The initiator's first data packet acks the SYN-ACK: now the connection exists, at the default size.
    const data = { ...syn, type: PacketType.ST_DATA, connectionId: 101, wndSize: 1 << 20 };
    peer.send(
      encodePacket({ ...data, seqNr: 2, ackNr: ack.packet.seqNr - 1, payload: Buffer.from('hi') }),
      LOCAL,
    );
    clock.advance(50);
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]?.connection.maxPacketBytes, 1420);
  });

  for (const [name, clientConfig, expectedBytes] of [
    ['agree on loopback', {}, 32_000],
    ['keep the default when one side turns it off', { localPacketBytes: 0 }, 1420],
    ['use the smaller of two offers', { localPacketBytes: 9000 }, 9000],
  ] as const) {
    test(`two endpoints ${name}, and 4 MiB arrive intact`, { timeout: 30_000 }, async () => {
      const [a, b] = await Promise.all([
        UdpTransport.bind({ host: '127.0.0.1' }),
        UdpTransport.bind({ host: '127.0.0.1' }),
      ]);
      const config: Partial<UtpConfig> = clientConfig;
      const client = new UtpEndpoint({ transport: a, clock: systemClock, random: cryptoRandom, config });
      const server = new UtpEndpoint({ transport: b, clock: systemClock, random: cryptoRandom });
      const upload = patternBytes(4 * 1024 * 1024, 5);
      const atServer = new Promise<{ bytes: Buffer; packetBytes: number }>((resolve, reject) => {
        server.listen((socket) => {
          const stream = new UtpStream(socket);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () =>
            resolve({ bytes: Buffer.concat(chunks), packetBytes: socket.connection.maxPacketBytes }),
          );
          stream.end(upload);
        });
      });
      const stream = new UtpStream(client.connect(server.localAddress()));
      await once(stream, 'connect');
      stream.resume();
      stream.end(upload);
      const received = await atServer;
      const sha = (x: Buffer) => createHash('sha1').update(x).digest('hex');
      assert.equal(sha(received.bytes), sha(upload));
      assert.equal(stream.socket.connection.maxPacketBytes, expectedBytes);
      assert.equal(received.packetBytes, expectedBytes);
      client.close();
      server.close();
    });
  }
});

/** The length byte of the first extension in a packet without a selective ACK. */
const HEADER_LENGTH_OFFSET = 21;
