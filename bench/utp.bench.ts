/**
 * uTP benchmarks (issue 4), all in one run so the ratio compares like with like:
 *   - raw uTP: one UtpStream over real loopback UDP, MiB/s and CPU ms per MiB;
 *   - uTP + Noise: the same with SecureStream (Noise_IK, ChaChaPoly) on top;
 *   - TCP + Noise: the same SecureStream framing over a TCP socket on 127.0.0.1; ratio = uTP+Noise / TCP+Noise.
 * With --processes 2 (default) the receiving end runs in a child process, so sender and receiver each have a
 * core, as two TCP endpoints do; with --processes 1 both ends share this event loop. CPU is sender + receiver.
 *
 *   node --import tsx bench/utp.bench.ts [--mib 128] [--packet 1420] [--local-packet 32000] [--processes 2]
 *   UTP_BENCH_CONFIG='{"ackEveryPackets":2}' ...   (any UtpConfig override, for tuning)
 * --local-packet is the datagram size two dhtchat endpoints agree on over loopback (0: off, every packet is
 * --packet bytes, as towards libtorrent or across the Internet). Prints a JSON object, then a table.
 */
import { fork } from 'node:child_process';
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

type Kind = 'utp' | 'tcp';
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
        resolve({ port: m.port, done, packetBytes: () => packetBytes, close: () => {} });
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

async function connect(kind: Kind, port: number): Promise<{ stream: Duplex; close: () => void }> {
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
  const sender = await connect(kind, receiver.port);
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
  process.on('message', async (m: { kind: Kind; secure: boolean }) => {
    const receiver = await listen(m.kind, m.secure);
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
  const rawUtp = await measure('utp', false, child);
  const packetBytes = lastPacketBytes;
  const secureUtp = await measure('utp', true, child);
  const secureTcp = await measure('tcp', true, child);
  child?.kill();
  const result = {
    name: 'utp-loopback',
    mib: totalBytes / (1024 * 1024),
    processes: isTwoProcess ? 2 : 1,
    maxPacketBytes: config.maxPacketBytes,
    localPacketBytes: config.localPacketBytes,
    packetBytesUsed: packetBytes,
    rawUtp,
    secureUtp,
    secureTcp,
    secureUtpToTcpRatio: Number((secureUtp.mibPerSecond / secureTcp.mibPerSecond).toFixed(2)),
    secureCpuRatio: Number((secureTcp.cpuMsPerMib / secureUtp.cpuMsPerMib).toFixed(2)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  const row = (name: string, r: Result) =>
    `| ${name.padEnd(14)} | ${String(r.mibPerSecond).padStart(7)} | ${String(r.cpuMsPerMib).padStart(10)} | ${String(r.seconds).padStart(8)} |`;
  process.stdout.write(
    [
      '| stream         |   MiB/s | CPU ms/MiB |  seconds |',
      '| --- | --- | --- | --- |',
      row('uTP', rawUtp),
      row('uTP + Noise', secureUtp),
      row('TCP + Noise', secureTcp),
      `\nuTP+Noise / TCP+Noise = ${result.secureUtpToTcpRatio} (CPU per MiB: ${result.secureCpuRatio}) · ` +
        `datagrams ${packetBytes} B · ${result.processes} process(es)`,
    ].join('\n') + '\n',
  );
  process.exit(0);
}
