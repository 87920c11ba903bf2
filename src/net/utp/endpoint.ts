/**
 * The uTP endpoint: many connections on one DatagramTransport, told apart by (remote address, connection id).
 * It is the production driver of the sans-I/O connections: it decodes each datagram once, hands it to its
 * connection, drains the connection's polls into the transport and the socket handles, and keeps ONE timer,
 * re-armed to the earliest deadline of all connections.
 *
 * Unknown traffic: an ST_SYN opens a connection if we listen (up to maxConnections); any other packet for an
 * unknown id is answered with ST_RESET, at most once per source address per resetIntervalMs, so forged traffic
 * cannot be amplified or turned into a flood.
 */
import {
  addressKey,
  type Clock,
  type DatagramTransport,
  DhtchatError,
  type Logger,
  nullLogger,
  type Random,
  type Timer,
  type UdpAddress,
} from '../../runtime/index.ts';
import { resolveConfig, type UtpConfig } from './config.ts';
import { UtpConnection } from './connection.ts';
import { UtpErrorCode } from './errors.ts';
import { decodePacket, encodePacket, PacketType, seqAdd, timestampMicros, type UtpPacket } from './header.ts';
import { UtpSocket } from './socket.ts';

export interface UtpEndpointOptions {
  transport: DatagramTransport;
  clock: Clock;
  random: Random;
  logger?: Logger;
  config?: Partial<UtpConfig>;
  maxConnections?: number;
  resetIntervalMs?: number;
}

export interface UtpEndpointStats {
  packetsIn: number;
  packetsOut: number;
  invalidPackets: number;
  unknownConnectionPackets: number;
  resetsSent: number;
  resetsSuppressed: number;
  synsRefused: number;
}

interface Entry {
  readonly connection: UtpConnection;
  readonly socket: UtpSocket;
  readonly remote: UdpAddress;
}

const MAX_RESET_SOURCES = 4096;

export class UtpEndpoint {
  readonly config: UtpConfig;
  readonly stats: UtpEndpointStats = {
    packetsIn: 0,
    packetsOut: 0,
    invalidPackets: 0,
    unknownConnectionPackets: 0,
    resetsSent: 0,
    resetsSuppressed: 0,
    synsRefused: 0,
  };
  readonly #transport: DatagramTransport;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #logger: Logger;
  readonly #maxConnections: number;
  readonly #resetIntervalMs: number;
  /** Connections by receive id; ids are random, so a list rarely holds more than one (different peers). */
  readonly #byRecvId = new Map<number, Entry[]>();
  #connectionCount = 0;
  readonly #resetSentAt = new Map<string, number>();
  #onConnection: ((socket: UtpSocket) => void) | undefined;
  #timer: Timer | undefined;
  #timerDueMs = Infinity;
  #isClosed = false;

  constructor(options: UtpEndpointOptions) {
    this.config = resolveConfig(options.config);
    this.#transport = options.transport;
    this.#clock = options.clock;
    this.#random = options.random;
    this.#logger = options.logger ?? nullLogger;
    this.#maxConnections = options.maxConnections ?? 1024;
    this.#resetIntervalMs = options.resetIntervalMs ?? 1000;
    this.#transport.onPacket((bytes, from) => this.handleDatagram(bytes, from));
  }

  get connectionCount(): number {
    return this.#connectionCount;
  }

  localAddress(): UdpAddress {
    return this.#transport.localAddress();
  }

  /** Accept incoming connections (without a handler, every SYN is refused with ST_RESET). */
  listen(onConnection: (socket: UtpSocket) => void): void {
    this.#onConnection = onConnection;
  }

