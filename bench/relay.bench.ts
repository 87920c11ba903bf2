/**
 * A relay's cost (issue 11 §4), on loopback with real UDP sockets:
 *   (1) throughput and CPU per MiB: --mib MiB from one half to the other through a RelayServer in a child process
 *       (its rate cap raised out of the way), against the same transfer straight to a child that only receives
 *       (a uTP receiver's own cost): the relay's CPU per MiB and its ratio to the receiver's;
 *       Every endpoint sends Internet-sized packets (1,420 bytes; loopback's large datagrams are turned off).
 *   (2) setting up: --sessions times, two halves join (JOIN, WAITING, MATCHED) and run a Noise IK handshake
 *       through the relay; ms from the first JOIN to both ends authenticated (p50, p95).
 *
 *   node --import tsx bench/relay.bench.ts [--mib 32] [--sessions 20]
 * Prints a JSON object, then a table.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { ed25519FromSeed } from '../src/crypto/index.ts';
import { joinRelay, RelayServer, SecureStream, UtpEndpoint, UtpStream } from '../src/net/index.ts';
import { cryptoRandom, systemClock, type UdpAddress, UdpTransport } from '../src/runtime/index.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '32' },
    sessions: { type: 'string', default: '20' },
    role: { type: 'string', default: 'main' },
  },
});

/** Packets as on the Internet (1,420 bytes), not loopback's 32 KB datagrams: relays carry Internet traffic. */
const INTERNET_PACKETS = { localPacketBytes: 0 };

type ChildReply = { port: number } | { cpuMs: number };

async function runChild(role: string): Promise<void> {
  const transport = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
  const utp = new UtpEndpoint({
    transport,
    clock: systemClock,
    random: cryptoRandom,
    config: INTERNET_PACKETS,
  });
  if (role === 'relay') {
    const relay = new RelayServer({
      clock: systemClock,
      limits: {
        pairBytesPerSec: 2 ** 30,
        pairBurstBytes: 2 ** 30,
        pairBudgetBytes: 2 ** 40,
        maxHalvesPerHost: 1000,
        maxHalvesPerSubnet: 1000,
        joinBurstPerHost: 1000,
      },
    });
    utp.listen((socket) =>
      relay.accept(new UtpStream(socket, { allowHalfOpen: true }), socket.remoteAddress),
    );
  } else {
    utp.listen((socket) => {
      const stream = new UtpStream(socket);
      stream.on('data', () => {});
      stream.on('error', () => {});
    });
  }
  const start = process.cpuUsage();
  process.on('message', (m: string) => {
    if (m === 'cpu') {
      const u = process.cpuUsage(start);
      process.send?.({ cpuMs: (u.user + u.system) / 1000 } satisfies ChildReply);
    }
    if (m === 'exit') process.exit(0);
  });
  process.send?.({ port: transport.localAddress().port } satisfies ChildReply);
}

async function startChild(
  role: string,
): Promise<{ child: ChildProcess; address: UdpAddress; cpuMs(): Promise<number> }> {
  const child = fork(new URL(import.meta.url).pathname, ['--role', role], { execArgv: ['--import', 'tsx'] });
  const [first] = (await once(child, 'message')) as [{ port: number }];
  return {
    child,
    address: { host: '127.0.0.1', port: first.port },
    cpuMs: async () => {
      child.send('cpu');
      const [reply] = (await once(child, 'message')) as [{ cpuMs: number }];
      return reply.cpuMs;
    },
  };
}

async function endpoint(host: string): Promise<UtpEndpoint> {
  const transport = await UdpTransport.bind({ host, port: 0 });
  return new UtpEndpoint({ transport, clock: systemClock, random: cryptoRandom, config: INTERNET_PACKETS });
}

