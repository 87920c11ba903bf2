/**
 * The bootstrap server's sans-I/O core: handleDatagram / handlePacket for every incoming datagram,
 * handleTimeout for the delayed pings and cross-pollination, nextTimeoutMs for when to call it next. It sends
 * through injected senders (one per bound socket) and never reads a clock of its own.
 *
 * A query (ping, find_node, get_peers, get) is answered with the requester's compact address (`ip`), our id and,
 * except for ping, up to responseSize nodes per wanted family taken round-robin from the verified node buffer.
 * Every requester that is not read-only is queued once and pinged after pingDelayMs with a SYN-cookie tid; only a
 * pong from the same address with a valid cookie and a BEP 42-valid id enters the buffer. Nothing else is ever
 * answered, no KRPC error is ever sent, nothing is stored. See docs/BOOTSTRAP.md for the rules and the deviations
 * from bittorrent/bootstrap-dht.
 */
import { isNodeIdValidForHost } from '../dht/index.ts';
import {
  DhtchatError,
  hostFromBytes,
  type Logger,
  nullLogger,
  portFromBytes,
  type UdpAddress,
  writeCompactAddress,
} from '../runtime/index.ts';
import { queueListedNodes } from './cross-pollination.ts';
import { createFamilyState, type FamilyState } from './family-state.ts';
import { QueueAdmission } from './ping-queue.ts';
import { RecentRequesters } from './recent-requesters.ts';
import { MessageKind, ParsedMessage, parseMessage, QueryMethod } from './request-parser.ts';
import { MAX_PACKET_BYTES, ResponseWriter } from './response-writer.ts';
import type { BootstrapServerOptions, BootstrapSocket } from './server-options.ts';
import { classifySource, SourceVerdict } from './source-filter.ts';
import { type BootstrapCounters, type BootstrapStatsSnapshot, zeroCounters } from './stats.ts';
import { COOKIE_BYTES, SynCookies } from './syn-cookie.ts';

// Module-local copies of the vocabularies: the hot path compares plain numbers, not imported objects.
const REJECTED = SourceVerdict.rejected;
const KEYED_BY_IP_AND_PORT = SourceVerdict.keyedByIpAndPort;
const KIND_QUERY = MessageKind.query;
const KIND_RESPONSE = MessageKind.response;
const METHOD_OTHER = QueryMethod.other;
const METHOD_PING = QueryMethod.ping;
const INSERTED = QueueAdmission.inserted;
const DUPLICATE = QueueAdmission.duplicate;

/** Replies never exceed this many times the request's size (see docs/BOOTSTRAP.md, amplification). */
export const AMPLIFICATION_LIMIT = 10;
const MAX_REPLY_BYTES = 1400;
const OUTPUT_RING_SLOTS = 1024;
/** Pings sent per handleTimeout call, so a backlog never blocks the event loop for long. */
const MAX_PINGS_PER_TIMEOUT = 2000;
/** Bytes reserved for a `6:nodes6<len>:` key and length prefix. */
const NODES_KEY_ROOM = 13;

export class BootstrapServer {
  readonly counters: BootstrapCounters = zeroCounters();
  readonly #sockets: readonly BootstrapSocket[];
  readonly #writers: ResponseWriter[];
  readonly #cookies: SynCookies;
  readonly #recent: RecentRequesters;
  readonly #v4: FamilyState;
  readonly #v6: FamilyState;
  readonly #logger: Logger;
  readonly #isPrivateAllowed: boolean;
  readonly #isIdVerified: boolean;
  readonly #responseSize: number;
  readonly #repeatResponseSize: number;
  readonly #randomBytes: (n: number) => Buffer;
  readonly #crossPollinate: UdpAddress | undefined;
  readonly #crossPollinateIntervalMs: number;
  #lastCrossPollinateMs = Number.NEGATIVE_INFINITY;
  readonly #parsed = new ParsedMessage();
  readonly #addr = Buffer.alloc(18);
  /** Scratch for handleDatagram's parse of a host string. */
  readonly #source = Buffer.alloc(18);
  readonly #entry = Buffer.alloc(38);
  readonly #cookie = Buffer.alloc(COOKIE_BYTES);
  readonly #ring: Buffer[] = [];
  #ringNext = 0;
  #statsSinceMs = Number.NaN;

