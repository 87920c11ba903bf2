/**
 * A relay and its clients on a MemoryNetwork under a ManualClock (the DHT tests' SimNet drives time and the event
 * loop together): a RelayServer behind a UtpEndpoint, and client endpoints that join it with joinRelay.
 */
import type { Duplex } from 'node:stream';
import {
  joinRelay,
  type RelayJoinAttempt,
  type RelayLimits,
  RelayServer,
  type RelayRole,
} from '../../../src/net/relay/index.ts';
import { UtpEndpoint, UtpStream } from '../../../src/net/index.ts';
import { type DatagramTransport, SeededRandom, type UdpAddress } from '../../../src/runtime/index.ts';
import { SimNet } from '../../dht/dht-node-harness.ts';

export interface RelayLab {
  readonly sim: SimNet;
  readonly relay: RelayServer;
  readonly relayAddress: UdpAddress;
  readonly relayUtp: UtpEndpoint;
  /** Every datagram the relay's socket received (to check what it could see). */
  readonly relayHeard: Buffer[];
  client(host: string): UtpEndpoint;
  join(utp: UtpEndpoint, role: RelayRole, ...tokens: Buffer[]): RelayJoinAttempt;
  close(): void;
}

export function createRelayLab(seed: string, limits: Partial<RelayLimits> = {}): RelayLab {
  const sim = new SimNet(seed);
  const endpoints: UtpEndpoint[] = [];
  const relayAddress = { host: '198.18.0.3', port: 6881 };
  const relayHeard: Buffer[] = [];
  const inner = sim.network.createTransport(relayAddress);
  const recording: DatagramTransport = {
    send: (bytes, to) => inner.send(bytes, to),
    onPacket: (handler) =>
      inner.onPacket((bytes, from) => {
        relayHeard.push(Buffer.from(bytes));
        handler(bytes, from);
      }),
    localAddress: () => inner.localAddress(),
    close: () => inner.close(),
  };
  const relayUtp = new UtpEndpoint({
    transport: recording,
    clock: sim.clock,
    random: new SeededRandom(`${seed}/r`),
  });
  endpoints.push(relayUtp);
  const relay = new RelayServer({ clock: sim.clock, limits });
  relayUtp.listen((socket) =>
    relay.accept(new UtpStream(socket, { allowHalfOpen: true }), socket.remoteAddress),
  );
  let count = 0;
  return {
    sim,
    relay,
    relayAddress,
    relayUtp,
    relayHeard,
    client(host) {
      const utp = new UtpEndpoint({
        transport: sim.network.createTransport({ host, port: 7000 }),
        clock: sim.clock,
        random: new SeededRandom(`${seed}/${count++}`),
      });
      endpoints.push(utp);
      return utp;
    },
    join(utp, role, ...tokens) {
      return joinRelay({ utp, relay: relayAddress, join: { role, tokens }, clock: sim.clock });
    },
    close() {
      relay.close();
      for (const e of endpoints) e.close();
      sim.close();
    },
  };
}

/** Everything a stream delivers from now, as it comes (the stream is resumed). */
export function collect(stream: Duplex): {
  bytes: () => Buffer;
  isEnded: () => boolean;
  isClosed: () => boolean;
} {
  const chunks: Buffer[] = [];
  let isEnded = false;
  let isClosed = false;
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => {
    isEnded = true;
  });
  stream.on('close', () => {
    isClosed = true;
  });
  stream.on('error', () => {});
  stream.resume();
  return { bytes: () => Buffer.concat(chunks), isEnded: () => isEnded, isClosed: () => isClosed };
}

/** Settles a promise into a value the test can look at without awaiting it. */
export function outcome<T>(p: Promise<T>): { value?: T; error?: { code?: string } } {
  const out: { value?: T; error?: { code?: string } } = {};
  p.then(
    (value) => {
      out.value = value;
    },
    (error: { code?: string }) => {
      out.error = error;
    },
  );
  return out;
}
