/**
 * The uTP endpoint: many connections on one DatagramTransport, told apart by (remote address, connection id).
 * It is the production driver of the sans-I/O connections: it decodes each datagram once, hands it to its
 * connection, drains the connection's polls into the transport and the socket handles, and keeps ONE timer,
 * re-armed to the earliest deadline of all connections.
 *
 * Incoming connections are opened statelessly: an ST_SYN is answered with a SYN-ACK whose seq_nr is a SYN
 * cookie (syn-cookie.ts) and nothing is stored; the initiator's next packet, acking the cookie, proves it
 * receives at its address, and only then is the connection created (as if the SYN had just been accepted) and
 * that packet handled as its first. Who may hold a connection, and who is evicted to make room, is admission.ts:
 * per-host and per-subnet caps for strangers, a reserve strangers cannot touch for our own dials and trusted
 * peers, the oldest unproven stranger evicted first. A SYN-ACK is never bigger than the SYN it answers and is
 * budgeted per host, per subnet and for all strangers, so SYNs from a forged address cannot turn us into an
 * amplifier. Without state, a proving packet replayed within the cookie's lifetime after its connection is gone
 * opens it again; that costs the replayer nothing new, and the same caps apply.
 *
 * Any other packet for an unknown id is answered with ST_RESET, at most once per source address per
 * resetIntervalMs, so forged traffic cannot be amplified or turned into a flood.
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
import {
  type AdmissionCounts,
  type AdmissionLimits,
  type ConnectionOrigin,
  UtpAdmission,
} from './admission.ts';
import { resolveConfig, type UtpConfig } from './config.ts';
import { UtpConnection } from './connection.ts';
import { UtpErrorCode } from './errors.ts';
import {
  decodePacket,
  encodePacket,
  microsDiff,
  PacketType,
  seqAdd,
  timestampMicros,
  type UtpPacket,
} from './header.ts';
import { SynCookies } from './syn-cookie.ts';
import { UtpSocket } from './socket.ts';

export interface UtpEndpointOptions {
  transport: DatagramTransport;
  clock: Clock;
  random: Random;
  logger?: Logger;
  config?: Partial<UtpConfig>;
  /** The whole connection table (shorthand for admission.maxConnections). */
  maxConnections?: number;
  /** Caps and budgets for incoming connections (admission.ts); defaults scale with maxConnections. */
  admission?: Partial<AdmissionLimits>;
  resetIntervalMs?: number;
}

export interface UtpListenOptions {
  /**
   * Addresses the layer above vouches for (friends' known hosts): their connections use the reserve strangers
   * cannot touch. Asked for every SYN and proven connection: keep it O(1).
   */
  isTrusted?: (address: UdpAddress) => boolean;
}

export interface UtpEndpointStats {
  packetsIn: number;
  packetsOut: number;
  invalidPackets: number;
  unknownConnectionPackets: number;
  resetsSent: number;
  resetsSuppressed: number;
  /** SYNs answered with ST_RESET (not listening, or no room could be made). */
  synsRefused: number;
  /** SYNs answered with a cookie SYN-ACK (no state kept). */
  synAcksSent: number;
  /** SYNs dropped silently: their host or subnet had spent its SYN-ACK budget. */
  synsOverBudget: number;
  /** Connections created from a valid cookie. */
  cookiesAccepted: number;
  /** Proven connections refused for lack of room (answered with ST_RESET). */
  connectionsRefused: number;
  /** Unproven strangers reset to make room (oldest first). */
  evictions: number;
  /** Packets of a first flight that overtook its first packet: neither reset nor accepted (it is resent). */
  firstFlightHeld: number;
}

interface Entry {
  readonly connection: UtpConnection;
  readonly socket: UtpSocket;
  readonly remote: UdpAddress;
}

/** The table's size when no limit is given (admission's other defaults are fractions of it). */
const DEFAULT_MAX_CONNECTIONS = 1024;

