/**
 * One bootstrap server process (or cluster worker): binds the sockets, feeds datagrams to the sans-I/O
 * BootstrapServer, drives its timeouts, saves and restores its node buffer in the data directory.
 *
 * The socket callback is the hot path. With the batched addon (runtime BatchedUdpSocket) it allocates nothing
 * per datagram: 64 queries per recvmmsg are parsed in place in the receive ring, their sources arrive as
 * compact bytes, the replies are copied into the send ring and leave in one sendmmsg per batch. Cluster workers
 * then bind their own SO_REUSEPORT socket each, so the kernel spreads sources over them (no shared socket that
 * wakes every worker for every datagram). Without the addon: node:dgram, workers sharing one socket through
 * node:cluster.
 */
import dgram from 'node:dgram';
import { closeSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BootstrapSocket,
  BootstrapServer,
  type BootstrapStatsSnapshot,
  loadNodes,
  type NodeStore,
  saveNodes,
  TimeoutScheduler,
} from '../bootstrap/index.ts';
import {
  BatchedUdpSocket,
  cryptoRandom,
  DhtchatError,
  hostFromBytes,
  type Logger,
  portFromBytes,
  systemClock,
  type UdpAddress,
} from '../runtime/index.ts';

export interface BootstrapWorkerConfig {
  workerIndex: number;
  /** Whether sockets share the port through node:cluster (bind with exclusive: false from a worker). */
  isClusterWorker: boolean;
  host: string;
  port: number;
  ipv6: readonly string[];
  /** Own ids: the IPv4 socket's, then one per --ipv6 address. */
  ids: readonly Buffer[];
  masterSecret: Buffer;
  nodes: number;
  pingQueue: number;
  responseSize: number;
  /** Nodes for a repeat requester (default 3; the benchmark sets it to responseSize to measure full replies). */
  repeatResponseSize?: number;
  pingDelayMs: number;
  secretRotateMs: number;
  dataDir: string | undefined;
  isPrivateAllowed: boolean;
  isIdVerified: boolean;
  version: Buffer | undefined;
  crossPollinate: UdpAddress | undefined;
  logger: Logger;
  /** Use the batched addon when it loads (default true); false forces node:dgram (tests, comparisons). */
  isBatchingAllowed?: boolean;
}

/** How often the node buffer is saved while running (also on exit). */
export const BOOTSTRAP_SAVE_INTERVAL_MS = 10 * 60_000;
const SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;
/** Largest query we read (bigger datagrams are dropped and counted): KRPC queries fit one Ethernet frame. */
const RECEIVE_SLOT_BYTES = 1536;
/** Replies that may wait for the kernel; past that, shed (sendsShed) like a full dgram queue. */
const SEND_SLOTS = 1024;

export interface BootstrapWorker {
  readonly address: UdpAddress;
  /** 'batched' (recvmmsg/sendmmsg addon) or 'dgram'. */
  readonly backend: 'batched' | 'dgram';
  /** Counters since the last call, sizes, and the socket send errors. */
  snapshot(): BootstrapStatsSnapshot & { sendErrors: number; sendsShed: number };
  /** Saves the buffer (if a data dir is set) and closes the sockets. */
  stop(): void;
}

