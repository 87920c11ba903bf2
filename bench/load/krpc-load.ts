/**
 * krpc-load: open-loop KRPC (BEP 5) query generator in Node.js, the portable twin of krpc-blast.c (same options,
 * same output; it tops out near what one Node event loop can send, ~100k queries/s, where the C one goes on).
 *
 *   node --import tsx bench/load/krpc-load.ts --target 127.0.0.1:PORT [--query ping|find_node|get_peers]
 *        [--sockets 8] [--sources 127.0.0.2-127.0.0.17] [--rates 5000,10000] [--step-seconds 5] [--gap-ms 500]
 *        [--batch 1] [--stop-loss 100] [--server-pid PID] [--max-seconds 600] [--quiet]
 *
 * Sockets are bound round-robin to the source addresses and connected to the target; each sends --batch queries
 * in a row before the next takes over. Every query has a fresh 4-byte transaction id, sequence number XOR a
 * per-run key, so a reply finds its send time in a fixed ring (bounded memory at any rate). Replies are decoded
 * with the project's strict decoder and must be y = r with a 20-byte id. Each step prints one LoadStep JSON line
 * (load-step.ts) on stdout and a table row on stderr. Loopback only; steps ≤ 60 s, the run ≤ --max-seconds.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type BDict, decodeBencode, encodeBencode } from '../../src/wire/index.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import type { LoadStep } from './load-step.ts';
import { expandLoopbackRange, parseLoopbackTarget } from './loopback-hosts.ts';
import { processCpuSeconds, processRssMb } from './proc-stats.ts';

const MAX_SOCKETS = 64;
const MAX_STEP_SECONDS = 60;
const MAX_RUN_SECONDS = 600;
/** Sequence numbers whose send time is kept: 2^21 (~20 s of backlog at 100k/s). */
const RING_SLOTS = 1 << 21;
const SOCKET_BUFFER_BYTES = 4 << 20;
const QUERIES = ['ping', 'find_node', 'get_peers'] as const;
type QueryKind = (typeof QUERIES)[number];

interface Options {
  target: { host: string; port: number };
  query: QueryKind;
  sockets: number;
  sources: string[];
  rates: number[];
  stepSeconds: number;
  gapMs: number;
  batch: number;
  stopLossPct: number;
  serverPid: number | undefined;
  maxSeconds: number;
  isQuiet: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string' },
      query: { type: 'string', default: 'ping' },
      sockets: { type: 'string', default: '8' },
      sources: { type: 'string', default: '127.0.0.1' },
      rates: { type: 'string', default: '5000,10000,20000,40000' },
      'step-seconds': { type: 'string', default: '5' },
      'gap-ms': { type: 'string', default: '500' },
      batch: { type: 'string', default: '1' },
      'stop-loss': { type: 'string', default: '100' },
      'server-pid': { type: 'string' },
      'max-seconds': { type: 'string', default: String(MAX_RUN_SECONDS) },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (values.target === undefined) throw new Error('--target is required');
  const query = values.query as QueryKind;
  if (!QUERIES.includes(query)) throw new Error('--query is ping, find_node or get_peers');
  const rates = values.rates.split(',').map(Number);
  if (rates.length > 32 || rates.some((r) => !(r >= 1 && r <= 1e7)))
    throw new Error('--rates: 1 to 32 rates');
  const options: Options = {
    target: parseLoopbackTarget(values.target),
    query,
    sockets: Number(values.sockets),
    sources: expandLoopbackRange(values.sources),
    rates,
    stepSeconds: Number(values['step-seconds']),
    gapMs: Number(values['gap-ms']),
    batch: Number(values.batch),
    stopLossPct: Number(values['stop-loss']),
    serverPid: values['server-pid'] === undefined ? undefined : Number(values['server-pid']),
    maxSeconds: Math.min(MAX_RUN_SECONDS, Number(values['max-seconds'])),
    isQuiet: values.quiet,
  };
  if (!(options.sockets >= 1 && options.sockets <= MAX_SOCKETS)) throw new Error('--sockets is 1..64');
  if (!(options.stepSeconds > 0 && options.stepSeconds <= MAX_STEP_SECONDS))
    throw new Error('--step-seconds');
  if (!(options.gapMs >= 0 && options.gapMs <= 5000)) throw new Error('--gap-ms is 0..5000');
  if (!(options.batch >= 1 && options.batch <= 64)) throw new Error('--batch is 1..64');
  return options;
}

