/**
 * uTP under a SYN flood (issue 10 §1): what the endpoint sheds and sustains, and whether a friend still gets in.
 *
 *   (1) in process, no sockets: CPU µs per packet (and packets/s on one core) for a SYN over its source's budget
 *       (dropped), a SYN answered with a cookie SYN-ACK, a completion (cookie checked, connection created, the
 *       oldest unproven stranger evicted), and a packet for no connection (cookie miss, reset suppressed);
 *   (2) loopback: a child process floods a listening UtpEndpoint here at --rates SYN/s (open loop, completing every
 *       SYN-ACK it gets) from 16 addresses of one /24 (127.0.3.x) or from 256 /24s (127.4.x.1), --step-seconds
 *       each; meanwhile a trusted friend (127.0.0.1) and a stranger (127.0.5.1) each dial the victim, one dial
 *       400 ms after the last one ended: their connect times, the victim's SYN-ACKs/s, drops/s, accepted handshakes/s, evictions/s, CPU.
 *
 *   node --import tsx bench/utp-syn-flood.bench.ts [--rates 2000,5000,10000,20000] [--step-seconds 4]
 * Prints a JSON object, then tables.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { decodePacket, encodePacket, PacketType, UtpEndpoint, type UtpSocket } from '../src/net/index.ts';
import {
  cryptoRandom,
  type DatagramTransport,
  ManualClock,
  SeededRandom,
  systemClock,
  type UdpAddress,
  UdpTransport,
} from '../src/runtime/index.ts';
import { SynFlooder } from '../test/net/utp/syn-flooder.ts';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '2000,5000,10000,20000' },
    'step-seconds': { type: 'string', default: '4' },
    role: { type: 'string', default: 'victim' },
    target: { type: 'string', default: '' },
    hosts: { type: 'string', default: '' },
  },
});

const FRIEND_HOST = '127.0.0.1';
const STRANGER_HOST = '127.0.5.1';
const DIAL_EVERY_MS = 400;
const DIAL_TIMEOUT_MS = 3000;
const PATTERNS = {
  'one /24 (16 hosts)': Array.from({ length: 16 }, (_, i) => `127.0.3.${i + 1}`),
  '256 /24s': Array.from({ length: 256 }, (_, i) => `127.4.${i}.1`),
} as const;

const cpuMs = (since?: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

// ---- (1) in process ----

/** A transport that only counts (the endpoint's sends cost an encode, not a syscall). */
function nullTransport(
  address: UdpAddress,
): DatagramTransport & { sent: number; deliver(b: Buffer, f: UdpAddress): void } {
  let handler: (bytes: Buffer, from: UdpAddress) => void = () => {};
  return {
    sent: 0,
    send() {
      this.sent++;
    },
    onPacket(h) {
      handler = h;
    },
    localAddress: () => address,
    close() {},
    deliver: (bytes, from) => handler(bytes, from),
  };
}

const synFor = (id: number): Buffer =>
  encodePacket({
    type: PacketType.ST_SYN,
    connectionId: id,
    timestampUs: 1,
    timestampDiffUs: 0,
    wndSize: 1 << 20,
    seqNr: id,
    ackNr: 0,
  });

