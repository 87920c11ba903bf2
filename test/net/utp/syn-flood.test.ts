/**
 * SYN floods against one UtpEndpoint on virtual time (issue 10 §1): floods from one host, from a /24, from many
 * subnets, blind and completing. The caps hold, nothing is amplified, and a trusted friend, a stranger elsewhere
 * and our own dials still connect while the flood runs. Every loop is bounded in steps.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryNetwork } from '../../../sim/memory-network.ts';
import {
  decodePacket,
  encodePacket,
  PacketType,
  UtpEndpoint,
  type UtpEndpointOptions,
  type UtpSocket,
} from '../../../src/net/index.ts';
import { COOKIE_ROTATE_MS } from '../../../src/net/utp/syn-cookie.ts';
import { ManualClock, SeededRandom, type UdpAddress } from '../../../src/runtime/index.ts';
import { SynFlooder } from './syn-flooder.ts';

const VICTIM = { host: '10.0.0.2', port: 2000 };
const FRIEND = { host: '10.0.0.1', port: 1000 };
const STRANGER = { host: '10.0.77.1', port: 1000 };
const ELSEWHERE = { host: '10.0.88.1', port: 3000 };

interface Scene {
  clock: ManualClock;
  network: MemoryNetwork;
  victim: UtpEndpoint;
  accepted: UtpSocket[];
  endpointAt(address: UdpAddress): UtpEndpoint;
  /**
   * Steps the clock 1 ms at a time until the socket connects or closes (at most maxMs), then 20 ms more for
   * its first packet to land; the ms it took to connect, or -1.
   */
  connectMs(socket: UtpSocket, maxMs?: number, onStep?: () => void): number;
}

function makeScene(seed: string, options: Partial<UtpEndpointOptions> = {}): Scene {
  const clock = new ManualClock();
  const network = new MemoryNetwork(clock, new SeededRandom(`${seed}/net`), { latencyMs: 1 });
  const victim = new UtpEndpoint({
    transport: network.createTransport(VICTIM),
    clock,
    random: new SeededRandom(`${seed}/victim`),
    ...options,
  });
  const accepted: UtpSocket[] = [];
  victim.listen((socket) => accepted.push(socket), { isTrusted: (a) => a.host === FRIEND.host });
  const endpointAt = (address: UdpAddress): UtpEndpoint => {
    const endpoint = new UtpEndpoint({
      transport: network.createTransport(address),
      clock,
      random: new SeededRandom(`${seed}/${address.host}:${address.port}`),
    });
    endpoint.listen(() => {});
    return endpoint;
  };
  const connectMs = (socket: UtpSocket, maxMs = 5000, onStep?: () => void): number => {
    const startMs = clock.monotonicMs();
    for (let i = 0; i < maxMs && !socket.isConnected && !socket.isClosed; i++) {
      onStep?.();
      clock.advance(1);
    }
    if (!socket.isConnected) return -1;
    const tookMs = clock.monotonicMs() - startMs;
    // Let the initiator's first packet reach the acceptor, where it creates the connection.
    for (let i = 0; i < 20; i++) {
      onStep?.();
      clock.advance(1);
    }
    return tookMs;
  };
  return { clock, network, victim, accepted, endpointAt, connectMs };
}

/** Runs `flooders` at synsPerSecond in total for durationMs of virtual time, 1 ms steps. */
function flood(scene: Scene, flooders: SynFlooder[], synsPerSecond: number, durationMs: number): void {
  let owed = 0;
  for (let ms = 0; ms < durationMs; ms++) {
    owed += synsPerSecond / 1000;
    for (let n = Math.floor(owed); n > 0; n--) flooders[(ms + n) % flooders.length]?.sendSyns(1);
    owed -= Math.floor(owed);
    scene.clock.advance(1);
  }
}

/** Connected without a retransmission (the link's round trip is 2 ms; the first resend would be after 1 s). */
function isPrompt(connectMs: number): boolean {
  return connectMs >= 0 && connectMs < 50;
}

function strangersFrom(scene: Scene, predicate: (host: string) => boolean): number {
  return scene.accepted.filter((s) => !s.isClosed && predicate(s.remoteAddress.host)).length;
}

