/**
 * uTP benchmarks (issue 4), all in one run so the ratio compares like with like:
 *   - raw uTP: one UtpStream over real loopback UDP, MiB/s and CPU ms per MiB;
 *   - uTP + Noise: the same with SecureStream (Noise_IK, ChaChaPoly) on top;
 *   - TCP + Noise: the same SecureStream framing over a TCP socket on 127.0.0.1; ratio = uTP+Noise / TCP+Noise.
 * With --processes 2 (default) the receiving end runs in a child process, so sender and receiver each have a
 * core, as two TCP endpoints do; with --processes 1 both ends share this event loop. CPU is sender + receiver.
 *
 *   - udx-native (holepunch's reliable-UDP stream, native C) over the same loopback, when --udx names where
 *     it is installed (it is not a dependency of ours: `npm install udx-native` in a scratch folder, then
 *     --udx /that/folder/node_modules/udx-native); ratio = uTP / udx MiB/s and CPU per MiB.
 *
 *   node --import tsx bench/utp.bench.ts [--mib 128] [--packet 1420] [--local-packet 32000] [--processes 2]
 *        [--udx PATH] [--rounds 1]
 *   UTP_BENCH_CONFIG='{"ackEveryPackets":2}' ...   (any UtpConfig override, for tuning)
 *   DHTCHAT_DGRAM_BATCHING=off ...                  (uTP on node:dgram instead of the batched addon)
 * --local-packet is the datagram size two dhtchat endpoints agree on over loopback (0: off, every packet is
 * --packet bytes, as towards libtorrent or across the Internet). Prints a JSON object, then a table.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { ed25519FromSeed } from '../src/crypto/index.ts';
import { SecureStream, type UtpConfig, UtpEndpoint, UtpStream } from '../src/net/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../src/runtime/index.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '128' },
    packet: { type: 'string', default: '1420' },
    'local-packet': { type: 'string', default: '32000' },
    processes: { type: 'string', default: '2' },
    udx: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    role: { type: 'string', default: 'sender' },
  },
});
const totalBytes = Number(values.mib) * 1024 * 1024;
const isTwoProcess = values.processes === '2';
const envConfig = process.env['UTP_BENCH_CONFIG'];
const config: Partial<UtpConfig> = {
  maxPacketBytes: Number(values.packet),
  localPacketBytes: Number(values['local-packet']),
  ...(envConfig === undefined ? {} : (JSON.parse(envConfig) as Partial<UtpConfig>)),
};
const alice = ed25519FromSeed(Buffer.alloc(32, 0xa1));
const bob = ed25519FromSeed(Buffer.alloc(32, 0xb0));
const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

type Kind = 'utp' | 'tcp' | 'udx';

/** The parts of udx-native's API this bench uses (it has no types of its own here). */
interface UdxStreamLike extends Duplex {
  connect(socket: unknown, remoteId: number, port: number, host: string): void;
}
interface UdxLike {
  createSocket(): { bind(port: number, host: string): void; address(): { port: number }; close(): unknown };
  createStream(id: number): UdxStreamLike;
}
function loadUdx(): UdxLike {
  if (values.udx === undefined) throw new Error('--udx PATH is needed for the udx-native rows');
  const Udx = createRequire(import.meta.url)(values.udx) as new () => UdxLike;
  return new Udx();
}
interface Result {
  mibPerSecond: number;
  cpuMsPerMib: number;
  seconds: number;
}
/** The receiving end: a listener whose first accepted stream (Noise responder if secure) counts bytes. */
interface Receiver {
  port: number;
  /** Resolves once totalBytes arrived, with the receiver's CPU ms since it accepted. */
  done: Promise<number>;
  packetBytes: () => number;
  close: () => void;
  /** udx streams are connected from both ends: the receiver learns the sender's port. */
  connectBack?: (port: number) => void;
}

const cpuMs = (since?: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

function wrap(d: Duplex, secure: boolean, isInitiator: boolean): Duplex {
  if (!secure) return d;
  const s = new SecureStream(d, {
    isInitiator,
    identity: isInitiator ? alice : bob,
    ...(isInitiator ? { remoteIdentityPublicKey: bob.publicKey } : {}),
  });
  s.on('error', () => {});
  return s;
}

function countBytes(stream: Duplex, resolve: (cpu: number) => void): void {
  const cpu0 = process.cpuUsage();
  let received = 0;
  stream.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received >= totalBytes) resolve(cpuMs(cpu0));
  });
}

