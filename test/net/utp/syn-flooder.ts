/**
 * A uTP SYN flooder for tests, on any DatagramTransport (memory network or a real socket). It keeps no state:
 * every SYN gets a fresh connection id, and (when completing) every SYN-ACK it receives is answered at once with
 * the ST_STATE a real initiator sends (connection_id + 1, seq_nr = SYN's + 1, ack_nr = cookie - 1), so each
 * SYN-ACK turns into a connection the victim holds. A blind flooder (isCompleting false) stands for SYNs from
 * forged addresses: it never answers.
 */
import { decodePacket, encodePacket, PacketType } from '../../../src/net/index.ts';
import type { DatagramTransport, UdpAddress } from '../../../src/runtime/index.ts';

export interface FloodCounters {
  synsSent: number;
  bytesSent: number;
  synAcksReceived: number;
  bytesReceived: number;
  completionsSent: number;
  resetsReceived: number;
}

export class SynFlooder {
  readonly counters: FloodCounters = {
    synsSent: 0,
    bytesSent: 0,
    synAcksReceived: 0,
    bytesReceived: 0,
    completionsSent: 0,
    resetsReceived: 0,
  };
  readonly #transport: DatagramTransport;
  readonly #target: UdpAddress;
  readonly #isCompleting: boolean;
  #nextId: number;

  constructor(transport: DatagramTransport, target: UdpAddress, isCompleting: boolean, firstId = 0) {
    this.#transport = transport;
    this.#target = target;
    this.#isCompleting = isCompleting;
    this.#nextId = firstId;
    transport.onPacket((bytes, from) => this.#onPacket(bytes, from));
  }

  /** Sends `count` SYNs, each for a new connection id (even ids, as initiators use recv id = id). */
  sendSyns(count: number): void {
    for (let i = 0; i < count; i++) {
      this.#nextId += 2;
      const id = this.#nextId & 0xffff;
      this.#send(
        encodePacket({
          type: PacketType.ST_SYN,
          connectionId: id,
          timestampUs: 1,
          timestampDiffUs: 0,
          wndSize: 1 << 20,
          seqNr: id ^ 0x5555,
          ackNr: 0,
        }),
      );
      this.counters.synsSent++;
    }
  }

  close(): void {
    this.#transport.close();
  }

  #onPacket(bytes: Buffer, from: UdpAddress): void {
    this.counters.bytesReceived += bytes.length;
    const decoded = decodePacket(bytes);
    if (!decoded.ok || from.port !== this.#target.port) return;
    const p = decoded.packet;
    if (p.type === PacketType.ST_RESET) this.counters.resetsReceived++;
    if (p.type !== PacketType.ST_STATE) return;
    this.counters.synAcksReceived++;
    if (!this.#isCompleting) return;
    this.counters.completionsSent++;
    this.#send(
      encodePacket({
        type: PacketType.ST_STATE,
        connectionId: p.connectionId + 1,
        timestampUs: 2,
        timestampDiffUs: 0,
        wndSize: 1 << 20,
        seqNr: p.ackNr + 1,
        ackNr: p.seqNr - 1,
      }),
    );
  }

  #send(bytes: Buffer): void {
    this.counters.bytesSent += bytes.length;
    this.#transport.send(bytes, this.#target);
  }
}