  /** Opens a connection; the socket emits 'connected' (or 'closed' with UTP_CONNECT_TIMEOUT). */
  connect(remote: UdpAddress): UtpSocket {
    if (this.#isClosed) throw new DhtchatError(UtpErrorCode.ENDPOINT_CLOSED, 'the uTP endpoint is closed');
    if (this.#connectionCount >= this.#maxConnections) {
      throw new DhtchatError(UtpErrorCode.TOO_MANY_CONNECTIONS, 'uTP connection limit reached');
    }
    // recv id = r, send id = r + 1; both must be free towards this peer (either side may hold the other).
    for (let attempt = 0; attempt < 64; attempt++) {
      const recvId = this.#random.int(0x10000);
      if (this.#find(remote, recvId) !== undefined) continue;
      const connection = UtpConnection.connect(
        this.config,
        recvId,
        this.#random.int(0x10000),
        this.#clock.now(),
        this.#localPacketBytes(remote),
      );
      return this.#add(connection, remote).socket;
    }
    throw new DhtchatError(UtpErrorCode.TOO_MANY_CONNECTIONS, 'no free uTP connection id for this peer');
  }

  /** Feeds one datagram (the transport's handler, or the demultiplexer's). Never throws on remote input. */
  handleDatagram(bytes: Buffer, from: UdpAddress): void {
    if (this.#isClosed) return;
    this.stats.packetsIn++;
    const decoded = decodePacket(bytes);
    if (!decoded.ok) {
      this.stats.invalidPackets++;
      return;
    }
    const packet = decoded.packet;
    const nowMs = this.#clock.now();
    const entry = this.#lookup(packet, from);
    if (entry !== undefined) {
      entry.connection.handlePacket(packet, nowMs);
      this.#service(entry);
      return;
    }
    if (packet.type === PacketType.ST_SYN) {
      this.#acceptSyn(packet, from, nowMs);
      return;
    }
    this.stats.unknownConnectionPackets++;
    if (packet.type !== PacketType.ST_RESET) this.#sendReset(packet, from, nowMs);
  }

  /**
   * Resets every open connection (they report UTP_ENDPOINT_CLOSED) and closes the transport (for a
   * DatagramDemux side that only detaches uTP; the shared socket stays open for KRPC).
   */
  close(): void {
    if (this.#isClosed) return;
    const nowMs = this.#clock.now();
    for (const entry of this.#entries()) {
      entry.connection.reset(nowMs);
      this.#drainTransmits(entry);
      entry.socket.abort(UtpErrorCode.ENDPOINT_CLOSED);
    }
    this.#byRecvId.clear();
    this.#connectionCount = 0;
    this.#isClosed = true;
    this.#timer?.cancel();
    this.#transport.close();
  }

  /** @internal The socket handles call this after every command, to drain polls and re-arm the timer. */
  service(connection: UtpConnection, remote: UdpAddress): void {
    const entry = this.#find(remote, connection.recvId);
    if (entry !== undefined && entry.connection === connection) this.#service(entry);
  }

  /** @internal */
  now(): number {
    return this.#clock.now();
  }

  /** The datagram size to offer this peer: only on loopback, where no router can fragment or truncate. */
  #localPacketBytes(remote: UdpAddress): number {
    return isLoopback(remote.host) ? this.config.localPacketBytes : 0;
  }

  #lookup(packet: UtpPacket, from: UdpAddress): Entry | undefined {
    if (packet.type === PacketType.ST_SYN) return this.#find(from, (packet.connectionId + 1) & 0xffff);
    const entry = this.#find(from, packet.connectionId);
    if (entry !== undefined || packet.type !== PacketType.ST_RESET) return entry;
    // libutp answers with the id it received (our send id), so a reset may name either of our ids.
    for (const candidate of [packet.connectionId + 1, packet.connectionId - 1]) {
      const other = this.#find(from, candidate & 0xffff);
      if (other !== undefined && other.connection.sendId === packet.connectionId) return other;
    }
    return undefined;
  }

  #find(remote: UdpAddress, recvId: number): Entry | undefined {
    const list = this.#byRecvId.get(recvId);
    if (list === undefined) return undefined;
    for (const entry of list) if (isSameAddress(entry.remote, remote)) return entry;
    return undefined;
  }

  #remove(entry: Entry): void {
    const list = this.#byRecvId.get(entry.connection.recvId);
    const at = list?.indexOf(entry) ?? -1;
    if (list === undefined || at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) this.#byRecvId.delete(entry.connection.recvId);
    this.#connectionCount--;
  }

  /** A snapshot of every entry (callers may add or remove while iterating). */
  #entries(): Entry[] {
    const out: Entry[] = [];
    for (const list of this.#byRecvId.values()) out.push(...list);
    return out;
  }

