/**
 * Issue 9 §3: how long a daemon that started with no reachable DHT takes to join once the network comes back,
 * with real processes: `dhtchat daemon --bootstrap 127.0.0.1:P` where nothing listens on P, then, after it has
 * been offline for a while (its back-off grown: 1 s, 2 s, 4 s … 16 s), `dhtchat testnet --port P --nodes 8`.
 * Measured: testnet spawned → the daemon's `rejoined` line (its log time), and testnet formed (its JSON line
 * read) → `rejoined`. The bound the issue sets is 30 s.
 *
 * Run: node --import tsx bench/daemon-rejoin.bench.ts [--repeat 2] [--offline 2,5,10,20,40,60]
 * Prints a table and then one JSON object. Bounded: a run waits at most 60 s for the join, the script 15 min.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJsonLines } from '../test/e2e/chat-processes.ts';
import { intOption, printTable, type Summary, stringOption, summarize } from './chat-bench-stats.ts';
import { cliJson, machine, progressLog, runBench, startDaemon } from './chat-harness.ts';

const JOIN_TIMEOUT_MS = 60_000;
const repeat = intOption('repeat', 2);
const offlineSeconds = (stringOption('offline') ?? '2,5,10,20,40,60').split(',').map(Number);
const log = progressLog();

interface RunTimes {
  offlineMs: number;
  lastRetryInMs: number | undefined;
  spawnToJoinedMs: number;
  formedToJoinedMs: number;
}

/** A UDP port nobody listens on now (bound and released). */
async function unusedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function oneRun(offlineMs: number): Promise<RunTimes> {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-bench-rejoin-'));
  await cliJson(dir, 'init');
  const port = await unusedUdpPort();
  const { proc: daemon } = await startDaemon(dir, `127.0.0.1:${port}`, { port: 0 });
  try {
    await new Promise((r) => setTimeout(r, offlineMs));
    const failures = daemon.lines.filter((l) => l['event'] === 'join_failed');
    const lastRetryInMs = failures.at(-1)?.['retryInMs'] as number | undefined;
    const spawnMs = Date.now();
    const testnet = startJsonLines(['testnet', '--port', String(port), '--nodes', '8', '--json']);
    try {
      await testnet.waitFor((l) => typeof l['bootstrap'] === 'string', JOIN_TIMEOUT_MS);
      const formedMs = Date.now();
      const joined = await daemon.waitLine((l) => l['event'] === 'rejoined', JOIN_TIMEOUT_MS, 'rejoined');
      const joinedMs = joined['time'] as number;
      return {
        offlineMs,
        lastRetryInMs,
        spawnToJoinedMs: joinedMs - spawnMs,
        formedToJoinedMs: joinedMs - formedMs,
      };
    } finally {
      await testnet.stop();
    }
  } finally {
    await daemon.stop();
  }
}

await runBench(15 * 60_000, async () => {
  const times: RunTimes[] = [];
  for (let r = 0; r < repeat; r++) {
    for (const seconds of offlineSeconds) {
      const t = await oneRun(seconds * 1000);
      log(`offline ${seconds} s: joined ${t.spawnToJoinedMs} ms after the testnet was spawned`);
      times.push(t);
    }
  }
  const rows: Record<string, Summary> = {};
  for (const seconds of offlineSeconds) {
    const mine = times.filter((t) => t.offlineMs === seconds * 1000);
    rows[`offline ${seconds} s: testnet spawned → rejoined`] = summarize(mine.map((t) => t.spawnToJoinedMs));
  }
  rows['all: testnet spawned → rejoined'] = summarize(times.map((t) => t.spawnToJoinedMs));
  rows['all: testnet formed → rejoined'] = summarize(times.map((t) => t.formedToJoinedMs));
  printTable(rows, ['n', 'min', 'p50', 'max', 'mean']);
  console.log(JSON.stringify({ bench: 'daemon-rejoin', machine: machine(), repeat, runs: times, rows }));
});