/** Writes bytes as backpressure allows and resolves when the receiving side has counted them all. */
async function transfer(from: Duplex, received: () => number, bytes: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const startMs = performance.now();
  let written = 0;
  while (written < bytes) {
    if (!from.write(chunk)) await once(from, 'drain');
    written += chunk.length;
  }
  while (received() < bytes) await new Promise((r) => setTimeout(r, 5));
  return performance.now() - startMs;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const mib = Number(values.mib);
  const bytes = mib * 2 ** 20;
  const relay = await startChild('relay');
  const sink = await startChild('sink');
  const a = await endpoint('127.1.0.1');
  const b = await endpoint('127.2.0.1');
  const extra: UtpEndpoint[] = [];
  try {
    // (1) through the relay
    const token = cryptoRandom.bytes(32);
    const [up, down] = await Promise.all([
      joinRelay({ utp: a, relay: relay.address, join: { role: 0, tokens: [token] }, clock: systemClock })
        .matched,
      joinRelay({ utp: b, relay: relay.address, join: { role: 1, tokens: [token] }, clock: systemClock })
        .matched,
    ]);
    let got = 0;
    down.on('data', (c: Buffer) => {
      got += c.length;
    });
    down.resume();
    const relayCpuBefore = await relay.cpuMs();
    const relayedMs = await transfer(up, () => got, bytes);
    const relayCpuMs = (await relay.cpuMs()) - relayCpuBefore;
    up.destroy();
    down.destroy();
    // (1') straight to a receiver
    const direct = new UtpStream(a.connect(sink.address));
    await once(direct, 'connect');
    const sinkCpuBefore = await sink.cpuMs();
    // Every byte acknowledged by the receiver once our FIN is ('finish').
    const directStartMs = performance.now();
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    for (let written = 0; written < bytes; written += chunk.length) {
      if (!direct.write(chunk)) await once(direct, 'drain');
    }
    direct.end();
    await once(direct, 'finish');
    const directMs = performance.now() - directStartMs;
    const sinkCpuMs = (await sink.cpuMs()) - sinkCpuBefore;
    direct.destroy();

    // (2) session set-up through the relay
    const alice = ed25519FromSeed(Buffer.alloc(32, 0xa1));
    const bob = ed25519FromSeed(Buffer.alloc(32, 0xb0));
    const setupMs: number[] = [];
    for (let i = 0; i < Number(values.sessions); i++) {
      // Fresh hosts each time: closed halves linger in uTP's table a few seconds (its per-host cap is 16).
      const [ea, eb] = await Promise.all([endpoint(`127.3.0.${i + 1}`), endpoint(`127.4.0.${i + 1}`)]);
      extra.push(ea, eb);
      const t = cryptoRandom.bytes(32);
      const startMs = performance.now();
      const [sa, sb] = await Promise.all([
        joinRelay({ utp: ea, relay: relay.address, join: { role: 0, tokens: [t] }, clock: systemClock })
          .matched,
        joinRelay({ utp: eb, relay: relay.address, join: { role: 1, tokens: [t] }, clock: systemClock })
          .matched,
      ]);
      const secureA = new SecureStream(sa, {
        isInitiator: true,
        identity: alice,
        remoteIdentityPublicKey: bob.publicKey,
      });
      const secureB = new SecureStream(sb, { isInitiator: false, identity: bob });
      sa.resume();
      sb.resume();
      await Promise.all([secureA.handshake, secureB.handshake]);
      setupMs.push(performance.now() - startMs);
      secureA.destroy();
      secureB.destroy();
    }
    setupMs.sort((x, y) => x - y);
    const result = {
      mib,
      relayed: { ms: Math.round(relayedMs), mibPerSec: +(mib / (relayedMs / 1000)).toFixed(1) },
      relayCpuMsPerMib: +(relayCpuMs / mib).toFixed(2),
      direct: { ms: Math.round(directMs), mibPerSec: +(mib / (directMs / 1000)).toFixed(1) },
      receiverCpuMsPerMib: +(sinkCpuMs / mib).toFixed(2),
      relayToReceiverCpuRatio: +(relayCpuMs / sinkCpuMs).toFixed(2),
      sessionSetupMs: {
        runs: setupMs.length,
        p50: +percentile(setupMs, 0.5).toFixed(1),
        p95: +percentile(setupMs, 0.95).toFixed(1),
      },
    };
    console.log(JSON.stringify(result));
    console.table({
      'relayed transfer': { 'MiB/s': result.relayed.mibPerSec, 'CPU ms/MiB': result.relayCpuMsPerMib },
      'direct to a receiver': { 'MiB/s': result.direct.mibPerSec, 'CPU ms/MiB': result.receiverCpuMsPerMib },
    });
    console.table({ 'session set-up via relay (ms)': result.sessionSetupMs });
  } finally {
    a.close();
    b.close();
    for (const e of extra) e.close();
    relay.child.send('exit');
    sink.child.send('exit');
  }
}

if (values.role === 'main') await main();
else await runChild(values.role);
