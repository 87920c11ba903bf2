/**
 * Issue 5: messages per second and send → delivered latency over one session between two real `dhtchat daemon`
 * processes on loopback (friends made once through a `dhtchat testnet --nodes 30`, then one uTP + Noise session).
 *
 * Each message is sent the way a client does, `POST /v1/messages` to Alice's local API; "delivered" is the time
 * in Alice's own log of the message's `delivered` state (Bob committed it and his ack came back and was
 * committed). Latency = that time − our Date.now() just before the POST (same clock).
 *   - sequential: one message at a time (the next POST once the previous is delivered): pure latency;
 *   - window W: W messages in flight at most (a sender starts the next once one of its own is delivered):
 *     throughput = messages ÷ (last delivered − first POST), and the latency of every message under that load.
 * Unlike bench/chat-session.bench.ts (two ChatNodes in one process, no HTTP, no DHT), this has two processes,
 * the HTTP API in the path and a DHT node running in each daemon.
 *
 * Run: node --import tsx bench/chat-daemon-session.bench.ts [--sequential 200] [--messages 1000] [--window 32]
 * Prints a table and then one JSON object. Bounded: each message waits at most 60 s, the whole script 10 min.
 */
import { intOption, printTable, type Summary, summarize } from './chat-bench-stats.ts';
import {
  friendsOnTestnet,
  machine,
  progressLog,
  runBench,
  StateWatcher,
  sendMessage,
} from './chat-harness.ts';

const MESSAGE_TIMEOUT_MS = 60_000;
const sequentialCount = intOption('sequential', 200);
const total = intOption('messages', 1000);
const window = intOption('window', 32);
const WARM_UP = 10;
const BODY = 'x'.repeat(100);
const log = progressLog();

interface Sample {
  latencyMs: number;
  postMs: number;
}

await runBench(600_000, async () => {
  const { pair } = await friendsOnTestnet(30, log);
  const delivered = new StateWatcher(pair.alice, 'state', ['delivered', 'read']);
  const one = async (label: string): Promise<Sample & { doneMs: number }> => {
    const at = Date.now();
    const { id } = await sendMessage(pair.aliceDir, pair.bobCode, `${label} ${BODY}`);
    const postMs = Date.now() - at;
    const doneMs = await delivered.at(id, MESSAGE_TIMEOUT_MS, `${label}: delivered`);
    return { latencyMs: doneMs - at, postMs, doneMs };
  };

  for (let i = 0; i < WARM_UP; i++) await one(`warm-up ${i}`);
  const sequential: Sample[] = [];
  const seqStart = Date.now();
  for (let i = 0; i < sequentialCount; i++) sequential.push(await one(`sequential ${i}`));
  const seqMs = Date.now() - seqStart;
  log(`sequential: ${sequentialCount} in ${seqMs} ms`);

  const windowed: Sample[] = [];
  let next = 0;
  let lastDoneMs = 0;
  const burstStart = Date.now();
  const sender = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const s = await one(`window ${i}`);
      windowed.push(s);
      lastDoneMs = Math.max(lastDoneMs, s.doneMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, total) }, sender));
  const burstMs = lastDoneMs - burstStart;
  log(`window ${window}: ${total} in ${burstMs} ms`);
  delivered.close();

  const rows: Record<string, Summary> = {
    'sequential: send → delivered': summarize(sequential.map((s) => s.latencyMs)),
    'sequential: POST round trip': summarize(sequential.map((s) => s.postMs)),
    [`window ${window}: send → delivered`]: summarize(windowed.map((s) => s.latencyMs)),
    [`window ${window}: POST round trip`]: summarize(windowed.map((s) => s.postMs)),
  };
  const rates = {
    sequentialPerSecond: Math.round((sequentialCount / seqMs) * 10_000) / 10,
    windowPerSecond: Math.round((total / burstMs) * 10_000) / 10,
  };
  printTable(rows, ['n', 'min', 'p50', 'p95', 'p99', 'max', 'mean']);
  console.log(
    `messages/s: sequential ${rates.sequentialPerSecond}, window ${window} ${rates.windowPerSecond} (${total} messages)`,
  );
  console.log(
    JSON.stringify({
      bench: 'chat-daemon-session',
      sequential: sequentialCount,
      messages: total,
      window,
      bodyChars: BODY.length + 12,
      ...rates,
      summary: rows,
      machine: machine(),
    }),
  );
});
