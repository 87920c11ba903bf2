/**
 * One chat session through the user-visible path (issue 13 §3): two real `dhtchat daemon` processes on loopback,
 * friends through a `dhtchat testnet --nodes 30` once, then one uTP + Noise session; every message is a
 * `POST /v1/messages` to Alice's local API over a kept-alive connection (bench/api-connection.ts), and
 * "delivered" is the time in Alice's own log of the message's `delivered` state (Bob committed it, his ack came
 * back and Alice committed it). Latency = that time − our Date.now() just before the POST (same clock). In one run:
 *   - paced: `--paced` messages (default 500) at `--rate`/s (default 100): send → delivered p50/p99;
 *   - window: up to `--messages` (default 10,000) or `--window-seconds` (default 30) of posting, whichever ends
 *     first, with at most `--window` (default 256) posted and not yet delivered: sustained messages/s =
 *     messages ÷ (last delivered − first POST), latencies under that load, and the two daemons' CPU per message
 *     (from /proc: user + system of both processes);
 *   - `--baseline-cli FILE`: a second pair of daemons run from another CLI (e.g. the bin/dhtchat.js of a checkout
 *     of an earlier commit, its node_modules linked to ours) on the same testnet, measured round by round
 *     alternating with ours (`--rounds`, default 1): the ratios come from one run, under one machine load.
 * The POST answer comes after the daemon's commit (a group commit: store/group-commit.ts), so "answered" is the
 * durable-send latency a client sees.
 *
 * Run: node --import tsx bench/chat-daemon-session.bench.ts [--baseline-cli FILE] [--rounds N] [--messages N]
 *      [--window N] [--window-seconds N] [--paced N] [--rate N]. Prints a table and then one JSON object. Bounded: each message waits
 *      at most 60 s, each phase 180 s, the whole script 20 min.
 */
import { readFileSync } from 'node:fs';
import { connectApi } from './api-connection.ts';
import { intOption, printTable, stringOption, type Summary, summarize } from './chat-bench-stats.ts';
import {
  type DaemonProcess,
  machine,
  makeFriends,
  type Pair,
  progressLog,
  runBench,
  StateWatcher,
  startTestnet,
} from './chat-harness.ts';
import { type Delivered, type LoadResult, paced, windowed } from './chat-load-shapes.ts';

const MESSAGE_TIMEOUT_MS = 60_000;
const PHASE_DEADLINE_MS = 180_000;
const rounds = intOption('rounds', 1);
const windowCount = intOption('messages', 10_000);
const window = intOption('window', 256);
const pacedCount = intOption('paced', 500);
const windowSeconds = intOption('window-seconds', 30);
const rate = intOption('rate', 100);
const baselineCli = stringOption('baseline-cli');
const WARM_UP = 20;
const BODY = 'x'.repeat(100);
const log = progressLog();

