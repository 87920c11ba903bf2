/**
 * A UDP socket read and written in batches through the dgram-batch addon: one recvmmsg hands over up to
 * RECEIVE_SLOTS datagrams, and every datagram queued during one callback (a batch of received packets, a timer,
 * a stream write) leaves in one sendmmsg when that callback's microtasks run: a send burst per event-loop turn,
 * not a syscall per packet. Nothing is allocated per datagram: received datagrams are read in place from a
 * preallocated ring (per-slot views made once), their source comes as compact bytes and integers, and sends are
 * copied into a send ring.
 *
 * Users: UdpTransport (the DatagramTransport seam, for the DHT and uTP) and the bootstrap worker (which reads the
 * ring directly). open() returns undefined when the addon is unavailable: callers then use node:dgram.
 */
import { COMPACT_V4_BYTES, writeCompactAddress } from './address-bytes.ts';
import { DhtchatError } from './errors.ts';
import { type DgramBatchBinding, loadDgramBatch } from './native-dgram-batch.ts';

/** Datagrams per recvmmsg call (and per onReceive call). */
export const RECEIVE_SLOTS = 64;
/** Datagrams that may wait for the next flush; a full ring drops (and counts) further sends. */
export const SEND_SLOTS = 1024;
/** Largest datagram received by default (an Ethernet frame's worth); bigger ones are dropped and counted. */
export const DEFAULT_SLOT_BYTES = 2048;
/** Bytes of the send ring by default: SEND_SLOTS datagrams of 2 KiB. */
export const DEFAULT_SEND_RING_BYTES = 2 * 1024 * 1024;
const MAX_DATAGRAM_BYTES = 65507;
const RECV_META_INTS = 8;
const SEND_META_INTS = 8;
/** The kernel coalesces at most 64 datagrams into one GRO receive. */
const MAX_GRO_SEGMENTS = 64;
const RECV_ADDR_BYTES = 18;
const SEND_ADDR_BYTES = 16;

export interface BatchedUdpOpenOptions {
  host: string;
  port: number;
  /** SO_REUSEPORT: several processes bind the same port and the kernel spreads sources among them. */
  isReusePort?: boolean;
  /** For an IPv6 host: refuse IPv4-mapped peers (default false: dual stack, as node:dgram). */
  isV6Only?: boolean;
  /** SO_RCVBUF / SO_SNDBUF (default 4 MiB). */
  bufferBytes?: number;
  /** Largest datagram received (default 2,048 bytes); a bigger one is dropped and counted. */
  slotBytes?: number;
  receiveSlots?: number;
  sendSlots?: number;
  /** Bytes of datagrams that may wait to be sent (default 2 MiB). */
  sendRingBytes?: number;
  /**
   * UDP GRO: the kernel may hand over up to 64 consecutive datagrams of one peer in one receive slot (split into
   * entries here). Needs slots big enough for 64 datagrams (slotBytes 64 KiB); default false.
   */
  isGro?: boolean;
}

/**
 * Called once per receive batch: datagram entries [0, count) are filled. For entry i: receiveLength(i) (< 0:
 * skip), receiveFamily(i), receivePort(i), receiveIpv4(i), the compact address at receiveAddr[i*18], the bytes at
 * receiveOffset(i) in receiveViews[receiveSlot(i)] (valid only until the handler returns). Without GRO, entry i
 * is slot i at offset 0.
 */
export type ReceiveBatchHandler = (count: number) => void;