  constructor(options: BootstrapServerOptions) {
    if (options.sockets.length === 0 || options.sockets.length > 255)
      throw new DhtchatError('BOOTSTRAP_BAD_OPTION', '1 to 255 sockets');
    this.#sockets = options.sockets;
    this.#writers = options.sockets.map((s) => new ResponseWriter(s.ownId, options.version));
    this.#logger = options.logger ?? nullLogger;
    this.#isPrivateAllowed = options.isPrivateAllowed ?? false;
    this.#isIdVerified = options.isIdVerified ?? true;
    this.#responseSize = options.responseSize ?? 16;
    this.#repeatResponseSize = Math.min(options.repeatResponseSize ?? 3, this.#responseSize);
    this.#randomBytes = options.randomBytes;
    this.#crossPollinate = options.crossPollinate;
    this.#crossPollinateIntervalMs = options.crossPollinateIntervalMs ?? 10 * 60_000;
    this.#cookies = new SynCookies(options.masterSecret, options.secretRotateMs ?? 10 * 60_000);
    const seed = (): number => options.randomBytes(4).readInt32BE(0);
    const family = (f: 4 | 6): FamilyState =>
      createFamilyState(f, {
        nodesCapacity: options.nodesCapacity ?? 10_000_000,
        pingQueueCapacity: options.pingQueueCapacity ?? 5_000_000,
        pingDelayMs: options.pingDelayMs ?? 15 * 60_000,
        isPrivateAllowed: this.#isPrivateAllowed,
        growIntervalMs: options.growIntervalMs,
        seed,
      });
    this.#v4 = family(4);
    this.#v6 = family(6);
    this.#recent = new RecentRequesters({
      capacity: options.recentCapacity ?? 1_000_000,
      windowMs: options.recentWindowMs ?? 10 * 60_000,
      seed: seed(),
    });
    const ring = Buffer.alloc(OUTPUT_RING_SLOTS * MAX_PACKET_BYTES);
    for (let i = 0; i < OUTPUT_RING_SLOTS; i++) {
      this.#ring.push(ring.subarray(i * MAX_PACKET_BYTES, (i + 1) * MAX_PACKET_BYTES));
    }
  }

  /** Handles one datagram from from on socket socketIndex. */
  handlePacket(bytes: Buffer, from: UdpAddress, nowMs: number, socketIndex = 0): void {
    this.handleDatagram(bytes, from.host, from.port, nowMs, socketIndex);
  }

  /** One datagram from host:port (a host string, as node:dgram reports it). Never throws on remote input. */
  handleDatagram(bytes: Buffer, host: string, port: number, nowMs: number, socketIndex = 0): void {
    const addrLength = writeCompactAddress(host, port, this.#source, 0);
    this.handleCompact(bytes, bytes.length, this.#source, 0, addrLength, nowMs, socketIndex);
  }

  /**
   * The hot path: bytes[0, length) from the compact address (ip then big-endian port, 6 or 18 bytes) at
   * addr[addrOffset]. bytes and addr may be reused by the caller as soon as this returns. Never throws on
   * remote input; allocates nothing for a query.
   */
  handleCompact(
    bytes: Buffer,
    length: number,
    addr: Uint8Array,
    addrOffset: number,
    addrLength: number,
    nowMs: number,
    socketIndex = 0,
  ): void {
    const socket = this.#sockets[socketIndex];
    if (socket === undefined || addrLength !== (socket.family === 4 ? 6 : 18)) {
      this.counters.invalidSources++;
      return;
    }
    const own = this.#addr;
    for (let k = 0; k < addrLength; k++) own[k] = addr[addrOffset + k]!;
    const ipLength = addrLength === 6 ? 4 : 16;
    const verdict = classifySource(own, 0, ipLength, this.#isPrivateAllowed);
    if (verdict === REJECTED) {
      this.counters.invalidSources++;
      return;
    }
    const parsed = this.#parsed;
    const kind = parseMessage(bytes, length, parsed);
    if (kind === KIND_QUERY && parsed.method !== METHOD_OTHER) {
      const keyLength = verdict === KEYED_BY_IP_AND_PORT ? addrLength : ipLength;
      this.#answer(bytes, length, addrLength, keyLength, socketIndex, nowMs);
    } else if (kind === KIND_RESPONSE) {
      this.#handlePong(bytes, addrLength, nowMs);
    } else {
      this.counters.invalidMessages++;
    }
  }

  #answer(
    bytes: Buffer,
    length: number,
    addrLength: number,
    keyLength: number,
    socketIndex: number,
    nowMs: number,
  ): void {
    const parsed = this.#parsed;
    const addr = this.#addr;
    const state = addrLength === 6 ? this.#v4 : this.#v6;
    let admission: QueueAdmission = INSERTED;
    if (parsed.isReadOnly) {
      this.counters.readOnlyQueries++;
    } else {
      if (state.lastKeyLength === keyLength && equalBytes(state.lastKey, addr, keyLength)) {
        this.counters.backToBack++;
        return;
      }
      for (let k = 0; k < keyLength; k++) state.lastKey[k] = addr[k]!;
      state.lastKeyLength = keyLength;
      admission = state.queue.insert(addr, 0, socketIndex, nowMs);
      if (admission === INSERTED) this.counters.queued++;
      else this.counters.queueRefused++;
      if (state.buffer.size < this.#responseSize) this.#rememberFiller(state, bytes, addrLength);
    }
    const isRepeat = this.#recent.isRepeat(addr, 0, keyLength, nowMs) || admission === DUPLICATE;
    if (isRepeat) this.counters.duplicateIps++;

    const writer = this.#writers[socketIndex]!;
    const slot = this.#ringNext;
    const out = this.#ring[slot]!;
    this.#ringNext = (slot + 1) % OUTPUT_RING_SLOTS;
    let pos = writer.beginReply(out, addr, 0, addrLength);
    if (parsed.method !== METHOD_PING) {
      const wantsV4 = parsed.hasWant ? parsed.wantsV4 : addrLength === 6;
      const wantsV6 = parsed.hasWant ? parsed.wantsV6 : addrLength === 18;
      const count = isRepeat ? this.#repeatResponseSize : this.#responseSize;
      // Room for nodes: the reply stays within AMPLIFICATION_LIMIT × the request and MAX_REPLY_BYTES.
      const limit =
        Math.min(MAX_REPLY_BYTES, AMPLIFICATION_LIMIT * length) -
        (writer.replyOverheadBytes(addrLength, parsed.tidLength) - pos) -
        NODES_KEY_ROOM;
      if (wantsV4)
        pos = this.#writeNodes(this.#v4, out, pos, writer, Math.min(count, Math.floor((limit - pos) / 26)));
      if (wantsV6) {
        const room = limit - pos - (wantsV4 ? NODES_KEY_ROOM : 0);
        pos = this.#writeNodes(this.#v6, out, pos, writer, Math.min(count, Math.floor(room / 38)));
      }
    }
    const replyLength = writer.finishReply(out, pos, bytes, parsed.tidOffset, parsed.tidLength);
    if (this.#sockets[socketIndex]!.send(out, replyLength, addr, 0, addrLength)) this.counters.responses++;
    else this.#ringNext = slot; // shed: the slot was never handed out
  }

  /** Writes the nodes key and up to count entries of one family (topped up from fillers); returns the new pos. */
  #writeNodes(state: FamilyState, out: Buffer, pos: number, writer: ResponseWriter, wanted: number): number {
    const buffer = state.buffer;
    const isV6 = buffer.family === 6;
    const count = Math.max(0, wanted);
    const fromBuffer = Math.min(count, buffer.size);
    const isExcluded = state.isInBuffer;
    const fromFiller =
      fromBuffer < count ? state.filler.copy(undefined, 0, count - fromBuffer, isExcluded) : 0;
    pos = writer.writeNodesKey(out, pos, isV6, (fromBuffer + fromFiller) * buffer.entryBytes);
    pos += buffer.copyNodes(out, pos, fromBuffer) * buffer.entryBytes;
    if (fromFiller > 0) {
      pos += state.filler.copy(out, pos, fromFiller, isExcluded) * buffer.entryBytes;
      this.counters.fillerReplies++;
    }
    return pos;
  }

  #rememberFiller(state: FamilyState, bytes: Buffer, addrLength: number): void {
    const id = bytes.subarray(this.#parsed.idOffset, this.#parsed.idOffset + 20);
    if (
      this.#isIdVerified &&
      !isNodeIdValidForHost(id, hostFromBytes(this.#addr, 0, addrLength === 6 ? 4 : 16))
    )
      return;
    const entry = this.#entry;
    id.copy(entry, 0);
    this.#addr.copy(entry, 20, 0, addrLength);
    state.filler.add(entry, 0);
  }

  #handlePong(bytes: Buffer, addrLength: number, nowMs: number): void {
    const parsed = this.#parsed;
    const addr = this.#addr;
    if (!this.#cookies.verify(bytes, parsed.tidOffset, parsed.tidLength, addr, 0, addrLength, nowMs)) {
      this.counters.invalidPongs++;
      return;
    }
    const ipLength = addrLength === 6 ? 4 : 16;
    const host = hostFromBytes(addr, 0, ipLength);
    const port = portFromBytes(addr, 0, ipLength);
    const cross = this.#crossPollinate;
    if (cross !== undefined && cross.host === host && cross.port === port) {
      this.counters.crossPollinated += queueListedNodes(bytes, parsed, [this.#v4, this.#v6], {
        socketIndexFor: (family) => this.#sockets.findIndex((s) => s.family === family),
        isPrivateAllowed: this.#isPrivateAllowed,
        nowMs,
      });
    }
    const id = bytes.subarray(parsed.idOffset, parsed.idOffset + 20);
    if (this.#isIdVerified && !isNodeIdValidForHost(id, host)) {
      this.counters.idFailures++;
      return;
    }
    this.counters.validPongs++;
    const entry = this.#entry;
    id.copy(entry, 0);
    addr.copy(entry, 20, 0, addrLength);
    const state = addrLength === 6 ? this.#v4 : this.#v6;
    if (state.buffer.insert(entry, 0, nowMs)) this.counters.nodesAdded++;
  }

  /** Sends the pings that are due and, when configured and the queues are nearly empty, a cross-pollination. */
  handleTimeout(nowMs: number): void {
    let budget = MAX_PINGS_PER_TIMEOUT;
    for (const state of [this.#v4, this.#v6]) {
      const queue = state.queue;
      while (budget > 0) {
        const slot = queue.popDue(nowMs);
        if (slot < 0) break;
        budget--;
        const base = slot * queue.recordBytes;
        this.#sendPing(queue.store, base + 1, queue.addrLength, queue.store[base]!, nowMs);
      }
    }
    const cross = this.#crossPollinate;
    if (cross !== undefined && nowMs - this.#lastCrossPollinateMs >= this.#crossPollinateIntervalMs) {
      this.#lastCrossPollinateMs = nowMs;
      // Only ask the peer while our own queue is nearly empty (as the reference).
      if (this.#v4.queue.size + this.#v6.queue.size >= 16) return;
      const addrLength = writeCompactAddress(cross.host, cross.port, this.#addr, 0);
      const socketIndex = this.#sockets.findIndex((s) => s.family === (addrLength === 6 ? 4 : 6));
      if (addrLength > 0 && socketIndex >= 0) {
        this.#cookies.write(this.#addr, 0, addrLength, nowMs, this.#cookie);
        const out = this.#nextOutput();
        const length = this.#writers[socketIndex]!.writeFindNode(out, this.#randomBytes(20), this.#cookie);
        if (!this.#sockets[socketIndex]!.send(out, length, this.#addr, 0, addrLength)) this.#unwindOutput();
      }
    }
  }

  /** When handleTimeout should run next (ms since epoch), or undefined when nothing is pending. */
  nextTimeoutMs(): number | undefined {
    // Called after every packet by the scheduler: no arrays, no closures.
    const due4 = this.#v4.queue.nextDueMs();
    const due6 = this.#v6.queue.nextDueMs();
    let next = due4 === undefined ? due6 : due6 === undefined || due4 < due6 ? due4 : due6;
    if (this.#crossPollinate !== undefined) {
      const due = this.#lastCrossPollinateMs + this.#crossPollinateIntervalMs;
      const at = Number.isFinite(due) ? due : 0;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  #sendPing(store: Buffer, offset: number, addrLength: number, socketIndex: number, nowMs: number): void {
    const socket = this.#sockets[socketIndex];
    if (socket === undefined) return;
    this.#cookies.write(store, offset, addrLength, nowMs, this.#cookie);
    const out = this.#nextOutput();
    const length = this.#writers[socketIndex]!.writePing(out, store, offset, addrLength, this.#cookie);
    if (socket.send(out, length, store, offset, addrLength)) {
      this.counters.pingsSent++;
    } else {
      this.#unwindOutput();
    }
  }

  /** Gives back the slot #nextOutput just handed out (its datagram was shed, never queued). */
  #unwindOutput(): void {
    this.#ringNext = (this.#ringNext + OUTPUT_RING_SLOTS - 1) % OUTPUT_RING_SLOTS;
  }

  #nextOutput(): Buffer {
    const out = this.#ring[this.#ringNext]!;
    this.#ringNext = (this.#ringNext + 1) % OUTPUT_RING_SLOTS;
    return out;
  }

  /** Counters since the last snapshot (then reset) plus buffer and queue sizes. */
  snapshot(nowMs: number): BootstrapStatsSnapshot {
    const intervalMs = Number.isNaN(this.#statsSinceMs) ? 0 : nowMs - this.#statsSinceMs;
    this.#statsSinceMs = nowMs;
    const snapshot: BootstrapStatsSnapshot = {
      ...this.counters,
      nodes4: this.#v4.buffer.size,
      nodes6: this.#v6.buffer.size,
      queue4: this.#v4.queue.size,
      queue6: this.#v6.queue.size,
      intervalMs,
    };
    for (const name of Object.keys(this.counters) as (keyof BootstrapCounters)[]) this.counters[name] = 0;
    return snapshot;
  }

  /** The verified nodes of a family as concatenated compact entries (a view; copy before keeping). */
  exportNodes(family: 4 | 6): Buffer {
    return (family === 4 ? this.#v4 : this.#v6).buffer.entries();
  }

  /**
   * Re-adds saved compact entries (from exportNodes of an earlier run), applying the same source and BEP 42
   * rules as a live pong. Returns how many were added.
   */
  importNodes(family: 4 | 6, bytes: Uint8Array, nowMs: number): number {
    const state = family === 4 ? this.#v4 : this.#v6;
    const entryBytes = state.buffer.entryBytes;
    const ipLength = family === 4 ? 4 : 16;
    let added = 0;
    for (let o = 0; o + entryBytes <= bytes.length; o += entryBytes) {
      if (classifySource(bytes, o + 20, ipLength, this.#isPrivateAllowed) === SourceVerdict.rejected)
        continue;
      if (this.#isIdVerified) {
        const id = Buffer.from(bytes.buffer, bytes.byteOffset + o, 20);
        if (!isNodeIdValidForHost(id, hostFromBytes(bytes, o + 20, ipLength))) continue;
      }
      if (state.buffer.insert(bytes, o, nowMs)) added++;
    }
    this.#logger.debug({ family, added }, 'bootstrap nodes restored');
    return added;
  }

  /** Sizes for tests and stats. */
  sizes(): { nodes4: number; nodes6: number; queue4: number; queue6: number } {
    return {
      nodes4: this.#v4.buffer.size,
      nodes6: this.#v6.buffer.size,
      queue4: this.#v4.queue.size,
      queue6: this.#v6.queue.size,
    };
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array, length: number): boolean {
  for (let k = 0; k < length; k++) if (a[k] !== b[k]) return false;
  return true;
}
