/**
 * Noise secure stream benchmarks (issue 4):
 *   - throughput of SecureStream framing over a TCP socket on 127.0.0.1 (MiB/s), next to raw TCP for scale;
 *   - CPU time per MiB (both ends run in this one process, so it is sender + receiver);
 *   - handshake rate (IK and XX, both sides in this process, over an in-process pipe and over TCP).
 *   - the same over one uTP stream on loopback UDP, and the ratio uTP+Noise / TCP+Noise of this one run (both
 *     ends in this process for both; bench/utp.bench.ts also runs them in two processes and without Noise).
 * Run: node --import tsx bench/secure-stream.bench.ts [--mib 256] [--seconds 3]
 * Prints a JSON object, then a table.
 */
import { once } from 'node:events';
import net from 'node:net';
import { Duplex, PassThrough, type Writable } from 'node:stream';
import { type Ed25519KeyPair, ed25519FromSeed } from '../src/crypto/index.ts';
import { SecureStream, UtpEndpoint, UtpStream } from '../src/net/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../src/runtime/index.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const TOTAL_MIB = arg('mib', 256);
const HANDSHAKE_SECONDS = arg('seconds', 3);
const CHUNK = Buffer.alloc(64 * 1024, 0x5a);
const PHASE_LIMIT_MS = 60_000;

const alice = ed25519FromSeed(Buffer.alloc(32, 0xa1));
const bob = ed25519FromSeed(Buffer.alloc(32, 0xb0));

async function writeAll(stream: Writable, totalBytes: number): Promise<void> {
  for (let sent = 0; sent < totalBytes; sent += CHUNK.length) {
    if (!stream.write(CHUNK)) await once(stream, 'drain');
  }
  stream.end();
}

interface Throughput {
  mibPerSecond: number;
  cpuMsPerMib: number;
  seconds: number;
}

/** Sends TOTAL_MIB through a fresh TCP connection; secure = through SecureStreams on both ends. */
async function tcpThroughput(isSecure: boolean): Promise<Throughput> {
  const totalBytes = TOTAL_MIB * 1024 * 1024;
  let received = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const stream: Duplex = isSecure
      ? new SecureStream(socket, { isInitiator: false, identity: bob })
      : socket;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= totalBytes) done();
    });
    stream.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no address');
  const socket = net.connect(address.port, '127.0.0.1');
  socket.setNoDelay(true);
  await once(socket, 'connect');
  const client: Duplex = isSecure
    ? new SecureStream(socket, { isInitiator: true, identity: alice, remoteIdentityPublicKey: bob.publicKey })
    : socket;
  client.on('error', () => {});
  client.resume();
  if (client instanceof SecureStream) await client.handshake;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await writeAll(client, totalBytes);
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  client.destroy();
  server.close();
  return {
    mibPerSecond: round(TOTAL_MIB / seconds),
    cpuMsPerMib: round((cpu.user + cpu.system) / 1000 / TOTAL_MIB, 2),
    seconds: round(seconds, 2),
  };
}

/** A connected uTP stream pair on loopback UDP (dhtchat to dhtchat: they agree on loopback-sized packets). */
async function utpPair(): Promise<{ client: UtpStream; server: UtpStream; close: () => void }> {
  const [a, b] = await Promise.all([
    UdpTransport.bind({ host: '127.0.0.1' }),
    UdpTransport.bind({ host: '127.0.0.1' }),
  ]);
  const clientEndpoint = new UtpEndpoint({ transport: a, clock: systemClock, random: cryptoRandom });
  const serverEndpoint = new UtpEndpoint({ transport: b, clock: systemClock, random: cryptoRandom });
  const accepted = new Promise<UtpStream>((resolve) =>
    serverEndpoint.listen((socket) => resolve(new UtpStream(socket))),
  );
  const client = new UtpStream(clientEndpoint.connect(serverEndpoint.localAddress()));
  client.on('error', () => {});
  await once(client, 'connect');
  const server = await accepted;
  server.on('error', () => {});
  return {
    client,
    server,
    close: () => {
      clientEndpoint.close();
      serverEndpoint.close();
    },
  };
}

/** Sends TOTAL_MIB through SecureStreams over a fresh uTP connection (the same framing as over TCP). */
async function utpNoiseThroughput(): Promise<Throughput> {
  const totalBytes = TOTAL_MIB * 1024 * 1024;
  const pair = await utpPair();
  const server = new SecureStream(pair.server, { isInitiator: false, identity: bob });
  const client = new SecureStream(pair.client, {
    isInitiator: true,
    identity: alice,
    remoteIdentityPublicKey: bob.publicKey,
  });
  server.on('error', () => {});
  client.on('error', () => {});
  let received = 0;
  const finished = new Promise<void>((resolve) => {
    server.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= totalBytes) resolve();
    });
  });
  await client.handshake;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await writeAll(client, totalBytes);
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  client.destroy();
  server.destroy();
  pair.close();
  return {
    mibPerSecond: round(TOTAL_MIB / seconds),
    cpuMsPerMib: round((cpu.user + cpu.system) / 1000 / TOTAL_MIB, 2),
    seconds: round(seconds, 2),
  };
}

/** IK handshakes, each on a new uTP connection (its SYN round trip included), both ends in this process. */
async function utpHandshakeRate(): Promise<HandshakeRate> {
  let count = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < HANDSHAKE_SECONDS * 1000) {
    const pair = await utpPair();
    const server = new SecureStream(pair.server, { isInitiator: false, identity: bob });
    const client = new SecureStream(pair.client, {
      isInitiator: true,
      identity: alice,
      remoteIdentityPublicKey: bob.publicKey,
    });
    server.on('error', () => {});
    client.on('error', () => {});
    await Promise.all([client.handshake, server.handshake]);
    client.destroy();
    server.destroy();
    pair.close();
    count++;
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    perSecond: round(count / ((performance.now() - t0) / 1000)),
    cpuMsPerHandshake: round((cpu.user + cpu.system) / 1000 / count, 2),
  };
}

