/**
 * Issue 13 §4: what an idle daemon costs. A loopback testnet (`dhtchat testnet --nodes 30`), one user ("owner")
 * with 20 friends of whom half are online (their daemons run) and half offline (their identities exist and are
 * friends on both sides, written into the stores before any daemon starts, but no daemon runs for them). Once the
 * owner's daemon lists every online friend online, it is left alone to settle, then sampled for the duration:
 *   - CPU: utime + stime from /proc/<pid>/stat, as a share of one core over the wall time sampled;
 *   - RSS: VmRSS from /proc/<pid>/status every few seconds (mean and max);
 *   - DHT queries it sent (GET /v1/network: first tries, resends, lookups, queries received), per friend per hour.
 * The online friends' daemons are sampled the same way (their mean), for comparison (each has one friend).
 *
 * Run: node --import tsx bench/idle-daemon.bench.ts [--minutes 10] [--friends 20] [--offline 10] [--nodes 30]
 *        [--settle-s 60] [--sample-s 5] [--bundle | --cli <entry.js>] [--node-args "<flags>"] [--debug]
 * --bundle runs the daemons from an esbuild bundle of src/app/cli.ts, as `npm ci` ships it (dist/dhtchat.mjs);
 * without it they run from source through tsx (more memory: the TypeScript compiler's caches).
 * Prints a table and then one JSON object. Bounded: the script gives up after the duration plus 15 minutes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callDaemon } from '../src/app/chat-api-client.ts';
import { CHAT_DATABASE_FILE, ChatStore, decodeFriendCode } from '../src/chat/index.ts';
import { cryptoRandom, systemClock } from '../src/runtime/index.ts';
import { eventually } from '../test/e2e/chat-processes.ts';
import { intOption, stringOption } from './chat-bench-stats.ts';
import {
  cliJson,
  type DaemonProcess,
  machine,
  progressLog,
  runBench,
  startDaemon,
  startTestnet,
} from './chat-harness.ts';

const minutes = Number(stringOption('minutes') ?? '10');
if (!(minutes > 0 && minutes <= 120)) throw new Error('--minutes wants a number in (0, 120]');
const friendCount = intOption('friends', 20);
const offlineCount = Number(stringOption('offline') ?? String(Math.floor(friendCount / 2)));
if (!Number.isInteger(offlineCount) || offlineCount < 0 || offlineCount > friendCount) {
  throw new Error('--offline wants an integer from 0 to --friends');
}
const testnetNodes = intOption('nodes', 30);
const settleS = intOption('settle-s', 60);
const sampleS = intOption('sample-s', 5);
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (getconf CLK_TCK; 100 everywhere we run). */
const TICKS_PER_S = 100;
const GOALS = { cpuPercentOfCore: 0.5, rssMb: 80 };
const log = progressLog();

interface User {
  readonly dir: string;
  readonly code: string;
}

interface NetworkCounters {
  queriesSent: number;
  queriesResent: number;
  queriesReceived: number;
  lookups: number;
}

/** utime + stime of a process, in ticks (fields 14 and 15; the name in field 2 may hold spaces, so after ')'). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

async function counters(dir: string): Promise<NetworkCounters> {
  const view = (await callDaemon(dir, 'GET', '/v1/network')) as { dht: NetworkCounters };
  const { queriesSent, queriesResent, queriesReceived, lookups } = view.dht;
  return { queriesSent, queriesResent, queriesReceived, lookups };
}

async function onlineCount(dir: string): Promise<number> {
  const list = (await callDaemon(dir, 'GET', '/v1/contacts')) as { presence: string }[];
  return list.filter((c) => c.presence === 'online').length;
}

/** `init` for each name, a few at a time (each is a Node process). */
async function initUsers(names: readonly string[], dirs: string[]): Promise<User[]> {
  const users: User[] = [];
  for (let i = 0; i < names.length; i += 4) {
    const batch = names.slice(i, i + 4);
    users.push(
      ...(await Promise.all(
        batch.map(async (name) => {
          const dir = mkdtempSync(join(tmpdir(), `dhtchat-idle-${name}-`));
          dirs.push(dir);
          const init = (await cliJson(dir, 'init', '--name', name)) as { code: string };
          return { dir, code: init.code };
        }),
      )),
    );
  }
  return users;
}

/** Makes each pair friends in both stores (no daemon runs yet: the store is locked by a running one). */
function befriend(user: User, friends: readonly { user: User; name: string }[]): void {
  const store = ChatStore.open({
    path: join(user.dir, CHAT_DATABASE_FILE),
    ownPublicKey: decodeFriendCode(user.code),
    clock: systemClock,
    random: cryptoRandom,
  });
  try {
    for (const friend of friends)
      store.contacts.upsert(decodeFriendCode(friend.user.code), 'accepted', friend.name);
  } finally {
    store.close();
  }
}

interface Sampled {
  cpuPercentOfCore: number;
  rssMbMean: number;
  rssMbMax: number;
}