function inProcess(): Record<string, { usPerPacket: number; packetsPerSecond: number }> {
  const count = 100_000;
  const out: Record<string, { usPerPacket: number; packetsPerSecond: number }> = {};
  const measure = (name: string, run: (i: number) => void, n = count): void => {
    for (let i = 0; i < 1000; i++) run(i); // warm up
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) run(i + 1000);
    const us = (cpuMs(cpu0) * 1000) / n;
    out[name] = { usPerPacket: Number(us.toFixed(2)), packetsPerSecond: Math.round(1e6 / us) };
  };
  const clock = new ManualClock();
  const make = (limits = {}) => {
    const transport = nullTransport({ host: '10.0.0.2', port: 1 });
    const endpoint = new UtpEndpoint({
      transport,
      clock,
      random: new SeededRandom('bench'),
      admission: limits,
    });
    endpoint.listen(() => {});
    return { transport, endpoint };
  };
  // Over budget: one host, its bucket empty after the first 20.
  const overBudget = make();
  measure('SYN over budget (dropped)', (i) =>
    overBudget.transport.deliver(synFor(i & 0xffff), { host: '10.6.6.6', port: 6 }),
  );
  // Answered: budgets out of the way, every SYN gets a cookie SYN-ACK.
  const open = {
    synAcksPerHostPerSec: 1e9,
    synAckHostBurst: 1e9,
    synAcksPerSubnetPerSec: 1e9,
    synAckSubnetBurst: 1e9,
    strangerSynAcksPerSec: 1e9,
    strangerSynAckBurst: 1e9,
  };
  const answered = make(open);
  measure('SYN answered (cookie SYN-ACK)', (i) =>
    answered.transport.deliver(synFor(i & 0xffff), { host: '10.6.6.6', port: i & 0xffff }),
  );
  // Completion: a real initiator's ST_STATE acking a cookie we issued; the pool is full, so each one evicts.
  const victim = make({ ...open, maxStrangersPerHost: 1e9, maxStrangersPerSubnet: 1e9 });
  const synAcks: { bytes: Buffer; to: UdpAddress }[] = [];
  victim.transport.send = (bytes: Uint8Array, to: UdpAddress) =>
    synAcks.push({ bytes: Buffer.from(bytes), to });
  const n = 20_000;
  for (let i = 0; i < n + 1000; i++)
    victim.transport.deliver(synFor(i & 0xffff), { host: '10.6.6.6', port: i });
  const completions = synAcks.map(({ bytes, to }) => {
    const decoded = decodePacket(bytes);
    if (!decoded.ok) throw new Error('bad SYN-ACK');
    const p = decoded.packet;
    const ack = encodePacket({
      type: PacketType.ST_STATE,
      connectionId: p.connectionId + 1,
      timestampUs: 2,
      timestampDiffUs: 0,
      wndSize: 1 << 20,
      seqNr: p.ackNr + 1,
      ackNr: p.seqNr - 1,
    });
    return { ack, from: to };
  });
  victim.transport.send = () => {};
  measure(
    'completion (cookie ok, connection created, oldest evicted)',
    (i) => {
      const c = completions[i];
      if (c !== undefined) victim.transport.deliver(c.ack, c.from);
    },
    n,
  );
  // Unknown: an ST_DATA for no connection (cookie miss; the reset limiter lets one a second through).
  const unknown = make();
  const data = encodePacket({
    type: PacketType.ST_DATA,
    connectionId: 9,
    timestampUs: 1,
    timestampDiffUs: 0,
    wndSize: 1,
    seqNr: 5,
    ackNr: 9,
    payload: Buffer.from('x'),
  });
  measure('packet for no connection (cookie miss)', () =>
    unknown.transport.deliver(data, { host: '10.6.6.6', port: 6 }),
  );
  return out;
}

// ---- (2) loopback: the flooder child ----

async function runFlooder(): Promise<void> {
  const [host, portText] = values.target.split(':');
  const target = { host: host as string, port: Number(portText) };
  const transports = await Promise.all(values.hosts.split(',').map((h) => UdpTransport.bind({ host: h })));
  const flooders = transports.map((t, i) => new SynFlooder(t, target, true, i * 256));
  let timer: NodeJS.Timeout | undefined;
  process.on('message', (m: { rate: number; ms: number } | { stop: true }) => {
    if (timer !== undefined) clearInterval(timer);
    if ('stop' in m) {
      process.send?.({ counters: flooders.map((f) => f.counters) });
      setTimeout(() => process.exit(0), 50);
      return;
    }
    const startMs = Date.now();
    let sent = 0;
    let turn = 0;
    const maxSyns = (m.rate * m.ms) / 1000;
    timer = setInterval(() => {
      const elapsedMs = Date.now() - startMs;
      const due = Math.min(maxSyns, Math.floor((elapsedMs * m.rate) / 1000)) - sent;
      for (let i = 0; i < due; i++) flooders[turn++ % flooders.length]?.sendSyns(1);
      sent += Math.max(0, due);
      if (elapsedMs >= m.ms) {
        clearInterval(timer);
        process.send?.({ sent });
      }
    }, 5);
  });
  process.send?.({ ready: true });
}

// ---- (2) loopback: the victim ----

interface StepResult {
  pattern: string;
  offeredPerSecond: number;
  sentPerSecond: number;
  synAcksPerSecond: number;
  droppedPerSecond: number;
  acceptedPerSecond: number;
  evictionsPerSecond: number;
  victimCpuPercent: number;
  /** The victim's event-loop delay, p99 (ms): what every packet waits on top of its own cost. */
  loopDelayP99Ms: number;
  heldConnections: number;
  friendConnectMs: { median: number; max: number; failed: number };
  strangerConnectMs: { median: number; max: number; failed: number };
  rssMb: number;
}

function dial(endpoint: UtpEndpoint, target: UdpAddress): Promise<number> {
  const startMs = performance.now();
  const socket: UtpSocket = endpoint.connect(target);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(-1), DIAL_TIMEOUT_MS);
    const finish = (ms: number): void => {
      clearTimeout(timer);
      if (!socket.isClosed) socket.reset();
      resolve(ms);
    };
    socket.onEvent((e) => {
      if (e.type === 'connected') finish(performance.now() - startMs);
      if (e.type === 'closed') finish(-1);
    });
  });
}

function summary(samples: number[]): { median: number; max: number; failed: number } {
  const ok = samples.filter((s) => s >= 0).sort((a, b) => a - b);
  return {
    median: Number((ok[Math.floor(ok.length / 2)] ?? -1).toFixed(1)),
    max: Number((ok.at(-1) ?? -1).toFixed(1)),
    failed: samples.length - ok.length,
  };
}

