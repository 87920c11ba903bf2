/**
 * One UDP socket, two protocols (as uTorrent and libtorrent share one port between the DHT and uTP, which is
 * what makes the address the DHT reports the one a friend can reach). Each datagram goes to exactly one side:
 *   - first byte 'd' (a bencoded dict): KRPC, to the DHT;
 *   - a plausible uTP v1 header (version nibble 1, type 0..4, >= 20 bytes): to uTP;
 *   - anything else: counted and dropped.
 * Each side gets a DatagramTransport of its own; closing a side detaches it, closing the demux closes the socket.
 */
import type { DatagramTransport, PacketHandler, UdpAddress } from '../runtime/index.ts';
import { looksLikeUtp } from './utp/header.ts';

const KRPC_FIRST_BYTE = 0x64; // 'd'

export interface DemuxCounters {
  krpc: number;
  utp: number;
  dropped: number;
}

export class DatagramDemux {
  readonly krpc: DatagramTransport;
  readonly utp: DatagramTransport;
  readonly counters: DemuxCounters = { krpc: 0, utp: 0, dropped: 0 };
  readonly #socket: DatagramTransport;
  #onKrpc: PacketHandler | undefined;
  #onUtp: PacketHandler | undefined;

  constructor(socket: DatagramTransport) {
    this.#socket = socket;
    this.krpc = this.#side((h) => {
      this.#onKrpc = h;
    });
    this.utp = this.#side((h) => {
      this.#onUtp = h;
    });
    socket.onPacket((bytes, from) => this.#route(bytes, from));
  }

  close(): void {
    this.#onKrpc = undefined;
    this.#onUtp = undefined;
    this.#socket.close();
  }

  #route(bytes: Buffer, from: UdpAddress): void {
    if (bytes.length > 0 && bytes[0] === KRPC_FIRST_BYTE) {
      if (this.#onKrpc === undefined) this.counters.dropped++;
      else {
        this.counters.krpc++;
        this.#onKrpc(bytes, from);
      }
      return;
    }
    if (looksLikeUtp(bytes) && this.#onUtp !== undefined) {
      this.counters.utp++;
      this.#onUtp(bytes, from);
      return;
    }
    this.counters.dropped++;
  }

  #side(setHandler: (handler: PacketHandler | undefined) => void): DatagramTransport {
    const socket = this.#socket;
    let isClosed = false;
    return {
      send: (bytes, to) => {
        if (!isClosed) socket.send(bytes, to);
      },
      onPacket: (handler) => {
        if (!isClosed) setHandler(handler);
      },
      localAddress: () => socket.localAddress(),
      close: () => {
        isClosed = true;
        setHandler(undefined);
      },
    };
  }
}