export class BatchedUdpSocket {
  readonly family: 4 | 6;
  readonly slotBytes: number;
  /** One view per receive slot (slotBytes long). */
  readonly receiveViews: readonly Buffer[];
  /** Per entry, 8 ints: [length, family, port, IPv4 as a uint32 in an int32, slot, offset, 0, 0]. */
  readonly receiveMeta: Int32Array;
  /** Per entry: 18 bytes, the compact address (ip then big-endian port; 6 bytes used for IPv4). */
  readonly receiveAddr: Buffer;
  /** Datagrams dropped because the send ring was full. */
  sendsDropped = 0;
  readonly #binding: DgramBatchBinding;
  readonly #handle: object;
  readonly #sendData: Buffer;
  readonly #sendMeta: Int32Array;
  readonly #sendAddr: Buffer;
  readonly #sendSlots: number;
  /** Pending datagrams' bytes sit in #sendData between #dataHead and #dataTail, wrapping at the end. */
  #dataHead = 0;
  #dataTail = 0;
  /** [send errors, receive errors, truncated, reserved], incremented by the addon. */
  readonly #status: Int32Array;
  #sendFirst = 0;
  #sendCount = 0;
  #isFlushScheduled = false;
  #isWaitingWritable = false;
  #isClosed = false;
  #onReceive: ReceiveBatchHandler = () => {};
  readonly #flushTask = (): void => {
    this.#isFlushScheduled = false;
    this.flush();
  };

  private constructor(
    binding: DgramBatchBinding,
    handle: object,
    family: 4 | 6,
    slotBytes: number,
    rings: {
      recvData: Buffer;
      recvMeta: Int32Array;
      recvAddr: Buffer;
      recvSlots: number;
      sendData: Buffer;
      sendMeta: Int32Array;
      sendAddr: Buffer;
      sendSlots: number;
      status: Int32Array;
    },
  ) {
    this.#binding = binding;
    this.#handle = handle;
    this.family = family;
    this.slotBytes = slotBytes;
    const views: Buffer[] = [];
    for (let i = 0; i < rings.recvSlots; i++)
      views.push(rings.recvData.subarray(i * slotBytes, (i + 1) * slotBytes));
    this.receiveViews = views;
    this.receiveMeta = rings.recvMeta;
    this.receiveAddr = rings.recvAddr;
    this.#sendData = rings.sendData;
    this.#sendMeta = rings.sendMeta;
    this.#sendAddr = rings.sendAddr;
    this.#sendSlots = rings.sendSlots;
    this.#status = rings.status;
  }

  /** Whether the addon loaded (open() can succeed). */
  static isAvailable(): boolean {
    return loadDgramBatch() !== undefined;
  }

  /** Creates and binds the socket; undefined when the addon is unavailable. Throws on bind errors (err.code). */
  static open(options: BatchedUdpOpenOptions): BatchedUdpSocket | undefined {
    const binding = loadDgramBatch();
    if (binding === undefined) return undefined;
    const family = options.host.includes(':') ? 6 : 4;
    const slotBytes = options.slotBytes ?? DEFAULT_SLOT_BYTES;
    const recvSlots = options.receiveSlots ?? RECEIVE_SLOTS;
    const sendSlots = options.sendSlots ?? SEND_SLOTS;
    const isGro = options.isGro ?? false;
    const recvEntries = isGro ? recvSlots * MAX_GRO_SEGMENTS : recvSlots;
    const rings = {
      recvSlots,
      recvEntries,
      // Not zero-filled: pages become resident only where datagrams land, and only written bytes are read.
      recvData: Buffer.allocUnsafeSlow(recvSlots * slotBytes),
      recvMeta: new Int32Array(recvEntries * RECV_META_INTS),
      recvAddr: Buffer.alloc(recvEntries * RECV_ADDR_BYTES),
      sendSlots,
      sendData: Buffer.allocUnsafeSlow(options.sendRingBytes ?? DEFAULT_SEND_RING_BYTES),
      sendMeta: new Int32Array(sendSlots * SEND_META_INTS),
      sendAddr: Buffer.alloc(sendSlots * SEND_ADDR_BYTES),
      // Over an ArrayBuffer of its own: V8 keeps typed arrays of ≤ 64 bytes on its heap, where they may move.
      status: new Int32Array(new ArrayBuffer(64)),
    };
    const handle = openOrThrow(binding, {
      family,
      host: options.host,
      port: options.port,
      isReusePort: options.isReusePort ?? false,
      isV6Only: options.isV6Only ?? false,
      isGro,
      bufferBytes: options.bufferBytes ?? 4 * 1024 * 1024,
      slotBytes,
      ...rings,
    });
    const socket = new BatchedUdpSocket(binding, handle, family, slotBytes, rings);
    binding.start(
      handle,
      (count) => socket.#onReceive(count),
      () => socket.#onWritable(),
    );
    return socket;
  }

  localPort(): number {
    return this.#binding.localPort(this.#handle);
  }

  /** Sets the single receiver of receive batches. */
  onReceive(handler: ReceiveBatchHandler): void {
    this.#onReceive = handler;
  }

  receiveLength(entry: number): number {
    return this.receiveMeta[entry * RECV_META_INTS]!;
  }

  receiveFamily(entry: number): 4 | 6 {
    return this.receiveMeta[entry * RECV_META_INTS + 1] === 6 ? 6 : 4;
  }

  receivePort(entry: number): number {
    return this.receiveMeta[entry * RECV_META_INTS + 2]!;
  }

  /** The IPv4 source as an unsigned 32-bit integer (0 for IPv6). */
  receiveIpv4(entry: number): number {
    return this.receiveMeta[entry * RECV_META_INTS + 3]! >>> 0;
  }

  /** The receive slot holding entry's bytes, and where in it they start. */
  receiveSlot(entry: number): number {
    return this.receiveMeta[entry * RECV_META_INTS + 4]!;
  }

  receiveOffset(entry: number): number {
    return this.receiveMeta[entry * RECV_META_INTS + 5]!;
  }

  /**
   * Queues bytes[offset, offset+length) to the compact address at addr[addrOffset] (6 bytes: IPv4, 18: IPv6).
   * Returns false when it was dropped: the ring is full, the datagram is too big or the address unusable.
   */
  sendToCompact(
    bytes: Uint8Array,
    offset: number,
    length: number,
    addr: Uint8Array,
    addrOffset: number,
    addrLength: number,
  ): boolean {
    const slot = this.#reserve(length);
    if (slot < 0) return false;
    const meta = slot * SEND_META_INTS;
    if (addrLength === COMPACT_V4_BYTES) {
      this.#sendMeta[meta + 1] = 4;
      this.#sendMeta[meta + 2] = (addr[addrOffset + 4]! << 8) | addr[addrOffset + 5]!;
      this.#sendMeta[meta + 3] =
        (addr[addrOffset]! << 24) |
        (addr[addrOffset + 1]! << 16) |
        (addr[addrOffset + 2]! << 8) |
        addr[addrOffset + 3]!;
    } else {
      this.#sendMeta[meta + 1] = 6;
      this.#sendMeta[meta + 2] = (addr[addrOffset + 16]! << 8) | addr[addrOffset + 17]!;
      const base = slot * SEND_ADDR_BYTES;
      for (let k = 0; k < 16; k++) this.#sendAddr[base + k] = addr[addrOffset + k]!;
    }
    return this.#commit(slot, bytes, offset, length);
  }

  /** Queues a datagram to an IPv4 address given as a uint32. */
  sendToIpv4(bytes: Uint8Array, offset: number, length: number, ipv4: number, port: number): boolean {
    const slot = this.#reserve(length);
    if (slot < 0) return false;
    const meta = slot * SEND_META_INTS;
    this.#sendMeta[meta + 1] = 4;
    this.#sendMeta[meta + 2] = port;
    this.#sendMeta[meta + 3] = ipv4 | 0;
    return this.#commit(slot, bytes, offset, length);
  }

  /** Queues a datagram to a host literal (parsed here; callers with integers use sendToIpv4). */
  sendToHost(bytes: Uint8Array, offset: number, length: number, host: string, port: number): boolean {
    const scratch = SCRATCH;
    const addrLength = writeCompactAddress(host, port, scratch, 0);
    if (addrLength === 0) return false;
    return this.sendToCompact(bytes, offset, length, scratch, 0, addrLength);
  }

  /** Sends everything queued (also runs by itself at the end of the callback that queued it). */
  flush(): void {
    if (this.#sendCount === 0 || this.#isClosed) return;
    const sent = this.#binding.flush(this.#handle, this.#sendFirst, this.#sendCount);
    this.#sendFirst = (this.#sendFirst + sent) % this.#sendSlots;
    this.#sendCount -= sent;
    if (this.#sendCount === 0) {
      this.#dataHead = 0;
      this.#dataTail = 0;
      return;
    }
    this.#dataHead = this.#sendMeta[this.#sendFirst * SEND_META_INTS + 4]!;
    if (!this.#isWaitingWritable) {
      // The kernel's buffer is full: wait until it drains rather than spin.
      this.#isWaitingWritable = true;
      this.#binding.wantWritable(this.#handle, true);
    }
  }

  /** Datagrams queued and not yet handed to the kernel. */
  pendingSends(): number {
    return this.#sendCount;
  }

  get sendErrors(): number {
    return this.#status[0]!;
  }

  get receiveErrors(): number {
    return this.#status[1]! + this.#status[2]!;
  }

  close(): void {
    if (this.#isClosed) return;
    this.flush();
    this.#isClosed = true;
    this.#binding.close(this.#handle);
  }

  /** A send slot with room for length bytes (its meta offset set), or -1 (counted as dropped). */
  #reserve(length: number): number {
    if (this.#isClosed || length < 0 || length > MAX_DATAGRAM_BYTES) return -1;
    let offset = this.#dataOffsetFor(length);
    if ((offset < 0 || this.#sendCount === this.#sendSlots) && !this.#isWaitingWritable) {
      this.flush();
      offset = this.#dataOffsetFor(length);
    }
    if (offset < 0 || this.#sendCount === this.#sendSlots) {
      this.sendsDropped++;
      return -1;
    }
    const slot = (this.#sendFirst + this.#sendCount) % this.#sendSlots;
    this.#sendMeta[slot * SEND_META_INTS + 4] = offset;
    this.#dataTail = offset + length;
    return slot;
  }

  /** Where length more bytes fit in the data ring after the pending ones, or -1. */
  #dataOffsetFor(length: number): number {
    const size = this.#sendData.length;
    if (this.#sendCount === 0) return length <= size ? 0 : -1;
    const head = this.#dataHead;
    const tail = this.#dataTail;
    if (tail > head) {
      if (tail + length <= size) return tail;
      return length <= head ? 0 : -1; // wrap: the end of the ring stays unused until the head passes
    }
    return tail + length <= head ? tail : -1;
  }

  #commit(slot: number, bytes: Uint8Array, offset: number, length: number): boolean {
    const at = this.#sendMeta[slot * SEND_META_INTS + 4]!;
    if (Buffer.isBuffer(bytes)) bytes.copy(this.#sendData, at, offset, offset + length);
    else this.#sendData.set(bytes.subarray(offset, offset + length), at);
    this.#sendMeta[slot * SEND_META_INTS] = length;
    this.#sendCount++;
    if (!this.#isFlushScheduled && !this.#isWaitingWritable) {
      this.#isFlushScheduled = true;
      queueMicrotask(this.#flushTask);
    }
    return true;
  }

  #onWritable(): void {
    this.#isWaitingWritable = false;
    this.flush();
  }
}

const SCRATCH = Buffer.alloc(18);

/** Errno codes a caller explains to the user (app/bind-failure.ts), passed through as node:dgram would. */
const BIND_ERRNOS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

function openOrThrow(binding: DgramBatchBinding, options: Parameters<DgramBatchBinding['open']>[0]): object {
  try {
    return binding.open(options);
  } catch (cause) {
    if (BIND_ERRNOS.has(String((cause as { code?: unknown }).code))) throw cause;
    throw new DhtchatError('DGRAM_BATCH_FAILED', `cannot open a batched UDP socket on ${options.host}`, {
      cause,
    });
  }
}
