/**
 * Issue 5: time from daemon start to the first message delivered to an online friend, with real `dhtchat daemon`
 * processes on a loopback testnet (`dhtchat testnet --nodes 30`: a bootstrap node and 30 DHT nodes).
 *
 * Alice and Bob become friends once (through the DHT, not measured). Then, per run, Alice's daemon stops and is
 * spawned again with Bob online; as soon as it prints its ready line we POST a message to Bob through the local
 * API and take the daemon's own log time of that message's `delivered` state. Two variants:
 *   - restart: Alice restarts on her last port and still knows Bob's last endpoint (the common case);
 *   - dht:     before each start Alice's stored endpoints for Bob are deleted (SQLite, daemon stopped) and she
 *              takes a new port, so neither side can dial the other directly: Alice must find Bob's rendezvous
 *              record in the DHT (or Bob hers).
 * Also reported: spawn → ready line (read by us), → bootstrapped, → Bob online, and the bare cost of starting a
 * process (`node -e 0`, `dhtchat --version`: Node plus tsx plus the CLI module graph).
 *
 * Run: node --import tsx bench/chat-daemon-start.bench.ts [--runs 20] [--variant restart|dht|both] [--debug]
 *        [--bundle | --cli <entry.js>] [--node-args "<node flags for the daemons>"]
 * --bundle runs the daemons from an esbuild bundle of src/app/cli.ts (no tsx at run time), --cli from another
 * entry point (a patched copy of the tree); both only to measure what a change would buy.
 * Prints a table and then one JSON object. Bounded: a run waits at most 60 s, the whole script 10 min.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CHAT_DATABASE_FILE, decodeFriendCode } from '../src/chat/index.ts';
import { openSqlite } from '../src/chat/store/sqlite.ts';
import { CLI_PATH, REPO_ROOT } from '../test/helpers/cli-runner.ts';
import { intOption, printTable, type Summary, summarize } from './chat-bench-stats.ts';
import {
  DAEMON_ENTRY,
  type DaemonProcess,
  machine,
  type Pair,
  runBench,
  sendMessage,
  sinceSpawn,
  startDaemon,
  waitOnline,
  friendsOnTestnet,
  progressLog,
} from './chat-harness.ts';

const RUN_TIMEOUT_MS = 60_000;
/** After Alice's daemon exits, before it starts again: Bob sees the session end (as after a user's restart). */
const PAUSE_MS = 500;
const runs = intOption('runs', 20);
const variantArg = process.argv[process.argv.indexOf('--variant') + 1];
const variants =
  process.argv.includes('--variant') && variantArg !== 'both' ? [variantArg as string] : ['restart', 'dht'];
const log = progressLog();

interface RunTimes {
  ready: number;
  sent: number;
  bootstrapped: number | undefined;
  online: number | undefined;
  delivered: number;
}

/** Time from spawning a command to its exit (the floor under any daemon start). */
async function processStartMs(args: readonly string[]): Promise<number> {
  const at = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
  return Date.now() - at;
}

function clearEndpoints(dir: string, peerCode: string): void {
  const db = openSqlite(join(dir, CHAT_DATABASE_FILE), { fileMustExist: true });
  try {
    db.prepare('DELETE FROM contact_endpoints WHERE public_key = ?').run(decodeFriendCode(peerCode));
  } finally {
    db.close();
  }
}

async function oneRun(pair: Pair, bootstrap: string, variant: string, run: number): Promise<RunTimes> {
  await pair.alice.stop();
  await new Promise((r) => setTimeout(r, PAUSE_MS));
  if (variant === 'dht') clearEndpoints(pair.aliceDir, pair.bobCode);
  const { proc, ready } = await startDaemon(pair.aliceDir, bootstrap, {
    ...(variant === 'dht' ? { port: 0 } : {}),
  });
  pair.alice = proc;
  const sent = await sendMessage(pair.aliceDir, pair.bobCode, `${variant} run ${run}`);
  const sentMs = Date.now();
  const delivered = await proc.waitLine(
    (l) =>
      l['event'] === 'state' && l['id'] === sent.id && (l['state'] === 'delivered' || l['state'] === 'read'),
    RUN_TIMEOUT_MS,
    `${variant} run ${run}: delivered`,
  );
  return {
    ready: ready.recvMs - proc.spawnMs,
    sent: sentMs - proc.spawnMs,
    bootstrapped: sinceSpawn(proc, (l) => l['event'] === 'bootstrapped'),
    online: sinceSpawn(
      proc,
      (l) => l['event'] === 'presence' && l['code'] === pair.bobCode && l['presence'] === 'online',
    ),
    delivered: (delivered['time'] as number) - proc.spawnMs,
  };
}

function digest(times: readonly RunTimes[]): Record<string, Summary> {
  const pick = (f: (t: RunTimes) => number | undefined): number[] =>
    times.map(f).filter((x): x is number => x !== undefined);
  return {
    'spawn → ready line': summarize(pick((t) => t.ready)),
    'spawn → POST answered': summarize(pick((t) => t.sent)),
    'spawn → Bob online (log)': summarize(pick((t) => t.online)),
    'spawn → delivered (log)': summarize(pick((t) => t.delivered)),
    'ready → delivered': summarize(pick((t) => t.delivered - t.ready)),
    'spawn → bootstrapped (log)': summarize(pick((t) => t.bootstrapped)),
  };
}

/** --debug: Alice's log of each run, times relative to her spawn. */
function dump(proc: DaemonProcess): void {
  for (const l of proc.lines.filter((x) => x['part'] !== 'utp'))
    console.error(`+${Number(l['time'] ?? l.recvMs) - proc.spawnMs} ${JSON.stringify(l)}`);
}

await runBench(600_000, async () => {
  const bare: number[] = [];
  const cli: number[] = [];
  const entry: number[] = [];
  for (let i = 0; i < 10; i++) {
    bare.push(await processStartMs(['-e', '0']));
    cli.push(await processStartMs([CLI_PATH, '--version']));
    if (DAEMON_ENTRY !== CLI_PATH) entry.push(await processStartMs([DAEMON_ENTRY, '--version']));
  }
  const { bootstrap, pair } = await friendsOnTestnet(30, log);
  const result: Record<string, unknown> = {
    bench: 'chat-daemon-start',
    testnetNodes: 30,
    runs,
    processStartMs: {
      nodeBare: summarize(bare),
      dhtchatVersion: summarize(cli),
      entryVersion: summarize(entry),
    },
  };
  const tables: Record<string, Summary> = {
    'node -e 0 (spawn → exit)': summarize(bare),
    'dhtchat --version (spawn → exit)': summarize(cli),
  };
  if (entry.length > 0) tables['daemon entry --version (spawn → exit)'] = summarize(entry);
  for (const variant of variants) {
    const times: RunTimes[] = [];
    for (let run = 0; run < runs; run++) {
      times.push(await oneRun(pair, bootstrap, variant, run));
      const last = times.at(-1);
      log(`${variant} ${run + 1}/${runs}: ${JSON.stringify(last)}`);
      if (process.argv.includes('--debug')) dump(pair.alice);
    }
    const digested = digest(times);
    result[variant] = { summary: digested, runs: times };
    for (const [name, s] of Object.entries(digested)) tables[`${variant}: ${name}`] = s;
    // Back to a known state for the next variant: both online, Alice on a port Bob knows.
    await waitOnline(pair.aliceDir, pair.bobCode, RUN_TIMEOUT_MS);
  }
  printTable(tables, ['n', 'min', 'p50', 'p95', 'max', 'mean']);
  console.log(JSON.stringify({ ...result, machine: machine() }));
});