/** One query with a random node id (and target); tidOffset is where its 4-byte transaction id goes. */
function queryTemplate(kind: QueryKind): { bytes: Buffer; tidOffset: number } {
  const args: BDict = Object.assign(Object.create(null) as BDict, { id: randomBytes(20) });
  if (kind === 'find_node') args['target'] = randomBytes(20);
  if (kind === 'get_peers') args['info_hash'] = randomBytes(20);
  const placeholder = Buffer.from('\0tid');
  const bytes = encodeBencode({ a: args, q: Buffer.from(kind), t: placeholder, y: Buffer.from('q') });
  return { bytes, tidOffset: bytes.indexOf(Buffer.from('1:t4:\0tid', 'latin1')) + 5 };
}

interface Sender {
  socket: dgram.Socket;
  template: { bytes: Buffer; tidOffset: number };
}

async function openSenders(options: Options): Promise<Sender[]> {
  const senders: Sender[] = [];
  for (let i = 0; i < options.sockets; i++) {
    const socket = dgram.createSocket({
      type: 'udp4',
      recvBufferSize: SOCKET_BUFFER_BYTES,
      sendBufferSize: SOCKET_BUFFER_BYTES,
    });
    socket.bind(0, options.sources[i % options.sources.length]);
    await once(socket, 'listening');
    socket.connect(options.target.port, options.target.host);
    await once(socket, 'connect');
    senders.push({ socket, template: queryTemplate(options.query) });
  }
  return senders;
}

/** Counters of the step in progress; replies are matched against the step's sequence numbers only. */
class StepTracker {
  readonly latency = new LatencyHistogram();
  readonly #key = randomBytes(4).readUInt32LE(0);
  readonly #sentAtMs = new Float64Array(RING_SLOTS);
  readonly #slotSeq = new Uint32Array(RING_SLOTS);
  readonly #isAnswered = new Uint8Array(RING_SLOTS);
  #nextSeq = 0;
  #firstSeq = 0;
  sent = 0;
  answered = 0;
  krpcErrors = 0;
  badReplies = 0;
  sendBlocked = 0;

  startStep(): void {
    this.latency.clear();
    this.#firstSeq = this.#nextSeq;
    this.sent = this.answered = this.krpcErrors = this.badReplies = this.sendBlocked = 0;
  }