/** user + system CPU of a process so far, ms (Linux /proc; clock ticks of 10 ms). */
function cpuMs(proc: DaemonProcess): number {
  const stat = readFileSync(`/proc/${proc.child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface RoundResult {
  paced: LoadResult;
  window: LoadResult;
  daemonCpuMicrosPerMessage: number;
}

async function measure(pair: Pair): Promise<RoundResult> {
  const api = await connectApi(pair.aliceDir, window + 8);
  const delivered = new StateWatcher(pair.alice, 'state', ['delivered', 'read']);
  try {
    const one = async (label: string): Promise<Delivered> => {
      const at = Date.now();
      const { id } = (await api.post('/v1/messages', { to: pair.bobCode, text: `${label} ${BODY}` })) as {
        id: string;
      };
      const answerMs = Date.now() - at;
      const doneMs = await delivered.at(id, MESSAGE_TIMEOUT_MS, `${label}: delivered`);
      return { latencyMs: doneMs - at, answerMs };
    };
    for (let i = 0; i < WARM_UP; i++) await one(`warm-up ${i}`);
    const pacedResult = await paced(pacedCount, rate, PHASE_DEADLINE_MS, (i) => one(`paced ${i}`));
    const cpuBefore = cpuMs(pair.alice) + cpuMs(pair.bob);
    const windowResult = await windowed(windowCount, window, windowSeconds * 1000, PHASE_DEADLINE_MS, (i) =>
      one(`window ${i}`),
    );
    const cpuUsedMs = cpuMs(pair.alice) + cpuMs(pair.bob) - cpuBefore;
    return {
      paced: pacedResult,
      window: windowResult,
      daemonCpuMicrosPerMessage: (cpuUsedMs * 1000) / windowResult.samples.length,
    };
  } finally {
    delivered.close();
    api.close();
  }
}

await runBench(20 * 60_000, async () => {
  const { bootstrap } = await startTestnet(30);
  log(`testnet formed at ${bootstrap}`);
  const setups: { label: string; entry?: string }[] = [{ label: 'this tree' }];
  if (baselineCli !== undefined) setups.push({ label: 'baseline', entry: baselineCli });
  const pairs: { label: string; pair: Pair }[] = [];
  for (const setup of setups) {
    pairs.push({ label: setup.label, pair: await makeFriends(bootstrap, log, setup.entry) });
    log(`${setup.label}: friends and online`);
  }
  const results = new Map<string, RoundResult[]>(pairs.map((p) => [p.label, []]));
  for (let r = 0; r < rounds; r++) {
    for (const { label, pair } of pairs) {
      const result = await measure(pair);
      results.get(label)?.push(result);
      log(
        `round ${r + 1} ${label}: window ${result.window.messagesPerSecond.toFixed(0)}/s, paced p99 ` +
          `${summarize(result.paced.samples.map((s) => s.latencyMs)).p99} ms`,
      );
    }
  }

  const median = (xs: number[]): number =>
    [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number;
  const report = pairs.map(({ label }) => {
    const rs = results.get(label) ?? [];
    return {
      tree: label,
      windowMessagesPerSecond: Math.round(median(rs.map((r) => r.window.messagesPerSecond))),
      windowPerRound: rs.map((r) => Math.round(r.window.messagesPerSecond)),
      daemonCpuMicrosPerMessage: Math.round(median(rs.map((r) => r.daemonCpuMicrosPerMessage))),
      paced: summarize(rs.flatMap((r) => r.paced.samples.map((s) => s.latencyMs))),
      pacedAnswer: summarize(rs.flatMap((r) => r.paced.samples.map((s) => s.answerMs))),
      window: summarize(rs.flatMap((r) => r.window.samples.map((s) => s.latencyMs))),
      windowAnswer: summarize(rs.flatMap((r) => r.window.samples.map((s) => s.answerMs))),
    };
  });
  const rows: Record<string, Summary> = {};
  for (const r of report) {
    rows[`${r.tree}: paced ${rate}/s send → delivered`] = r.paced;
    rows[`${r.tree}: paced ${rate}/s POST answered`] = r.pacedAnswer;
    rows[`${r.tree}: window ${window} send → delivered`] = r.window;
    rows[`${r.tree}: window ${window} POST answered`] = r.windowAnswer;
  }
  printTable(rows, ['n', 'p50', 'p95', 'p99', 'max', 'mean']);
  for (const r of report) {
    console.log(
      `${r.tree}: ${r.windowMessagesPerSecond} messages/s sustained (window ${window}, rounds ` +
        `${r.windowPerRound.join(', ')}), ${r.daemonCpuMicrosPerMessage} µs daemon CPU per message`,
    );
  }
  const [ours, base] = report;
  const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;
  const ratios =
    ours !== undefined && base !== undefined
      ? {
          windowMessagesPerSecond: ratio(ours.windowMessagesPerSecond, base.windowMessagesPerSecond),
          pacedP99: ratio(ours.paced.p99, base.paced.p99),
          daemonCpuPerMessage: ratio(ours.daemonCpuMicrosPerMessage, base.daemonCpuMicrosPerMessage),
        }
      : undefined;
  if (ratios !== undefined) console.log(`this tree ÷ baseline: ${JSON.stringify(ratios)}`);
  console.log(
    JSON.stringify({
      bench: 'chat-daemon-session',
      rounds,
      messages: windowCount,
      window,
      paced: pacedCount,
      rate,
      bodyChars: BODY.length,
      baselineCli,
      report,
      ratios,
      machine: machine(),
    }),
  );
});
