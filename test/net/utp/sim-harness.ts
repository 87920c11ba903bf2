/**
 * The test driver for uTP on virtual time: two UtpEndpoints on a seeded MemoryNetwork under a ManualClock, with
 * sockets used directly (no streams, so no event-loop turns are needed). Every run is bounded in steps and
 * reports its seed so a failure can be replayed exactly.
 */
import { type LinkModel, MemoryNetwork } from '../../../sim/memory-network.ts';
import { type ConnectionStats, type UtpConfig, UtpEndpoint, type UtpSocket } from '../../../src/net/index.ts';
import { ManualClock, SeededRandom } from '../../../src/runtime/index.ts';

export interface Pair {
  clock: ManualClock;
  network: MemoryNetwork;
  client: UtpEndpoint;
  server: UtpEndpoint;
  accepted: UtpSocket[];
  seed: string;
}

export function makePair(seed: string, link: Partial<LinkModel>, config: Partial<UtpConfig> = {}): Pair {
  const clock = new ManualClock();
  const random = new SeededRandom(seed);
  const network = new MemoryNetwork(clock, new SeededRandom(`${seed}/net`), link);
  const client = new UtpEndpoint({
    transport: network.createTransport({ host: '10.0.0.1', port: 1000 }),
    clock,
    random: new SeededRandom(`${seed}/client`),
    config,
  });
  const server = new UtpEndpoint({
    transport: network.createTransport({ host: '10.0.0.2', port: 2000 }),
    clock,
    random,
    config,
  });
  const accepted: UtpSocket[] = [];
  server.listen((socket) => accepted.push(socket));
  return { clock, network, client, server, accepted, seed };
}

/** Deterministic pseudo-random bytes (fast: xorshift, seeded). */
export function patternBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export interface TransferResult {
  received: Buffer;
  virtualMs: number;
  steps: number;
  isClientClosed: boolean;
  isServerEnded: boolean;
  clientError: string | undefined;
  /** The client's connection counters (retransmits, fast retransmits, timeouts, ...). */
  clientStats: ConnectionStats;
}

/**
 * Client connects, writes `data` in chunks as backpressure allows, ends; the server reads everything until the
 * FIN. Steps the clock by stepMs until both sides are done or maxSteps runs out.
 */
export function runTransfer(pair: Pair, data: Buffer, maxSteps: number, stepMs = 1): TransferResult {
  const { clock, client, server, accepted } = pair;
  const socket = client.connect(server.localAddress());
  const chunks: Buffer[] = [];
  let offset = 0;
  let isServerEnded = false;
  let isClientClosed = false;
  let clientError: string | undefined;
  const pushData = (): void => {
    while (offset < data.length && socket.sendQueueBytes < 256 * 1024 && !socket.isClosed) {
      const end = Math.min(data.length, offset + 64 * 1024);
      socket.write(data.subarray(offset, end));
      offset = end;
    }
    if (offset >= data.length && !socket.isClosed) socket.end();
  };
  socket.onEvent((event) => {
    if (event.type === 'connected' || event.type === 'drain') pushData();
    if (event.type === 'closed') {
      isClientClosed = true;
      clientError = event.errorCode;
    }
  });
  let isServerHooked = false;
  const startMs = clock.monotonicMs();
  let steps = 0;
  for (; steps < maxSteps; steps++) {
    const peer = accepted[0];
    if (peer !== undefined && !isServerHooked) {
      isServerHooked = true;
      peer.onEvent((event) => {
        if (event.type === 'readable' || event.type === 'end') {
          for (let c = peer.read(); c !== undefined; c = peer.read()) chunks.push(c);
        }
        if (event.type === 'end') {
          isServerEnded = true;
          peer.end();
        }
      });
    }
    if (socket.isConnected && offset < data.length) pushData();
    if (isServerEnded && isClientClosed) break;
    if (isClientClosed && clientError !== undefined) break;
    clock.advance(stepMs);
  }
  return {
    received: Buffer.concat(chunks),
    virtualMs: clock.monotonicMs() - startMs,
    steps,
    isClientClosed,
    isServerEnded,
    clientError,
    clientStats: { ...socket.connection.stats },
  };
}
