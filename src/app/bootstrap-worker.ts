/**
 * One bootstrap server process (or cluster worker): binds the sockets, feeds datagrams to the sans-I/O
 * BootstrapServer, drives its timeouts, saves and restores its node buffer in the data directory. The socket
 * callback is the hot path: no allocation of our own beyond what node:dgram does per packet.
 */
import dgram from 'node:dgram';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
import { cryptoRandom, DhtchatError, type Logger, systemClock, type UdpAddress } from '../runtime/index.ts';

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
}

/** How often the node buffer is saved while running (also on exit). */
export const BOOTSTRAP_SAVE_INTERVAL_MS = 10 * 60_000;
const SOCKET_BUFFER_BYTES = 8 * 1024 * 1024;

export interface BootstrapWorker {
  readonly address: UdpAddress;
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
  const sockets: dgram.Socket[] = [];
  const serverSockets: BootstrapSocket[] = binds.map((b, i) => ({
    family: b.isV6 ? 6 : 4,
    ownId: config.ids[i]!,
    send: (bytes, length, port, host) => {
      const socket = sockets[i]!;
      // Shed load instead of queueing: a datagram libuv had to queue still points into the server's output
      // ring, and a reply that waits behind a full socket buffer is useless to a bootstrapping node anyway.
      if (socket.getSendQueueCount() > 0) {
        sendsShed++;
        return false;
      }
      try {
        socket.send(bytes, 0, length, port, host);
      } catch {
        sendErrors++;
      }
      return true;
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
    const restored = loadNodes(server, store, config.workerIndex, Date.now(), config.logger);
    config.logger.debug({ event: 'restored', worker: config.workerIndex, ...restored });
  }
  try {
    let port = config.port;
    for (const b of binds) {
      const socket = await bindSocket(b.host, port, b.isV6, config.isClusterWorker);
      sockets.push(socket);
      port = socket.address().port; // --port 0: every socket on the port the first one got
    }
  } catch (cause) {
    for (const s of sockets) s.close();
    throw new DhtchatError('BOOTSTRAP_BIND_FAILED', `cannot bind ${config.host}:${config.port}`, { cause });
  }
  const scheduler = new TimeoutScheduler(server, systemClock);
  sockets.forEach((socket, index) => {
    socket.on('message', (msg, rinfo) => {
      server.handleDatagram(msg, rinfo.address, rinfo.port, Date.now(), index);
      scheduler.poke();
    });
    // ICMP errors and the like on a UDP socket must not stop the server.
    socket.on('error', () => {
      sendErrors++;
    });
  });
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
  const bound = sockets[0]!.address();
  let isStopped = false;
  return {
    address: { host: bound.address, port: bound.port },
    snapshot: () => {
      const snapshot = { ...server.snapshot(Date.now()), sendErrors, sendsShed };
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

function bindSocket(host: string, port: number, isV6: boolean, isShared: boolean): Promise<dgram.Socket> {
  const socket = dgram.createSocket({
    type: isV6 ? 'udp6' : 'udp4',
    ipv6Only: isV6,
    recvBufferSize: SOCKET_BUFFER_BYTES,
    sendBufferSize: SOCKET_BUFFER_BYTES,
    // We only ever send to IP literals (a requester's rinfo, a queued address): answer the lookup synchronously.
    // The default dns.lookup costs a regex, a bound closure and a nextTick per datagram.
    lookup: literalLookup,
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address: host, exclusive: !isShared }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

function literalLookup(
  address: string,
  _options: unknown,
  callback: (error: Error | null, address: string, family: number) => void,
): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}

/** A NodeStore on a directory: synchronous (it runs at start and exit), atomic (temp file + rename). */
export function directoryStore(dir: string): NodeStore {
  return {
    read(name) {
      try {
        return readFileSync(join(dir, name));
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new DhtchatError('BOOTSTRAP_DATA_DIR', `cannot read ${join(dir, name)}`, { cause });
      }
    },
    write(name, bytes) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const path = join(dir, name);
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, bytes, { mode: 0o600 });
      renameSync(temp, path);
    },
  };
}