export async function startBootstrapWorker(config: BootstrapWorkerConfig): Promise<BootstrapWorker> {
  const binds = [
    { host: config.host, isV6: config.host.includes(':') },
    ...config.ipv6.map((h) => ({ host: h, isV6: true })),
  ];
  let sendErrors = 0;
  let sendsShed = 0;
  // The server is built (and its buffer restored) before the sockets are bound: no datagram waits on a loading
  // server, and the listening line means "serving".
  const sockets: BoundSocket[] = [];
  const serverSockets: BootstrapSocket[] = binds.map((b, i) => ({
    family: b.isV6 ? 6 : 4,
    ownId: config.ids[i]!,
    send: (bytes, length, addr, addrOffset, addrLength) => {
      if (sockets[i]!.send(bytes, length, addr, addrOffset, addrLength)) return true;
      sendsShed++;
      return false;
    },
  }));
  const server = new BootstrapServer({
    sockets: serverSockets,
    masterSecret: config.masterSecret,
    randomBytes: (n) => cryptoRandom.bytes(n),
    logger: config.logger,
    nodesCapacity: config.nodes,
    pingQueueCapacity: config.pingQueue,
    responseSize: config.responseSize,
    repeatResponseSize: config.repeatResponseSize,
    pingDelayMs: config.pingDelayMs,
    secretRotateMs: config.secretRotateMs,
    isPrivateAllowed: config.isPrivateAllowed,
    isIdVerified: config.isIdVerified,
    version: config.version,
    crossPollinate: config.crossPollinate,
  });
  const store = config.dataDir === undefined ? undefined : directoryStore(config.dataDir);
  if (store !== undefined) {
    const restored = loadNodes(server, store, config.workerIndex, systemClock.monotonicMs(), config.logger);
    config.logger.debug({ event: 'restored', worker: config.workerIndex, ...restored });
  }
  const scheduler = new TimeoutScheduler(server, systemClock);
  const isBatched = (config.isBatchingAllowed ?? true) && BatchedUdpSocket.isAvailable();
  try {
    let port = config.port;
    for (const [index, b] of binds.entries()) {
      const socket = isBatched
        ? bindBatched(b.host, port, b.isV6, config.isClusterWorker, index, server, scheduler)
        : await bindDgram(b.host, port, b.isV6, config.isClusterWorker, index, server, scheduler);
      socket.onError(() => {
        sendErrors++;
      });
      sockets.push(socket);
      port = socket.port; // --port 0: every socket on the port the first one got
    }
  } catch (cause) {
    for (const s of sockets) s.close();
    throw new DhtchatError('BOOTSTRAP_BIND_FAILED', `cannot bind ${config.host}:${config.port}`, { cause });
  }
  scheduler.poke();
  const save = (): void => {
    if (store === undefined) return;
    try {
      saveNodes(server, store, config.workerIndex);
    } catch (error) {
      config.logger.warn({ event: 'save-failed', error: String(error) });
    }
  };
  const saveTimer = setInterval(save, BOOTSTRAP_SAVE_INTERVAL_MS);
  saveTimer.unref();
  let isStopped = false;
  return {
    address: { host: config.host, port: sockets[0]!.port },
    backend: isBatched ? 'batched' : 'dgram',
    snapshot: () => {
      for (const s of sockets) sendErrors += s.takeErrors();
      const snapshot = { ...server.snapshot(systemClock.monotonicMs()), sendErrors, sendsShed };
      sendErrors = 0;
      sendsShed = 0;
      return snapshot;
    },
    stop: () => {
      if (isStopped) return;
      isStopped = true;
      clearInterval(saveTimer);
      scheduler.stop();
      for (const s of sockets) s.close();
      save();
    },
  };
}

/** One bound socket of the worker, whichever backend carries it. */
interface BoundSocket {
  readonly port: number;
  /** Sends bytes[0, length) to a compact address; false when it had to shed the datagram. */
  send(bytes: Buffer, length: number, addr: Uint8Array, addrOffset: number, addrLength: number): boolean;
  onError(handler: () => void): void;
  /** Send and receive errors counted since the last call. */
  takeErrors(): number;
  close(): void;
}

/** The batched addon: the receive ring is read in place, one clock reading and one poke() per batch. */
function bindBatched(
  host: string,
  port: number,
  isV6: boolean,
  isReusePort: boolean,
  index: number,
  server: BootstrapServer,
  scheduler: TimeoutScheduler,
): BoundSocket {
  const socket = BatchedUdpSocket.open({
    host,
    port,
    isReusePort,
    isV6Only: isV6,
    bufferBytes: SOCKET_BUFFER_BYTES,
    slotBytes: RECEIVE_SLOT_BYTES,
    sendSlots: SEND_SLOTS,
    sendRingBytes: SEND_SLOTS * 1500,
  })!;
  const views = socket.receiveViews;
  const meta = socket.receiveMeta;
  const addr = socket.receiveAddr;
  // Without GRO, entry i is the whole of receive slot i: meta[i * 8] its length, meta[i * 8 + 1] its family.
  socket.onReceive((count) => {
    const nowMs = systemClock.monotonicMs();
    for (let i = 0; i < count; i++) {
      const length = meta[i * 8]!;
      if (length < 0) continue;
      server.handleCompact(views[i]!, length, addr, i * 18, meta[i * 8 + 1] === 4 ? 6 : 18, nowMs, index);
    }
    scheduler.poke();
  });
  let reported = 0;
  return {
    port: socket.localPort(),
    send: (bytes, length, to, toOffset, toLength) =>
      socket.sendToCompact(bytes, 0, length, to, toOffset, toLength),
    onError: () => {},
    takeErrors: () => {
      const total = socket.sendErrors + socket.receiveErrors;
      const fresh = total - reported;
      reported = total;
      return fresh;
    },
    close: () => socket.close(),
  };
}