  #acceptSyn(syn: UtpPacket, from: UdpAddress, nowMs: number): void {
    if (this.#onConnection === undefined || this.#connectionCount >= this.#maxConnections) {
      this.stats.synsRefused++;
      this.#sendReset(syn, from, nowMs);
      return;
    }
    const connection = UtpConnection.accept(
      this.config,
      syn,
      this.#random.int(0x10000),
      nowMs,
      this.#localPacketBytes(from),
    );
    const entry = this.#add(connection, from);
    this.#logger.debug({ remote: addressKey(from), recvId: connection.recvId }, 'utp accepted');
    this.#onConnection(entry.socket);
    this.#service(entry);
  }

  #add(connection: UtpConnection, remote: UdpAddress): Entry {
    const socket = new UtpSocket(this, connection, remote);
    const entry: Entry = { connection, socket, remote };
    const list = this.#byRecvId.get(connection.recvId);
    if (list === undefined) this.#byRecvId.set(connection.recvId, [entry]);
    else list.push(entry);
    this.#connectionCount++;
    this.#service(entry);
    return entry;
  }

  /** Drains one connection's polls, forgets it once removable, and re-arms the timer if it is now earlier. */
  #service(entry: Entry): void {
    this.#drainTransmits(entry);
    entry.socket.dispatchEvents();
    this.#drainTransmits(entry);
    if (entry.connection.isRemovable) {
      this.#remove(entry);
      return;
    }
    const dueMs = entry.connection.pollTimeout();
    if (dueMs < this.#timerDueMs) this.#arm(dueMs);
  }

  #drainTransmits(entry: Entry): void {
    for (
      let bytes = entry.connection.pollTransmit();
      bytes !== undefined;
      bytes = entry.connection.pollTransmit()
    ) {
      this.stats.packetsOut++;
      this.#transport.send(bytes, entry.remote);
    }
  }

  #arm(dueMs: number): void {
    this.#timer?.cancel();
    this.#timerDueMs = dueMs;
    if (dueMs === Infinity || this.#isClosed) {
      this.#timer = undefined;
      return;
    }
    this.#timer = this.#clock.setTimer(Math.max(0, dueMs - this.#clock.now()), () => this.#onTimer());
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerDueMs = Infinity;
    const nowMs = this.#clock.now();
    let nextMs = Infinity;
    for (const entry of this.#entries()) {
      if (entry.connection.pollTimeout() <= nowMs) {
        entry.connection.handleTimeout(nowMs);
        this.#service(entry);
      }
      if (!entry.connection.isRemovable) nextMs = Math.min(nextMs, entry.connection.pollTimeout());
    }
    if (nextMs < this.#timerDueMs) this.#arm(nextMs);
  }

  /** ST_RESET for a packet that belongs to no connection; at most one per source per interval. */
  #sendReset(packet: UtpPacket, from: UdpAddress, nowMs: number): void {
    const source = addressKey(from);
    const lastMs = this.#resetSentAt.get(source);
    if (lastMs !== undefined && nowMs - lastMs < this.#resetIntervalMs) {
      this.stats.resetsSuppressed++;
      return;
    }
    if (this.#resetSentAt.size >= MAX_RESET_SOURCES) this.#pruneResetSources(nowMs);
    if (this.#resetSentAt.size >= MAX_RESET_SOURCES) {
      this.stats.resetsSuppressed++;
      return;
    }
    this.#resetSentAt.set(source, nowMs);
    this.stats.resetsSent++;
    this.stats.packetsOut++;
    this.#transport.send(
      encodePacket({
        type: PacketType.ST_RESET,
        // The id it came with: for a SYN that is the initiator's receive id, otherwise its send id, which
        // libutp-style peers also match against (see #lookup).
        connectionId: packet.connectionId,
        timestampUs: timestampMicros(nowMs),
        timestampDiffUs: 0,
        wndSize: 0,
        seqNr: this.#random.int(0x10000),
        // One before their seq_nr: for any packet they sent, that is a number they have sent (libtorrent checks).
        ackNr: seqAdd(packet.seqNr, packet.type === PacketType.ST_SYN ? 0 : -1),
      }),
      from,
    );
  }

  #pruneResetSources(nowMs: number): void {
    for (const [source, atMs] of this.#resetSentAt) {
      if (nowMs - atMs >= this.#resetIntervalMs) this.#resetSentAt.delete(source);
    }
  }
}

function isSameAddress(a: UdpAddress, b: UdpAddress): boolean {
  return a.port === b.port && a.host === b.host;
}

function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1';
}