/** A minimal in-process pipe (as in the tests). */
function pipePair(): [Duplex, Duplex] {
  const ab = new PassThrough();
  const ba = new PassThrough();
  const end = (incoming: PassThrough, outgoing: PassThrough): Duplex =>
    new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        outgoing.write(chunk);
        cb();
      },
      construct(cb) {
        incoming.on('data', (c: Buffer) => this.push(c));
        cb();
      },
    });
  return [end(ba, ab), end(ab, ba)];
}

interface HandshakeRate {
  perSecond: number;
  /** CPU time of both sides together per handshake: less sensitive than the rate to other load on the VM. */
  cpuMsPerHandshake: number;
}

async function handshakeRate(pattern: 'IK' | 'XX', overTcp: boolean): Promise<HandshakeRate> {
  let server: net.Server | undefined;
  let port = 0;
  if (overTcp) {
    server = net.createServer((socket) => {
      const s = new SecureStream(socket, { isInitiator: false, identity: bob });
      s.on('error', () => {});
      // end, not destroy: destroy could drop message 2 before it reaches the kernel
      s.handshake.then(
        () => s.end(),
        () => {},
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address !== 'object') throw new Error('no address');
    port = address.port;
  }
  const identityOpts = (identity: Ed25519KeyPair) => ({
    identity,
    ...(pattern === 'IK' ? { remoteIdentityPublicKey: bob.publicKey } : {}),
  });
  let count = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < HANDSHAKE_SECONDS * 1000) {
    if (overTcp) {
      const socket = net.connect(port, '127.0.0.1');
      const client = new SecureStream(socket, { isInitiator: true, ...identityOpts(alice) });
      client.on('error', () => {});
      await client.handshake;
      client.destroy();
    } else {
      const [a, b] = pipePair();
      const client = new SecureStream(a, { isInitiator: true, ...identityOpts(alice) });
      const peer = new SecureStream(b, { isInitiator: false, identity: bob });
      client.on('error', () => {});
      peer.on('error', () => {});
      await Promise.all([client.handshake, peer.handshake]);
      client.destroy();
      peer.destroy();
    }
    count++;
  }
  server?.close();
  const cpu = process.cpuUsage(cpu0);
  return {
    perSecond: round(count / ((performance.now() - t0) / 1000)),
    cpuMsPerHandshake: round((cpu.user + cpu.system) / 1000 / count, 2),
  };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Runs one phase, reporting progress on stderr (stdout stays JSON + table). */
async function phase<T>(name: string, run: () => Promise<T>): Promise<T> {
  process.stderr.write(`${name}... `);
  // A watchdog: a phase that stalls ends the run with its name instead of hanging it.
  const watchdog = setTimeout(() => {
    process.stderr.write(`stalled after ${PHASE_LIMIT_MS} ms\n`);
    process.exit(2);
  }, PHASE_LIMIT_MS);
  const value = await run();
  clearTimeout(watchdog);
  process.stderr.write('done\n');
  return value;
}

await phase('warm-up', () => tcpThroughput(true)); // JIT and socket buffers
const result = {
  date: new Date().toISOString(),
  node: process.version,
  totalMib: TOTAL_MIB,
  tcpRaw: await phase('raw TCP', () => tcpThroughput(false)),
  tcpNoise: await phase('Noise over TCP', () => tcpThroughput(true)),
  utpNoise: await phase('Noise over uTP', () => utpNoiseThroughput()),
  handshakes: {
    ikPipe: await phase('IK handshakes (pipe)', () => handshakeRate('IK', false)),
    xxPipe: await phase('XX handshakes (pipe)', () => handshakeRate('XX', false)),
    ikTcp: await phase('IK handshakes (TCP)', () => handshakeRate('IK', true)),
    xxTcp: await phase('XX handshakes (TCP)', () => handshakeRate('XX', true)),
    ikUtp: await phase('IK handshakes (new uTP connection each)', () => utpHandshakeRate()),
  },
};
console.log(JSON.stringify(result, null, 2));
console.log('\n| measure | value |\n| --- | --- |');
console.log(
  `| raw TCP loopback | ${result.tcpRaw.mibPerSecond} MiB/s (${result.tcpRaw.cpuMsPerMib} ms CPU/MiB) |`,
);
console.log(
  `| Noise frames over TCP loopback | ${result.tcpNoise.mibPerSecond} MiB/s (${result.tcpNoise.cpuMsPerMib} ms CPU/MiB) |`,
);
console.log(`| Noise / raw TCP | ${round(result.tcpNoise.mibPerSecond / result.tcpRaw.mibPerSecond, 2)} |`);
console.log(
  `| Noise frames over uTP loopback | ${result.utpNoise.mibPerSecond} MiB/s (${result.utpNoise.cpuMsPerMib} ms CPU/MiB) |`,
);
console.log(
  `| uTP+Noise / TCP+Noise | ${round(result.utpNoise.mibPerSecond / result.tcpNoise.mibPerSecond, 2)} ` +
    `(CPU per MiB: ${round(result.tcpNoise.cpuMsPerMib / result.utpNoise.cpuMsPerMib, 2)}) |`,
);
for (const [name, rate] of Object.entries(result.handshakes)) {
  console.log(`| handshakes ${name} | ${rate.perSecond}/s (${rate.cpuMsPerHandshake} ms CPU each) |`);
}
process.exit(0);