async function bindDgram(
  host: string,
  port: number,
  isV6: boolean,
  isShared: boolean,
  index: number,
  server: BootstrapServer,
  scheduler: TimeoutScheduler,
): Promise<BoundSocket> {
  const socket = dgram.createSocket({
    type: isV6 ? 'udp6' : 'udp4',
    ipv6Only: isV6,
    recvBufferSize: SOCKET_BUFFER_BYTES,
    sendBufferSize: SOCKET_BUFFER_BYTES,
    // We only ever send to IP literals (a requester's rinfo, a queued address): answer the lookup synchronously.
    // The default dns.lookup costs a regex, a bound closure and a nextTick per datagram.
    lookup: literalLookup,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address: host, exclusive: !isShared }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('message', (msg, rinfo) => {
    server.handleDatagram(msg, rinfo.address, rinfo.port, systemClock.monotonicMs(), index);
    scheduler.poke();
  });
  let errors = 0;
  return {
    port: socket.address().port,
    send: (bytes, length, addr, addrOffset, addrLength) => {
      // Shed load instead of queueing: a datagram libuv had to queue still points into the server's output
      // ring, and a reply that waits behind a full socket buffer is useless to a bootstrapping node anyway.
      if (socket.getSendQueueCount() > 0) return false;
      const ipLength = addrLength === 6 ? 4 : 16;
      try {
        socket.send(
          bytes,
          0,
          length,
          portFromBytes(addr, addrOffset, ipLength),
          hostFromBytes(addr, addrOffset, ipLength),
        );
      } catch {
        errors++;
      }
      return true;
    },
    // ICMP errors and the like on a UDP socket must not stop the server.
    onError: (handler) => socket.on('error', handler),
    takeErrors: () => {
      const fresh = errors;
      errors = 0;
      return fresh;
    },
    close: () => socket.close(),
  };
}

function literalLookup(
  address: string,
  _options: unknown,
  callback: (error: Error | null, address: string, family: number) => void,
): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}

/** Bytes read at a time when restoring a buffer (a full IPv4 buffer is 260 MB: never read whole). */
const READ_PIECE_BYTES = 1024 * 1024;

/** A NodeStore on a directory: synchronous (it runs at start and exit), atomic (temp file + rename). */
export function directoryStore(dir: string): NodeStore {
  return {
    read(name, onBytes) {
      let fd: number;
      try {
        fd = openSync(join(dir, name), 'r');
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw new DhtchatError('BOOTSTRAP_DATA_DIR', `cannot read ${join(dir, name)}`, { cause });
      }
      try {
        const piece = Buffer.allocUnsafe(READ_PIECE_BYTES);
        for (;;) {
          const n = readSync(fd, piece, 0, piece.length, null);
          if (n === 0) return true;
          onBytes(piece.subarray(0, n));
        }
      } catch (cause) {
        throw new DhtchatError('BOOTSTRAP_DATA_DIR', `cannot read ${join(dir, name)}`, { cause });
      } finally {
        closeSync(fd);
      }
    },
    write(name, parts) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const path = join(dir, name);
      const temp = `${path}.${process.pid}.tmp`;
      const fd = openSync(temp, 'w', 0o600);
      try {
        for (const part of parts) {
          for (let at = 0; at < part.length; ) at += writeSync(fd, part, at, part.length - at);
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, path);
    },
  };
}