async function listen(kind: Kind, secure: boolean): Promise<Receiver> {
  if (kind === 'udx') {
    const udx = loadUdx();
    const socket = udx.createSocket();
    socket.bind(0, '127.0.0.1');
    const stream = udx.createStream(1);
    stream.on('error', () => {});
    const done = new Promise<number>((resolve) => countBytes(stream, resolve));
    return {
      port: socket.address().port,
      done,
      packetBytes: () => 0,
      connectBack: (port) => stream.connect(socket, 2, port, '127.0.0.1'),
      close: () => {
        stream.destroy();
        void socket.close();
      },
    };
  }
  if (kind === 'tcp') {
    let resolveDone: (cpu: number) => void = () => {};
    const done = new Promise<number>((r) => {
      resolveDone = r;
    });
    const listener = net.createServer((s) => {
      s.setNoDelay(true);
      countBytes(wrap(s, secure, false), resolveDone);
    });
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const { port } = listener.address() as net.AddressInfo;
    return { port, done, packetBytes: () => 0, close: () => listener.close() };
  }
  const transport = await UdpTransport.bind({ host: '127.0.0.1' });
  const endpoint = new UtpEndpoint({ transport, clock: systemClock, random: cryptoRandom, config });
  let packetBytes = 0;
  const done = new Promise<number>((resolve) =>
    endpoint.listen((socket) => {
      const stream = new UtpStream(socket);
      stream.on('error', () => {});
      countBytes(wrap(stream, secure, false), (cpu) => {
        packetBytes = socket.connection.maxPacketBytes;
        resolve(cpu);
      });
    }),
  );
  return {
    port: transport.localAddress().port,
    done,
    packetBytes: () => packetBytes,
    close: () => endpoint.close(),
  };
}

/** Asks the child process for a receiver (the same interface, over IPC). */
function remoteListen(child: ReturnType<typeof fork>, kind: Kind, secure: boolean): Promise<Receiver> {
  return new Promise((resolve) => {
    let packetBytes = 0;
    let resolveDone: (cpu: number) => void = () => {};
    const done = new Promise<number>((r) => {
      resolveDone = r;
    });
    const onMessage = (m: { port?: number; cpuMs?: number; packetBytes?: number }) => {
      if (m.port !== undefined)
        resolve({
          port: m.port,
          done,
          packetBytes: () => packetBytes,
          close: () => {},
          connectBack: (port) => child.send({ connectBack: port }),
        });
      if (m.cpuMs !== undefined) {
        packetBytes = m.packetBytes ?? 0;
        child.off('message', onMessage);
        resolveDone(m.cpuMs);
      }
    };
    child.on('message', onMessage);
    child.send({ kind, secure });
  });
}

async function connect(
  kind: Kind,
  port: number,
  receiver: Receiver,
): Promise<{ stream: Duplex; close: () => void }> {
  if (kind === 'udx') {
    const udx = loadUdx();
    const socket = udx.createSocket();
    socket.bind(0, '127.0.0.1');
    const stream = udx.createStream(2);
    stream.on('error', () => {});
    stream.connect(socket, 1, port, '127.0.0.1');
    receiver.connectBack?.(socket.address().port);
    return {
      stream,
      close: () => {
        stream.destroy();
        void socket.close();
      },
    };
  }
  if (kind === 'tcp') {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    await once(s, 'connect');
    return { stream: s, close: () => s.destroy() };
  }
  const transport = await UdpTransport.bind({ host: '127.0.0.1' });
  const endpoint = new UtpEndpoint({ transport, clock: systemClock, random: cryptoRandom, config });
  const stream = new UtpStream(endpoint.connect({ host: '127.0.0.1', port }));
  stream.on('error', () => {});
  await once(stream, 'connect');
  return { stream, close: () => endpoint.close() };
}

let lastPacketBytes = 0;

async function measure(kind: Kind, secure: boolean, child?: ReturnType<typeof fork>): Promise<Result> {
  const receiver = child === undefined ? await listen(kind, secure) : await remoteListen(child, kind, secure);
  const sender = await connect(kind, receiver.port, receiver);
  const client = wrap(sender.stream, secure, true);
  if (client instanceof SecureStream) await client.handshake;
  const cpuBefore = process.cpuUsage();
  const startNs = process.hrtime.bigint();
  for (let sent = 0; sent < totalBytes; sent += CHUNK.length) {
    if (!client.write(CHUNK)) await once(client, 'drain');
  }
  const receiverCpuMs = await receiver.done;
  const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
  // One process: the receiver's CPU is already in ours.
  const totalCpuMs = cpuMs(cpuBefore) + (child === undefined ? 0 : receiverCpuMs);
  const mib = totalBytes / (1024 * 1024);
  lastPacketBytes = receiver.packetBytes();
  client.destroy();
  sender.close();
  receiver.close();
  return {
    mibPerSecond: Number((mib / seconds).toFixed(1)),
    cpuMsPerMib: Number((totalCpuMs / mib).toFixed(2)),
    seconds: Number(seconds.toFixed(3)),
  };
}