describe('uTP SYN floods', () => {
  test('a completing flood of 2,000 SYN/s from one host: it holds at most 16, everyone else connects', () => {
    const scene = makeScene('one-host');
    const attacker = new SynFlooder(
      scene.network.createTransport({ host: '10.6.6.6', port: 666 }),
      VICTIM,
      true,
    );
    flood(scene, [attacker], 2000, 3000);
    assert.equal(
      strangersFrom(scene, (h) => h === '10.6.6.6'),
      16,
      'maxStrangersPerHost, and no more',
    );
    assert.ok(scene.victim.stats.synsOverBudget > 5000, JSON.stringify(scene.victim.stats));
    // Bytes the victim sent the attacker never exceed what it received from it.
    assert.ok(
      attacker.counters.bytesReceived <= attacker.counters.bytesSent,
      JSON.stringify(attacker.counters),
    );
    const keepFlooding = () => attacker.sendSyns(2);
    const friend = scene.endpointAt(FRIEND).connect(VICTIM);
    assert.ok(isPrompt(scene.connectMs(friend, 5000, keepFlooding)), 'the friend connects');
    const atVictim = scene.accepted.find((s) => s.remoteAddress.host === FRIEND.host) as UtpSocket;
    assert.equal(scene.victim.originOf(atVictim), 'trusted');
    const stranger = scene.endpointAt(STRANGER).connect(VICTIM);
    assert.ok(isPrompt(scene.connectMs(stranger, 5000, keepFlooding)), 'a stranger on another host connects');
    scene.endpointAt(ELSEWHERE);
    const dial = scene.victim.connect(ELSEWHERE);
    assert.ok(isPrompt(scene.connectMs(dial, 5000, keepFlooding)), 'our own dial connects');
  });

  test('a completing flood from 16 hosts of one /24: the subnet holds at most 64; a friend there still connects', () => {
    const scene = makeScene('one-subnet');
    const flooders = Array.from(
      { length: 16 },
      (_, i) =>
        new SynFlooder(scene.network.createTransport({ host: `10.0.0.${100 + i}`, port: 666 }), VICTIM, true),
    );
    flood(scene, flooders, 2000, 4000);
    const fromSubnet = strangersFrom(scene, (h) => h.startsWith('10.0.0.'));
    assert.equal(fromSubnet, 64, 'maxStrangersPerSubnet, and no more');
    const step = () => flooders[0]?.sendSyns(2);
    // FRIEND (10.0.0.1) shares the attackers' /24: trusted, it spends no subnet budget and uses the reserve.
    assert.ok(isPrompt(scene.connectMs(scene.endpointAt(FRIEND).connect(VICTIM), 5000, step)));
    assert.ok(isPrompt(scene.connectMs(scene.endpointAt(STRANGER).connect(VICTIM), 5000, step)));
  });

  test('a completing flood from 300 subnets fills the stranger pool; newcomers replace the oldest unproven', () => {
    const scene = makeScene('many-subnets', { maxConnections: 64 });
    const flooders = Array.from(
      { length: 300 },
      (_, i) =>
        new SynFlooder(
          scene.network.createTransport({ host: `10.${1 + (i >> 8)}.${i & 0xff}.1`, port: 666 }),
          VICTIM,
          true,
        ),
    );
    flood(scene, flooders, 2000, 3000);
    const counts = scene.victim.admissionCounts;
    assert.equal(counts.strangers, 48, JSON.stringify(counts));
    assert.ok(scene.victim.connectionCount <= 64);
    assert.ok(scene.victim.stats.evictions > 100, JSON.stringify(scene.victim.stats));
    const step = () => flooders[scene.clock.monotonicMs() % 300]?.sendSyns(2);
    assert.ok(
      isPrompt(scene.connectMs(scene.endpointAt(STRANGER).connect(VICTIM), 5000, step)),
      'a stranger gets in',
    );
    assert.ok(
      isPrompt(scene.connectMs(scene.endpointAt(FRIEND).connect(VICTIM), 5000, step)),
      'a friend gets in',
    );
    // Our own dials: never UTP_TOO_MANY_CONNECTIONS because of strangers, even with the table full.
    for (let port = 1; port <= 8; port++) scene.endpointAt({ host: '10.0.88.1', port });
    const dials = Array.from({ length: 8 }, (_, i) =>
      scene.victim.connect({ host: '10.0.88.1', port: i + 1 }),
    );
    for (const dial of dials) assert.ok(isPrompt(scene.connectMs(dial, 5000)));
    assert.ok(scene.victim.connectionCount <= 64);
  });

  test('a blind flood (forged sources never answer) creates nothing and is never amplified', () => {
    const scene = makeScene('blind');
    const flooders = Array.from(
      { length: 50 },
      (_, i) =>
        new SynFlooder(scene.network.createTransport({ host: `10.9.${i}.1`, port: 666 }), VICTIM, false),
    );
    flood(scene, flooders, 5000, 2000);
    assert.equal(scene.victim.connectionCount, 0);
    assert.equal(scene.accepted.length, 0);
    for (const f of flooders) assert.ok(f.counters.bytesReceived <= f.counters.bytesSent);
    assert.ok(isPrompt(scene.connectMs(scene.endpointAt(STRANGER).connect(VICTIM))));
  });

  test('cookies: a forged ack opens nothing, a stale one opens nothing, a valid one opens one connection', () => {
    const scene = makeScene('cookie');
    const peer = scene.network.createTransport({ host: '10.0.55.1', port: 5000 });
    const replies: Buffer[] = [];
    peer.onPacket((bytes) => replies.push(bytes));
    const header = { timestampUs: 1, timestampDiffUs: 0, wndSize: 1 << 20 };
    /** Sends a SYN for connection id `id`; returns the cookie (the SYN-ACK's seq_nr). */
    const syn = (id: number): number => {
      replies.length = 0;
      peer.send(
        encodePacket({ ...header, type: PacketType.ST_SYN, connectionId: id, seqNr: 100, ackNr: 0 }),
        VICTIM,
      );
      scene.clock.advance(5);
      const synAck = decodePacket(replies[0] as Buffer);
      assert.ok(synAck.ok && synAck.packet.type === PacketType.ST_STATE && synAck.packet.ackNr === 100);
      return synAck.packet.seqNr;
    };
    /** The initiator's first packet after the SYN-ACK, acking `cookie`; returns the types of the replies. */
    const ack = (id: number, cookie: number): number[] => {
      replies.length = 0;
      const packet = {
        ...header,
        type: PacketType.ST_STATE,
        connectionId: id + 1,
        seqNr: 101,
        ackNr: cookie - 1,
      };
      peer.send(encodePacket(packet), VICTIM);
      scene.clock.advance(5);
      return replies.map((r) => {
        const d = decodePacket(r);
        return d.ok ? d.packet.type : -1;
      });
    };
    const forgedCookie = syn(10) ^ 0x0101;
    assert.deepEqual(ack(10, forgedCookie), [PacketType.ST_RESET], 'a wrong ack_nr is an unknown connection');
    assert.equal(scene.victim.connectionCount, 0);
    const staleCookie = syn(20);
    scene.clock.advance(2 * COOKIE_ROTATE_MS);
    ack(20, staleCookie);
    assert.equal(scene.victim.connectionCount, 0, 'two rotations later the cookie is stale');
    const cookie = syn(30);
    scene.clock.advance(COOKIE_ROTATE_MS / 2);
    assert.deepEqual(ack(30, cookie), [], 'accepted silently (nothing to ack yet)');
    assert.equal(scene.victim.connectionCount, 1);
    assert.equal(scene.accepted.length, 1);
    assert.equal(scene.victim.stats.cookiesAccepted, 1);
    // The same packet again belongs to the connection now: no second connection.
    ack(30, cookie);
    assert.equal(scene.victim.connectionCount, 1);
  });

  test('a first flight whose first packet is late: the later ones are not reset, the resend opens the connection', () => {
    const scene = makeScene('first-flight');
    const peer = scene.network.createTransport({ host: '10.0.55.1', port: 5000 });
    const replies: Buffer[] = [];
    peer.onPacket((bytes) => replies.push(bytes));
    const header = { timestampUs: 1, timestampDiffUs: 0, wndSize: 1 << 20 };
    peer.send(
      encodePacket({ ...header, type: PacketType.ST_SYN, connectionId: 40, seqNr: 500, ackNr: 0 }),
      VICTIM,
    );
    scene.clock.advance(5);
    const synAck = decodePacket(replies.shift() as Buffer);
    assert.ok(synAck.ok);
    const data = (seqNr: number, text: string) =>
      encodePacket({
        ...header,
        type: PacketType.ST_DATA,
        connectionId: 41,
        seqNr,
        ackNr: synAck.packet.seqNr - 1,
        payload: Buffer.from(text),
      });
    peer.send(data(502, 'second'), VICTIM);
    peer.send(data(503, 'third'), VICTIM);
    scene.clock.advance(5);
    assert.deepEqual(replies, [], 'no ST_RESET for a good initiator');
    assert.equal(scene.victim.connectionCount, 0);
    assert.equal(scene.victim.stats.firstFlightHeld, 1, 'checked once: the reset limiter covers the rest');
    for (const seqNr of [501, 502, 503])
      peer.send(data(seqNr, ['first', 'second', 'third'][seqNr - 501] ?? ''), VICTIM);
    scene.clock.advance(5);
    assert.equal(scene.accepted.length, 1);
    const socket = scene.accepted[0] as UtpSocket;
    const chunks: string[] = [];
    for (let c = socket.read(); c !== undefined; c = socket.read()) chunks.push(c.toString());
    assert.equal(chunks.join(''), 'firstsecondthird');
  });

  test('a lost SYN-ACK: the resent SYN gets the same cookie and the initiator connects', () => {
    const scene = makeScene('lost-syn-ack');
    const transport = scene.network.createTransport(STRANGER);
    let dropped = 0;
    // Drop the first packet the initiator would receive (the SYN-ACK).
    const lossy = {
      send: transport.send.bind(transport),
      localAddress: transport.localAddress.bind(transport),
      close: transport.close.bind(transport),
      onPacket(handler: (bytes: Buffer, from: UdpAddress) => void): void {
        transport.onPacket((bytes, from) => {
          if (dropped++ === 0) return;
          handler(bytes, from);
        });
      },
    };
    const client = new UtpEndpoint({ transport: lossy, clock: scene.clock, random: new SeededRandom('c') });
    const socket = client.connect(VICTIM);
    const tookMs = scene.connectMs(socket, 5000);
    assert.ok(tookMs >= 900, `connected after the SYN was resent (${tookMs} ms)`);
    assert.equal(scene.victim.stats.synAcksSent, 2);
    assert.equal(scene.victim.connectionCount, 1);
  });
});
