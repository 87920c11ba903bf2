/** One UDP socket split between KRPC and uTP: routing, counting, and a uTP connection through the split. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryNetwork } from '../../sim/memory-network.ts';
import { DatagramDemux, encodePacket, PacketType, UtpEndpoint, type UtpSocket } from '../../src/net/index.ts';
import { ManualClock, SeededRandom, type UdpAddress } from '../../src/runtime/index.ts';

const A = { host: '10.0.0.1', port: 6881 };
const B = { host: '10.0.0.2', port: 6881 };

function setup() {
  const clock = new ManualClock();
  const network = new MemoryNetwork(clock, new SeededRandom('demux'), { latencyMs: 2 });
  const demux = new DatagramDemux(network.createTransport(A));
  const peer = network.createTransport(B);
  const krpc: Buffer[] = [];
  const utp: Buffer[] = [];
  demux.krpc.onPacket((bytes) => krpc.push(bytes));
  demux.utp.onPacket((bytes) => utp.push(bytes));
  return { clock, network, demux, peer, krpc, utp };
}

const utpPacket = (type: number) =>
  encodePacket({
    type: type as 0,
    connectionId: 1,
    timestampUs: 1,
    timestampDiffUs: 0,
    wndSize: 0,
    seqNr: 1,
    ackNr: 0,
  });

describe('DatagramDemux', () => {
  test('bencoded dicts go to KRPC, uTP headers to uTP, anything else is counted and dropped', () => {
    const { clock, demux, peer, krpc, utp } = setup();
    peer.send(Buffer.from('d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q4:ping1:t2:aa1:y1:qe'), A);
    for (const type of [0, 1, 2, 3, 4]) peer.send(utpPacket(type), A);
    peer.send(Buffer.alloc(0), A); // empty
    peer.send(Buffer.from('l4:spame'), A); // bencoded, but not a dict
    peer.send(Buffer.from([0x41, ...Buffer.alloc(19)]), A); // a bare ST_SYN header (type 4, version 1): uTP
    peer.send(Buffer.from([0x51, ...Buffer.alloc(19)]), A); // type 5: not uTP
    peer.send(Buffer.from([0x02, ...Buffer.alloc(19)]), A); // version 2
    peer.send(Buffer.from([0x01, 0, 0]), A); // too short for uTP
    clock.advance(10);
    assert.equal(krpc.length, 1);
    assert.equal(utp.length, 6);
    assert.deepEqual(demux.counters, { krpc: 1, utp: 6, dropped: 5 });
  });

  test('replies from either side leave through the one shared socket', () => {
    const { clock, demux, peer } = setup();
    const seen: UdpAddress[] = [];
    peer.onPacket((_bytes, from) => seen.push(from));
    demux.krpc.send(Buffer.from('d1:y1:re'), B);
    demux.utp.send(utpPacket(PacketType.ST_STATE), B);
    clock.advance(10);
    assert.deepEqual(seen, [A, A]);
    assert.deepEqual(demux.krpc.localAddress(), A);
  });

  test('a uTP connection works through the demultiplexed side while KRPC shares the port', () => {
    const { clock, network, demux, krpc } = setup();
    const server = new UtpEndpoint({ transport: demux.utp, clock, random: new SeededRandom('s') });
    const client = new UtpEndpoint({
      transport: network.createTransport({ host: '10.0.0.3', port: 1 }),
      clock,
      random: new SeededRandom('c'),
    });
    const accepted: UtpSocket[] = [];
    server.listen((s) => accepted.push(s));
    const socket = client.connect(A);
    clock.advance(20);
    socket.write(Buffer.from('hello over a shared port'));
    clock.advance(20);
    assert.equal(accepted[0]?.read()?.toString(), 'hello over a shared port');
    assert.equal(krpc.length, 0);
  });

  test('closing one side detaches it; its packets are then dropped', () => {
    const { clock, demux, peer, krpc } = setup();
    demux.krpc.close();
    peer.send(Buffer.from('d1:y1:qe'), A);
    clock.advance(10);
    assert.equal(krpc.length, 0);
    assert.equal(demux.counters.dropped, 1);
  });
});