if (values.role === 'receiver') {
  // The child: one receiver per request from the parent, reporting its CPU when the bytes are in.
  let current: Receiver | undefined;
  process.on('message', async (m: { kind?: Kind; secure?: boolean; connectBack?: number }) => {
    if (m.connectBack !== undefined) {
      current?.connectBack?.(m.connectBack);
      return;
    }
    const receiver = await listen(m.kind!, m.secure!);
    current = receiver;
    process.send?.({ port: receiver.port });
    const cpu = await receiver.done;
    process.send?.({ cpuMs: cpu, packetBytes: receiver.packetBytes() });
    setTimeout(() => receiver.close(), 200).unref();
  });
} else {
  const child = isTwoProcess
    ? fork(new URL(import.meta.url).pathname, [...process.argv.slice(2), '--role', 'receiver'], {
        execArgv: ['--import', 'tsx'],
      })
    : undefined;
  const loadBefore = loadavg();
  const rounds: Array<Record<string, Result | number>> = [];
  let packetBytes = 0;
  for (let round = 0; round < Number(values.rounds); round++) {
    // Interleaved, so each round compares like with like on a machine whose load drifts.
    const rawUtp = await measure('utp', false, child);
    packetBytes = lastPacketBytes;
    const udx = values.udx === undefined ? undefined : await measure('udx', false, child);
    const secureUtp = await measure('utp', true, child);
    const secureTcp = await measure('tcp', true, child);
    rounds.push({ rawUtp, ...(udx === undefined ? {} : { udx }), secureUtp, secureTcp });
  }
  child?.kill();
  const median = (key: string): Result | undefined => {
    const rs = rounds.map((r) => r[key] as Result | undefined).filter((r): r is Result => r !== undefined);
    if (rs.length === 0) return undefined;
    return [...rs].sort((a, b) => a.mibPerSecond - b.mibPerSecond)[Math.floor(rs.length / 2)];
  };
  const rawUtp = median('rawUtp')!;
  const udx = median('udx');
  const secureUtp = median('secureUtp')!;
  const secureTcp = median('secureTcp')!;
  const medianRatio = (top: string, bottom: string, field: keyof Result): number => {
    const ratios = rounds
      .map((r) => (r[top] as Result)[field] / (r[bottom] as Result)[field])
      .sort((a, b) => a - b);
    return Number(ratios[Math.floor(ratios.length / 2)]!.toFixed(2));
  };
  const result = {
    name: 'utp-loopback',
    date: new Date().toISOString(),
    loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))),
    loadAverageAfter: loadavg().map((l) => Number(l.toFixed(2))),
    backend: process.env['DHTCHAT_DGRAM_BATCHING'] === 'off' ? 'dgram' : 'batched (if built)',
    mib: totalBytes / (1024 * 1024),
    processes: isTwoProcess ? 2 : 1,
    maxPacketBytes: config.maxPacketBytes,
    localPacketBytes: config.localPacketBytes,
    packetBytesUsed: packetBytes,
    rounds,
    rawUtp,
    udx,
    secureUtp,
    secureTcp,
    // Ratios per round (each pair measured back to back), then their median: robust to a load burst in a round.
    utpToUdxRatio: udx === undefined ? undefined : medianRatio('rawUtp', 'udx', 'mibPerSecond'),
    utpToUdxCpuRatio: udx === undefined ? undefined : medianRatio('udx', 'rawUtp', 'cpuMsPerMib'),
    secureUtpToTcpRatio: medianRatio('secureUtp', 'secureTcp', 'mibPerSecond'),
    secureCpuRatio: medianRatio('secureTcp', 'secureUtp', 'cpuMsPerMib'),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  const row = (name: string, r: Result) =>
    `| ${name.padEnd(14)} | ${String(r.mibPerSecond).padStart(7)} | ${String(r.cpuMsPerMib).padStart(10)} | ${String(r.seconds).padStart(8)} |`;
  process.stdout.write(
    [
      `| stream (median of ${rounds.length}) |   MiB/s | CPU ms/MiB |  seconds |`,
      '| --- | --- | --- | --- |',
      row('uTP', rawUtp),
      ...(udx === undefined ? [] : [row('udx-native', udx)]),
      row('uTP + Noise', secureUtp),
      row('TCP + Noise', secureTcp),
      '',
      ...(udx === undefined
        ? []
        : [
            `uTP / udx-native = ${result.utpToUdxRatio} (CPU per MiB: ${result.utpToUdxCpuRatio}; medians of per-round ratios)`,
          ]),
      `uTP+Noise / TCP+Noise = ${result.secureUtpToTcpRatio} (CPU per MiB: ${result.secureCpuRatio}) · ` +
        `datagrams ${packetBytes} B · ${result.processes} process(es) · load ${result.loadAverageBefore[0]}`,
    ].join('\n') + '\n',
  );
  process.exit(0);
}