const MAX_RESET_SOURCES = 4096;
/** How far past its first packet an initiator's first flight can reach (its initial window is 4 packets). */
const FIRST_FLIGHT_PACKETS = 8;

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
    synAcksSent: 0,
    synsOverBudget: 0,
    cookiesAccepted: 0,
    connectionsRefused: 0,
    evictions: 0,
    firstFlightHeld: 0,
  };
  readonly #transport: DatagramTransport;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #logger: Logger;
  readonly #resetIntervalMs: number;
  readonly #admission: UtpAdmission<Entry>;
  readonly #cookies: SynCookies;
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
    this.#admission = new UtpAdmission<Entry>(
      (entry) => entry.connection.hasPeerAckedData,
      admissionLimits(options.maxConnections, options.admission),
    );
    this.#cookies = new SynCookies(options.clock, options.random);
    this.#resetIntervalMs = options.resetIntervalMs ?? 1000;
    this.#transport.onPacket((bytes, from) => this.handleDatagram(bytes, from));
  }

  get connectionCount(): number {
    return this.#connectionCount;
  }

  /** Connections by origin, and the admission's tracked sources (all bounded; for tests and stats). */
  get admissionCounts(): AdmissionCounts {
    return this.#admission.counts;
  }

  /** Where a socket's connection came from: our dial, a trusted peer, or a stranger. */
  originOf(socket: UtpSocket): ConnectionOrigin | undefined {
    const entry = this.#find(socket.remoteAddress, socket.connection.recvId);
    return entry === undefined ? undefined : this.#admission.originOf(entry);
  }

  localAddress(): UdpAddress {
    return this.#transport.localAddress();
  }

  /** Accept incoming connections (without a handler, every SYN is refused with ST_RESET). */
  listen(onConnection: (socket: UtpSocket) => void, options: UtpListenOptions = {}): void {
    this.#onConnection = onConnection;
    if (options.isTrusted !== undefined) this.#admission.setTrust(options.isTrusted);
  }

  /**
   * Opens a connection; the socket emits 'connected' (or 'closed' with UTP_CONNECT_TIMEOUT). Strangers never
   * make this fail: with the table full, the oldest stranger is evicted; UTP_TOO_MANY_CONNECTIONS only when our
   * own dials and trusted peers hold every slot.
   */
  connect(remote: UdpAddress): UtpSocket {
    if (this.#isClosed) throw new DhtchatError(UtpErrorCode.ENDPOINT_CLOSED, 'the uTP endpoint is closed');
    const decision = this.#admission.admitOutgoing();
    if (!decision.isAdmitted) {
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
        this.#clock.monotonicMs(),
        this.#localPacketBytes(remote),
      );
      if (decision.evict !== undefined) this.#evict(decision.evict, this.#clock.monotonicMs());
      return this.#add(connection, remote, 'outgoing').socket;
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
    const nowMs = this.#clock.monotonicMs();
    const entry = this.#lookup(packet, from);
    if (entry !== undefined) {
      entry.connection.handlePacket(packet, nowMs);
      this.#service(entry);
      return;
    }
    if (packet.type === PacketType.ST_SYN) {
      this.#answerSyn(packet, from, nowMs);
      return;
    }
    if (packet.type !== PacketType.ST_RESET && this.#acceptProven(packet, from, nowMs)) return;
    this.stats.unknownConnectionPackets++;
    if (packet.type !== PacketType.ST_RESET) this.#sendReset(packet, from, nowMs);
  }

  /**
   * Resets every open connection (they report UTP_ENDPOINT_CLOSED) and closes the transport (for a
   * DatagramDemux side that only detaches uTP; the shared socket stays open for KRPC).
   */
  close(): void {
    if (this.#isClosed) return;
    const nowMs = this.#clock.monotonicMs();
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
  monotonicMs(): number {
    return this.#clock.monotonicMs();
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
    this.#admission.remove(entry);
  }

  /** A snapshot of every entry (callers may add or remove while iterating). */
  #entries(): Entry[] {
    const out: Entry[] = [];
    for (const list of this.#byRecvId.values()) out.push(...list);
    return out;
  }

  /**
   * An ST_SYN for no connection: a SYN-ACK carrying a cookie, and no state. Its seq_nr is the cookie; the rest
   * is what an accepted connection would have sent (ack_nr = the SYN's seq_nr, our window, the timestamp
   * difference, and our packet-size offer echoed to a dhtchat initiator), so the initiator cannot tell.
   */
  #answerSyn(syn: UtpPacket, from: UdpAddress, nowMs: number): void {
    if (this.#onConnection === undefined) {
      this.stats.synsRefused++;
      this.#sendReset(syn, from, nowMs);
      return;
    }
    const decision = this.#admission.onSyn(from, nowMs);
    if (decision === 'over-budget') {
      this.stats.synsOverBudget++;
      return;
    }
    if (decision === 'refuse') {
      this.stats.synsRefused++;
      this.#sendReset(syn, from, nowMs);
      return;
    }
    const cookie = this.#cookies.issue({ remote: from, connectionId: syn.connectionId, synSeq: syn.seqNr });
    const offerBytes = this.#localPacketBytes(from);
    this.stats.synAcksSent++;
    this.stats.packetsOut++;
    this.#transport.send(
      encodePacket({
        type: PacketType.ST_STATE,
        connectionId: syn.connectionId,
        timestampUs: timestampMicros(nowMs),
        timestampDiffUs:
          syn.timestampUs === 0 ? 0 : microsDiff(timestampMicros(nowMs), syn.timestampUs) >>> 0,
        wndSize: this.config.recvBufferBytes,
        seqNr: cookie,
        ackNr: syn.seqNr,
        largePacketBytes: offerBytes > 0 && syn.largePacketBytes !== undefined ? offerBytes : undefined,
      }),
      from,
    );
  }

  /**
   * A packet for no connection that may be an initiator's first after our SYN-ACK: its connection_id is the
   * SYN's + 1, its seq_nr the SYN's + 1, and its ack_nr the cookie - 1. A valid cookie creates the connection
   * (if admission finds room) and the packet is handled as its first; false sends it down the unknown path.
   */
  #acceptProven(packet: UtpPacket, from: UdpAddress, nowMs: number): boolean {
    if (this.#onConnection === undefined) return false;
    const connectionId = (packet.connectionId - 1) & 0xffff;
    const synSeq = seqAdd(packet.seqNr, -1);
    const cookie = seqAdd(packet.ackNr, 1);
    if (!this.#cookies.isValid(cookie, { remote: from, connectionId, synSeq })) return false;
    const decision = this.#admission.admitIncoming(from);
    if (!decision.isAdmitted) {
      this.stats.connectionsRefused++;
      this.#sendReset(packet, from, nowMs);
      return true;
    }
    if (decision.evict !== undefined) this.#evict(decision.evict, nowMs);
    this.stats.cookiesAccepted++;
    const connection = UtpConnection.accept(
      this.config,
      { connectionId, seqNr: synSeq, wndSize: packet.wndSize, largePacketBytes: packet.largePacketBytes },
      cookie,
      nowMs,
      this.#localPacketBytes(from),
    );
    const entry = this.#add(connection, from, decision.origin);
    this.#logger.debug(
      { remote: addressKey(from), recvId: connection.recvId, origin: decision.origin },
      'utp accepted',
    );
    this.#onConnection(entry.socket);
    connection.handlePacket(packet, nowMs);
    this.#service(entry);
    return true;
  }

  /** Resets a stranger to make room; its socket reports UTP_EVICTED. */
  #evict(entry: Entry, nowMs: number): void {
    this.stats.evictions++;
    this.#logger.debug({ remote: addressKey(entry.remote), recvId: entry.connection.recvId }, 'utp evicted');
    entry.socket.abort(UtpErrorCode.EVICTED);
    entry.connection.reset(nowMs);
    this.#drainTransmits(entry);
    this.#remove(entry);
  }

  #add(connection: UtpConnection, remote: UdpAddress, origin: ConnectionOrigin): Entry {
    const socket = new UtpSocket(this, connection, remote);
    const entry: Entry = { connection, socket, remote };
    const list = this.#byRecvId.get(connection.recvId);
    if (list === undefined) this.#byRecvId.set(connection.recvId, [entry]);
    else list.push(entry);
    this.#connectionCount++;
    this.#admission.add(entry, origin, remote);
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
    this.#timer = this.#clock.setTimer(Math.max(0, dueMs - this.#clock.monotonicMs()), () => this.#onTimer());
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerDueMs = Infinity;
    const nowMs = this.#clock.monotonicMs();
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
    // Checked only here, where the per-source limit above has already bounded how often it can run.
    if (packet.type !== PacketType.ST_SYN && this.#isLaterFirstFlight(packet, from)) {
      this.stats.firstFlightHeld++;
      return;
    }
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

  /**
   * True when the packet is an initiator's first flight after our SYN-ACK, only not its first packet (that one
   * was lost or reordered): the cookie matches an earlier seq_nr. Resetting would kill a good connection;
   * silence makes the initiator resend its first packet, which then opens the connection. Before we ack
   * anything an initiator's window stays at its initial few packets, so FIRST_FLIGHT_PACKETS back is enough.
   */
  #isLaterFirstFlight(packet: UtpPacket, from: UdpAddress): boolean {
    if (this.#onConnection === undefined || packet.type === PacketType.ST_RESET) return false;
    const connectionId = (packet.connectionId - 1) & 0xffff;
    const cookie = seqAdd(packet.ackNr, 1);
    for (let back = 2; back <= FIRST_FLIGHT_PACKETS; back++) {
      const synSeq = seqAdd(packet.seqNr, -back);
      if (this.#cookies.isValid(cookie, { remote: from, connectionId, synSeq })) return true;
    }
    return false;
  }

  #pruneResetSources(nowMs: number): void {
    for (const [source, atMs] of this.#resetSentAt) {
      if (nowMs - atMs >= this.#resetIntervalMs) this.#resetSentAt.delete(source);
    }
  }
}

/** The caps a table of maxConnections gets unless told otherwise: 3/4 for strangers, 1/16 kept for our dials. */
function admissionLimits(
  maxConnections = DEFAULT_MAX_CONNECTIONS,
  limits: Partial<AdmissionLimits> = {},
): Partial<AdmissionLimits> {
  const max = limits.maxConnections ?? maxConnections;
  return {
    maxConnections: max,
    maxIncoming: max - Math.max(1, Math.floor(max / 16)),
    maxStrangers: Math.floor((max * 3) / 4),
    ...limits,
  };
}

function isSameAddress(a: UdpAddress, b: UdpAddress): boolean {
  return a.port === b.port && a.host === b.host;
}

function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1';
}