/** Samples processes every sampleS for durationMs; CPU over the whole span, RSS at each sample. */
async function sample(pids: readonly number[], durationMs: number): Promise<Sampled[]> {
  const startMs = Date.now();
  const startTicks = pids.map(cpuTicks);
  const rss: number[][] = pids.map(() => []);
  const take = (): void => {
    for (const [i, pid] of pids.entries()) rss[i]?.push(rssKb(pid));
  };
  take();
  let nextLogMs = startMs + 60_000;
  while (Date.now() - startMs < durationMs) {
    await new Promise((r) => setTimeout(r, Math.min(sampleS * 1000, durationMs - (Date.now() - startMs))));
    take();
    if (Date.now() >= nextLogMs) {
      nextLogMs += 60_000;
      const cpu = ((cpuTicks(pids[0] as number) - (startTicks[0] as number)) / TICKS_PER_S) * 1000;
      log(`sampling: ${Math.round((Date.now() - startMs) / 1000)} s, owner CPU ${Math.round(cpu)} ms so far`);
    }
  }
  const wallS = (Date.now() - startMs) / 1000;
  return pids.map((pid, i) => {
    const cpuS = (cpuTicks(pid) - (startTicks[i] as number)) / TICKS_PER_S;
    const kb = rss[i] ?? [];
    return {
      cpuPercentOfCore: round((cpuS / wallS) * 100, 3),
      rssMbMean: round(kb.reduce((s, x) => s + x, 0) / kb.length / 1024, 1),
      rssMbMax: round(Math.max(...kb) / 1024, 1),
    };
  });
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
}

await runBench((minutes * 60 + 15 * 60) * 1000, async () => {
  const dirs: string[] = [];
  const { bootstrap } = await startTestnet(testnetNodes);
  log(`testnet of ${testnetNodes} nodes at ${bootstrap}`);
  const names = [
    'owner',
    ...Array.from({ length: friendCount }, (_, i) => `f${String(i + 1).padStart(2, '0')}`),
  ];
  const [owner, ...friends] = await initUsers(names, dirs);
  if (owner === undefined) throw new Error('no owner');
  const online = friends.slice(0, friendCount - offlineCount);
  befriend(
    owner,
    friends.map((user, i) => ({ user, name: names[i + 1] as string })),
  );
  for (const friend of friends) befriend(friend, [{ user: owner, name: 'owner' }]);
  log(`${friendCount} friends written (${online.length} will run a daemon, ${offlineCount} stay offline)`);

  const friendDaemons: DaemonProcess[] = [];
  for (const friend of online)
    friendDaemons.push((await startDaemon(friend.dir, bootstrap, { port: 0 })).proc);
  const ownerDaemon = (await startDaemon(owner.dir, bootstrap, { port: 0 })).proc;
  log('daemons ready');
  const upMs = Date.now();
  await eventually(
    'every online friend online at the owner',
    async () => ((await onlineCount(owner.dir)) >= online.length ? true : undefined),
    5 * 60_000,
    1000,
  );
  log(
    `all ${online.length} online friends online after ${((Date.now() - upMs) / 1000).toFixed(1)} s; settling ${settleS} s`,
  );
  await new Promise((r) => setTimeout(r, settleS * 1000));

  const durationMs = minutes * 60_000;
  const before = await counters(owner.dir);
  const pids = [ownerDaemon, ...friendDaemons].map((d) => d.child.pid as number);
  log(`sampling for ${minutes} min (every ${sampleS} s)`);
  const sampleStartMs = Date.now();
  const [ownerSample, ...friendSamples] = await sample(pids, durationMs);
  const hours = (Date.now() - sampleStartMs) / 3_600_000;
  const after = await counters(owner.dir);
  const onlineAtEnd = await onlineCount(owner.dir);
  if (ownerSample === undefined) throw new Error('no owner sample');

  const perFriendHour = (key: keyof NetworkCounters): number =>
    round((after[key] - before[key]) / friendCount / hours, 1);
  const queries = {
    sentPerFriendPerHour: perFriendHour('queriesSent'),
    resentPerFriendPerHour: perFriendHour('queriesResent'),
    lookupsPerFriendPerHour: perFriendHour('lookups'),
    receivedPerFriendPerHour: perFriendHour('queriesReceived'),
    sentPerHour: round((after.queriesSent - before.queriesSent) / hours, 0),
  };
  const friendsMean = {
    cpuPercentOfCore: round(mean(friendSamples.map((s) => s.cpuPercentOfCore)), 3),
    rssMbMean: round(mean(friendSamples.map((s) => s.rssMbMean)), 1),
  };
  const verdict = {
    cpu: round(ownerSample.cpuPercentOfCore / GOALS.cpuPercentOfCore, 2),
    rss: round(ownerSample.rssMbMean / GOALS.rssMb, 2),
  };

  const rows: [string, string, string][] = [
    ['owner CPU (% of one core)', String(ownerSample.cpuPercentOfCore), `≤ ${GOALS.cpuPercentOfCore}`],
    ['owner RSS mean (MB)', String(ownerSample.rssMbMean), `≤ ${GOALS.rssMb}`],
    ['owner RSS max (MB)', String(ownerSample.rssMbMax), ''],
    ['DHT queries sent / friend / h', String(queries.sentPerFriendPerHour), ''],
    ['  resent / friend / h', String(queries.resentPerFriendPerHour), ''],
    ['  lookups / friend / h', String(queries.lookupsPerFriendPerHour), ''],
    ['DHT queries received / friend / h', String(queries.receivedPerFriendPerHour), ''],
    ['friend daemons CPU mean (%)', String(friendsMean.cpuPercentOfCore), ''],
    ['friend daemons RSS mean (MB)', String(friendsMean.rssMbMean), ''],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`idle daemon, ${friendCount} friends (${onlineAtEnd} online at the end), ${minutes} min`);
  for (const [name, value, goal] of rows) console.log(`${name.padEnd(width)}  ${value.padStart(8)}  ${goal}`);
  console.log(
    JSON.stringify({
      bench: 'idle-daemon',
      minutes,
      friends: friendCount,
      offline: offlineCount,
      onlineAtEnd,
      testnetNodes,
      settleS,
      owner: ownerSample,
      queries,
      counters: { before, after },
      friendDaemonsMean: friendsMean,
      goals: GOALS,
      ratioToGoal: verdict,
      machine: machine(),
    }),
  );
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
