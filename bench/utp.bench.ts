/**
 * uTP benchmarks (issue 4), all in one run so the ratio compares like with like:
 *   - raw uTP: one UtpStream over real loopback UDP, MiB/s and CPU ms per MiB;
 *   - uTP + Noise: the same with SecureStream (Noise_IK, ChaChaPoly) on top;
 *   - TCP + Noise: the same SecureStream framing over a TCP socket on 127.0.0.1; ratio = uTP+Noise / TCP+Noise.
 * Both ends run in this one process (one event loop does sending and receiving), so CPU is sender + receiver.
 *
 *   node --import tsx bench/utp.bench.ts [--mib 128] [--packet 1420]
 *   UTP_BENCH_CONFIG='{"ackEveryPackets":2}' ...   (any UtpConfig override, for tuning)
 * Prints a JSON object, then a table.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { ed25519FromSeed } from '../src/crypto/index.ts';
import { SecureStream, type UtpConfig, UtpEndpoint, UtpStream } from '../src/net/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../src/runtime/index.ts';

const { values } = parseArgs({
  options: { mib: { type: 'string', default: '128' }, packet: { type: 'string', default: '1420' } },
});
const totalBytes = Number(values.mib) * 1024 * 1024;
const envConfig = process.env['UTP_BENCH_CONFIG'];
const config: Partial<UtpConfig> = {
  maxPacketBytes: Number(values.packet),
  ...(envConfig === undefined ? {} : (JSON.parse(envConfig) as Partial<UtpConfig>)),
};
const alice = ed25519FromSeed(Buffer.alloc(32, 0xa1));
const bob = ed25519FromSeed(Buffer.alloc(32, 0xb0));
const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

interface Result {
  mibPerSecond: number;
  cpuMsPerMib: number;
  seconds: number;
}

/** Connects a pair of Duplexes (client, accepted server side), moves totalBytes client → server, measures. */
async function measure(
  connectPair: () => Promise<{ client: Duplex; server: Promise<Duplex>; close: () => void }>,
  secure: boolean,
): Promise<Result> {
  const pair = await connectPair();
  const wrap = (d: Duplex, isInitiator: boolean): Duplex =>
    secure
      ? new SecureStream(d, {
          isInitiator,
          identity: isInitiator ? alice : bob,
          ...(isInitiator ? { remoteIdentityPublicKey: bob.publicKey } : {}),
        })
      : d;
  const client = wrap(pair.client, true);
  const server = wrap(await pair.server, false);
  client.on('error', () => {});
  server.on('error', () => {});
  let received = 0;
  const done = new Promise<void>((resolve) => {
    server.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= totalBytes) resolve();
    });
  });
  if (client instanceof SecureStream) await client.handshake;
  const cpuBefore = process.cpuUsage();
  const startNs = process.hrtime.bigint();
  for (let sent = 0; sent < totalBytes; sent += CHUNK.length) {
    if (!client.write(CHUNK)) await once(client, 'drain');
  }
  await done;
  const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const mib = received / (1024 * 1024);
  client.destroy();
  server.destroy();
  pair.close();
  return {
    mibPerSecond: Number((mib / seconds).toFixed(1)),
    cpuMsPerMib: Number(((cpu.user + cpu.system) / 1000 / mib).toFixed(2)),
    seconds: Number(seconds.toFixed(3)),
  };
}

let lastUtpStats: Record<string, number> = {};

async function utpPair() {
  const [a, b] = await Promise.all([
    UdpTransport.bind({ host: '127.0.0.1' }),
    UdpTransport.bind({ host: '127.0.0.1' }),
  ]);
  const clientEndpoint = new UtpEndpoint({ transport: a, clock: systemClock, random: cryptoRandom, config });
  const serverEndpoint = new UtpEndpoint({ transport: b, clock: systemClock, random: cryptoRandom, config });
  const server = new Promise<Duplex>((resolve) =>
    serverEndpoint.listen((socket) => resolve(new UtpStream(socket))),
  );
  const client = new UtpStream(clientEndpoint.connect(serverEndpoint.localAddress()));
  await once(client, 'connect');
  return {
    client,
    server,
    close: () => {
      const s = client.socket.connection.stats;
      lastUtpStats = {
        packetsSent: s.packetsSent,
        retransmits: s.retransmits + s.fastRetransmits,
        timeouts: s.timeouts,
        sendErrors: a.sendErrors + b.sendErrors,
      };
      clientEndpoint.close();
      serverEndpoint.close();
    },
  };
}

async function tcpPair() {
  const listener = net.createServer();
  const server = new Promise<Duplex>((resolve) => listener.once('connection', (s: net.Socket) => resolve(s)));
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as net.AddressInfo;
  const client = net.connect(port, '127.0.0.1');
  client.setNoDelay(true);
  await once(client, 'connect');
  return { client, server, close: () => listener.close() };
}

const rawUtp = await measure(utpPair, false);
const utpStats = lastUtpStats;
const secureUtp = await measure(utpPair, true);
const secureTcp = await measure(tcpPair, true);
const result = {
  name: 'utp-loopback',
  mib: totalBytes / (1024 * 1024),
  maxPacketBytes: config.maxPacketBytes,
  rawUtp,
  secureUtp,
  secureTcp,
  secureUtpToTcpRatio: Number((secureUtp.mibPerSecond / secureTcp.mibPerSecond).toFixed(2)),
  rawUtpStats: utpStats,
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
    `\nuTP+Noise / TCP+Noise = ${result.secureUtpToTcpRatio} · datagram ${config.maxPacketBytes} B · ${JSON.stringify(utpStats)}`,
  ].join('\n') + '\n',
);