async function loopback(rates: number[], stepMs: number): Promise<StepResult[]> {
  const transport = await UdpTransport.bind({ host: '127.0.0.1' });
  const victim = new UtpEndpoint({ transport, clock: systemClock, random: cryptoRandom });
  victim.listen(() => {}, { isTrusted: (a) => a.host === FRIEND_HOST });
  const target = transport.localAddress();
  const friend = new UtpEndpoint({
    transport: await UdpTransport.bind({ host: FRIEND_HOST }),
    clock: systemClock,
    random: cryptoRandom,
  });
  const stranger = new UtpEndpoint({
    transport: await UdpTransport.bind({ host: STRANGER_HOST }),
    clock: systemClock,
    random: cryptoRandom,
  });
  const results: StepResult[] = [];
  for (const [pattern, hosts] of Object.entries(PATTERNS)) {
    const child: ChildProcess = fork(
      new URL(import.meta.url).pathname,
      ['--role', 'flooder', '--target', `127.0.0.1:${target.port}`, '--hosts', hosts.join(',')],
      { execArgv: ['--import', 'tsx'] },
    );
    await once(child, 'message');
    for (const rate of rates) {
      const before = { ...victim.stats };
      const loopDelay = monitorEventLoopDelay({ resolution: 5 });
      loopDelay.enable();
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      child.send({ rate, ms: stepMs });
      const sentMessage = once(child, 'message');
      const friendMs: number[] = [];
      const strangerMs: number[] = [];
      // Let the flood build up for a second, then each dials every DIAL_EVERY_MS until the step ends.
      await new Promise((r) => setTimeout(r, 1000));
      const dialLoop = async (from: UtpEndpoint, samples: number[]): Promise<void> => {
        while (performance.now() - wall0 < stepMs - DIAL_EVERY_MS) {
          samples.push(await dial(from, target));
          await new Promise((r) => setTimeout(r, DIAL_EVERY_MS));
        }
      };
      await Promise.all([dialLoop(friend, friendMs), dialLoop(stranger, strangerMs)]);
      const [{ sent }] = (await sentMessage) as [{ sent: number }];
      const seconds = (performance.now() - wall0) / 1000;
      loopDelay.disable();
      const delta = (key: keyof typeof before) => Math.round((victim.stats[key] - before[key]) / seconds);
      results.push({
        pattern,
        offeredPerSecond: rate,
        sentPerSecond: Math.round(sent / (stepMs / 1000)),
        synAcksPerSecond: delta('synAcksSent'),
        droppedPerSecond: delta('synsOverBudget'),
        acceptedPerSecond: delta('cookiesAccepted'),
        evictionsPerSecond: delta('evictions'),
        victimCpuPercent: Math.round(cpuMs(cpu0) / (seconds * 10)),
        loopDelayP99Ms: Number((loopDelay.percentile(99) / 1e6).toFixed(1)),
        heldConnections: victim.connectionCount,
        friendConnectMs: summary(friendMs),
        strangerConnectMs: summary(strangerMs),
        rssMb: Math.round(process.memoryUsage().rss / 1048576),
      });
      await new Promise((r) => setTimeout(r, 500));
    }
    child.send({ stop: true });
    await once(child, 'exit');
  }
  victim.close();
  friend.close();
  stranger.close();
  return results;
}

if (values.role === 'flooder') {
  await runFlooder();
} else {
  const rates = values.rates.split(',').map(Number);
  const stepMs = Number(values['step-seconds']) * 1000;
  const perPacket = inProcess();
  const steps = await loopback(rates, stepMs);
  process.stdout.write(`${JSON.stringify({ name: 'utp-syn-flood', perPacket, steps })}\n`);
  const lines = ['| in process (one core) | µs/packet | packets/s |', '| --- | ---: | ---: |'];
  for (const [name, r] of Object.entries(perPacket))
    lines.push(`| ${name} | ${r.usPerPacket} | ${r.packetsPerSecond} |`);
  lines.push(
    '',
    '| sources | offered SYN/s | sent/s | SYN-ACKs/s | dropped/s | accepted/s | evicted/s | victim CPU % | loop delay p99 ms | held | friend connect ms (median / max / failed) | stranger connect ms | RSS MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |',
  );
  for (const s of steps) {
    const f = s.friendConnectMs;
    const t = s.strangerConnectMs;
    lines.push(
      `| ${s.pattern} | ${s.offeredPerSecond} | ${s.sentPerSecond} | ${s.synAcksPerSecond} | ${s.droppedPerSecond} | ${s.acceptedPerSecond} | ${s.evictionsPerSecond} | ${s.victimCpuPercent} | ${s.loopDelayP99Ms} | ${s.heldConnections} | ${f.median} / ${f.max} / ${f.failed} | ${t.median} / ${t.max} / ${t.failed} | ${s.rssMb} |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exit(0);
}