  /** Records a send and returns the transaction id to put in the query. */
  nextTid(nowMs: number): number {
    const seq = this.#nextSeq;
    this.#nextSeq = (seq + 1) >>> 0;
    const slot = seq & (RING_SLOTS - 1);
    this.#sentAtMs[slot] = nowMs;
    this.#slotSeq[slot] = seq;
    this.#isAnswered[slot] = 0;
    this.sent++;
    return (seq ^ this.#key) >>> 0;
  }

  takeReply(packet: Buffer, nowMs: number): void {
    const decoded = decodeBencode(packet);
    const reply = decoded.ok && isDict(decoded.value) ? decoded.value : undefined;
    const tid = reply?.['t'];
    if (reply === undefined || !Buffer.isBuffer(tid) || tid.length !== 4) {
      this.badReplies++;
      return;
    }
    const seq = (tid.readUInt32LE(0) ^ this.#key) >>> 0;
    const slot = seq & (RING_SLOTS - 1);
    const isThisStep = (seq - this.#firstSeq) >>> 0 < (this.#nextSeq - this.#firstSeq) >>> 0;
    if (!isThisStep || this.#slotSeq[slot] !== seq || this.#isAnswered[slot] === 1) {
      this.badReplies++;
      return;
    }
    this.#isAnswered[slot] = 1;
    const kind = reply['y'];
    const body = reply['r'];
    if (Buffer.isBuffer(kind) && kind.toString('latin1') === 'e') {
      this.krpcErrors++;
    } else if (!Buffer.isBuffer(kind) || kind.toString('latin1') !== 'r' || !isResponseBody(body)) {
      this.badReplies++;
    } else {
      this.answered++;
      this.latency.add(nowMs - this.#sentAtMs[slot]!);
    }
  }
}

function isDict(value: unknown): value is BDict {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && !Array.isArray(value);
}

function isResponseBody(body: unknown): boolean {
  if (!isDict(body)) return false;
  const { id, nodes } = body;
  return (
    Buffer.isBuffer(id) &&
    id.length === 20 &&
    (nodes === undefined || (Buffer.isBuffer(nodes) && nodes.length % 26 === 0))
  );
}

/** Sends at `rate` for the step, then waits the drain gap; returns the step's line. */
async function runStep(
  options: Options,
  senders: Sender[],
  tracker: StepTracker,
  rate: number,
): Promise<LoadStep> {
  tracker.startStep();
  const cpuBefore = options.serverPid === undefined ? undefined : processCpuSeconds(options.serverPid);
  const startMs = performance.now();
  const stepMs = options.stepSeconds * 1000;
  // Enough per turn of the event loop to keep up with the rate at ~1 ms timer granularity.
  const maxBurst = Math.max(64, Math.ceil(rate / 250));
  let senderIndex = 0;
  let inBatch = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const nowMs = performance.now();
      if (nowMs - startMs >= stepMs) {
        resolve();
        return;
      }
      const due = Math.min(maxBurst, Math.floor(((nowMs - startMs) * rate) / 1000) - tracker.sent);
      for (let k = 0; k < due; k++) {
        const sender = senders[senderIndex]!;
        if (++inBatch >= options.batch) {
          inBatch = 0;
          senderIndex = (senderIndex + 1) % senders.length;
        }
        const packet = Buffer.from(sender.template.bytes);
        packet.writeUInt32LE(tracker.nextTid(nowMs), sender.template.tidOffset);
        sender.socket.send(packet);
      }
      if (due >= maxBurst) setImmediate(tick);
      else setTimeout(tick, 1);
    };
    tick();
  });
  const sendSeconds = (performance.now() - startMs) / 1000;
  await new Promise((r) => setTimeout(r, options.gapMs));
  const windowSeconds = (performance.now() - startMs) / 1000;
  const cpuAfter = options.serverPid === undefined ? undefined : processCpuSeconds(options.serverPid);
  const rssMb = options.serverPid === undefined ? undefined : processRssMb(options.serverPid);
  const round = (value: number | null, digits: number): number | null =>
    value === null ? null : Number(value.toFixed(digits));
  return {
    offeredPerS: rate,
    sentPerS: Math.round(tracker.sent / sendSeconds),
    answeredPerS: Math.round(tracker.answered / sendSeconds),
    lossPct: tracker.sent === 0 ? 0 : round((100 * (tracker.sent - tracker.answered)) / tracker.sent, 2)!,
    p50Ms: round(tracker.latency.percentileMs(0.5), 3),
    p99Ms: round(tracker.latency.percentileMs(0.99), 3),
    krpcErrors: tracker.krpcErrors,
    badReplies: tracker.badReplies,
    sendBlocked: tracker.sendBlocked,
    serverCpuPct:
      cpuBefore === undefined || cpuAfter === undefined
        ? null
        : round((100 * (cpuAfter - cpuBefore)) / windowSeconds, 1),
    serverRssMb: rssMb === undefined ? null : round(rssMb, 1),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const senders = await openSenders(options);
  const tracker = new StepTracker();
  for (const { socket } of senders) {
    socket.on('message', (packet) => tracker.takeReply(packet, performance.now()));
    // A connected UDP socket reports ICMP port unreachable as an error: the send was lost.
    socket.on('error', () => tracker.sendBlocked++);
  }
  const row = (cells: Array<string | number | null>): string =>
    cells.map((c, i) => String(c ?? '-').padStart(i === 0 ? 9 : 8)).join(' ');
  if (!options.isQuiet) {
    process.stderr.write(
      `${row(['offered', 'sent/s', 'answer/s', 'loss%', 'p50ms', 'p99ms', 'srvCPU%', 'RSS MB'])}\n`,
    );
  }
  const runEndMs = performance.now() + options.maxSeconds * 1000;
  for (const rate of options.rates) {
    if (performance.now() + options.stepSeconds * 1000 > runEndMs) break;
    const step = await runStep(options, senders, tracker, rate);
    process.stdout.write(`${JSON.stringify(step)}\n`);
    if (!options.isQuiet) {
      const { offeredPerS, sentPerS, answeredPerS, lossPct, p50Ms, p99Ms, serverCpuPct, serverRssMb } = step;
      process.stderr.write(
        `${row([offeredPerS, sentPerS, answeredPerS, lossPct, p50Ms, p99Ms, serverCpuPct, serverRssMb])}\n`,
      );
    }
    if (step.lossPct > options.stopLossPct) break;
  }
  for (const { socket } of senders) socket.close();
}

await main();
