/**
 * One chat session's throughput and latency (issue 13 §3), the session path alone: two ChatNodes in one process
 * over real UDP on 127.0.0.1 (uTP + Noise IK + chat frames), each with a real SQLite file (synchronous=FULL) in a
 * temp dir; no DHT, no HTTP, no process start (friends already, each knowing the other's endpoint). In one run:
 *   - paced: `--paced` messages at `--rate`/s (default 500 at 100/s): send → delivered p50/p99, where delivered =
 *     the friend committed it and acked, and the ack was committed here (the `delivered` state event);
 *   - window: `--messages` messages (default 20,000) with at most `--window` (default 256) sent and not yet
 *     delivered: the sustained messages/s, the latencies under that load, and CPU per message (both nodes);
 *   - fsync: this disk's fsyncs/s at the start of the round (4 KiB + fsync): what every commit waits for;
 *   - `--baseline DIR`: the same on the code of another checkout (e.g. `git archive <commit> | tar -x -C DIR`,
 *     with DIR/node_modules linked to ours), alternating with ours round by round (`--rounds`, default 2), so
 *     both see the same machine load: the ratios come from one run.
 * Run: node --import tsx bench/chat-session.bench.ts [--baseline DIR] [--rounds N] [--messages N] [--window N]
 *      [--paced N] [--rate N]. Prints a table, then one JSON object. Bounded: each phase 120 s, the script 20 min.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { intOption, printTable, stringOption, type Summary, summarize } from './chat-bench-stats.ts';
import { type Delivered, fsyncsPerSecond, type LoadResult, paced, windowed } from './chat-load-shapes.ts';

const PHASE_DEADLINE_MS = 120_000;
const SCRIPT_DEADLINE_MS = 20 * 60_000;
const rounds = intOption('rounds', 2);
const windowCount = intOption('messages', 20_000);
const window = intOption('window', 256);
const pacedCount = intOption('paced', 500);
const rate = intOption('rate', 100);
const baselineDir = stringOption('baseline');
const BODY = 'x'.repeat(100);
const loadAtStart = loadavg();

/** The modules a tree provides (ours, or a baseline checkout with the same layout). */
interface Tree {
  label: string;
  ChatNode: typeof import('../src/chat/chat-node.ts').ChatNode;
  identityFromSeed: typeof import('../src/chat/identity.ts').identityFromSeed;
  ChatStore: typeof import('../src/chat/store/chat-store.ts').ChatStore;
  net: typeof import('../src/net/index.ts');
  runtime: typeof import('../src/runtime/index.ts');
}

async function loadTree(label: string, root: string): Promise<Tree> {
  const from = (path: string) => import(join(root, path));
  return {
    label,
    ChatNode: (await from('src/chat/chat-node.ts')).ChatNode,
    identityFromSeed: (await from('src/chat/identity.ts')).identityFromSeed,
    ChatStore: (await from('src/chat/store/chat-store.ts')).ChatStore,
    net: await from('src/net/index.ts'),
    runtime: await from('src/runtime/index.ts'),
  };
}

type Node = InstanceType<Tree['ChatNode']>;

/** Alice and Bob, friends, each knowing where the other listens; Alice's session to Bob up. */
async function pairOn(tree: Tree, dir: string): Promise<{ alice: Node; close(): void }> {
  const { runtime, net } = tree;
  const sockets = await Promise.all(
    [0, 1].map(() => runtime.UdpTransport.bind({ host: '127.0.0.1', port: 0 })),
  );
  const seeds = [1, 2];
  const closers: (() => void)[] = [];
  const nodes = sockets.map((socket, i) => {
    const identity = tree.identityFromSeed(Buffer.alloc(32, seeds[i]));
    const peerKey = tree.identityFromSeed(Buffer.alloc(32, seeds[1 - i])).publicKey;
    const peerSocket = sockets[1 - i] as typeof socket;
    const demux = new net.DatagramDemux(socket);
    const utp = new net.UtpEndpoint({
      transport: demux.utp,
      clock: runtime.systemClock,
      random: runtime.cryptoRandom,
    });
    const store = tree.ChatStore.open({
      path: join(dir, `${i === 0 ? 'alice' : 'bob'}.sqlite`),
      ownPublicKey: identity.publicKey,
      clock: runtime.systemClock,
      random: runtime.cryptoRandom,
    });
    store.contacts.upsert(peerKey, 'accepted', i === 0 ? 'bob' : 'alice');
    store.contacts.noteEndpoint(peerKey, peerSocket.localAddress(), 'session');
    const address = socket.localAddress();
    const node = new tree.ChatNode({
      identity,
      store,
      utp,
      clock: runtime.systemClock,
      random: runtime.cryptoRandom,
      localEndpoints: () => [address],
    });
    closers.push(() => {
      void node.close();
      utp.close();
      demux.close();
      store.close();
    });
    return node;
  });
  const [alice, bob] = nodes as [Node, Node];
  await Promise.all([alice.start(), bob.start()]);
  const start = performance.now();
  while (!alice.isConnected('bob') || !bob.isConnected('alice')) {
    if (performance.now() - start > 30_000) throw new Error('no session within 30 s');
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    alice,
    close: () => {
      for (const close of closers) close();
    },
  };
}

interface RoundResult {
  fsyncsPerSecond: number;
  paced: LoadResult;
  window: LoadResult;
  cpuMicrosPerMessage: number;
}

async function round(tree: Tree): Promise<RoundResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-bench-session-'));
  const fsyncs = fsyncsPerSecond(dir);
  const { alice, close } = await pairOn(tree, dir);
  try {
    const deliveredAt = new Map<string, number>();
    const waiting = new Map<string, (atMs: number) => void>();
    alice.on('state', (e) => {
      if (e.state !== 'delivered' && e.state !== 'read') return;
      const at = performance.now();
      const wake = waiting.get(e.id);
      if (wake !== undefined) {
        waiting.delete(e.id);
        wake(at);
      } else deliveredAt.set(e.id, at);
    });
    const one = async (label: string): Promise<Delivered> => {
      const at = performance.now();
      const { id } = await alice.send('bob', `${label} ${BODY}`);
      const answeredAt = performance.now();
      const early = deliveredAt.get(id);
      deliveredAt.delete(id);
      const doneAt = early ?? (await new Promise<number>((wake) => waiting.set(id, wake)));
      return { latencyMs: doneAt - at, answerMs: answeredAt - at };
    };
    for (let i = 0; i < 20; i++) await one(`warm-up ${i}`);
    const pacedResult = await paced(pacedCount, rate, PHASE_DEADLINE_MS, (i) => one(`paced ${i}`));
    const cpuBefore = process.cpuUsage();
    const windowResult = await windowed(windowCount, window, PHASE_DEADLINE_MS, (i) => one(`window ${i}`));
    const cpu = process.cpuUsage(cpuBefore);
    return {
      fsyncsPerSecond: fsyncs,
      paced: pacedResult,
      window: windowResult,
      cpuMicrosPerMessage: (cpu.user + cpu.system) / windowCount,
    };
  } finally {
    close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const deadline = setTimeout(() => {
  console.error(`bench: deadline of ${SCRIPT_DEADLINE_MS} ms passed`);
  process.exit(2);
}, SCRIPT_DEADLINE_MS);
deadline.unref();

const trees = [await loadTree('this tree', resolve(import.meta.dirname, '..'))];
if (baselineDir !== undefined) trees.push(await loadTree(`baseline ${baselineDir}`, resolve(baselineDir)));
const results = new Map<string, RoundResult[]>(trees.map((t) => [t.label, []]));
for (let r = 0; r < rounds; r++) {
  for (const tree of trees) {
    const result = await round(tree);
    results.get(tree.label)?.push(result);
    console.error(
      `round ${r + 1} ${tree.label}: window ${result.window.messagesPerSecond.toFixed(0)}/s, paced p99 ` +
        `${summarize(result.paced.samples.map((s) => s.latencyMs)).p99} ms, fsync ${result.fsyncsPerSecond.toFixed(0)}/s, ` +
        `load ${loadavg()[0]?.toFixed(2)}`,
    );
  }
}

/** Per tree: all rounds' samples pooled; rates as the median round. */
const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number;
const report = trees.map((tree) => {
  const rs = results.get(tree.label) ?? [];
  return {
    tree: tree.label,
    windowMessagesPerSecond: Math.round(median(rs.map((r) => r.window.messagesPerSecond))),
    windowPerRound: rs.map((r) => Math.round(r.window.messagesPerSecond)),
    cpuMicrosPerMessage: Math.round(median(rs.map((r) => r.cpuMicrosPerMessage))),
    fsyncsPerSecond: Math.round(median(rs.map((r) => r.fsyncsPerSecond))),
    paced: summarize(rs.flatMap((r) => r.paced.samples.map((s) => s.latencyMs))),
    pacedAnswer: summarize(rs.flatMap((r) => r.paced.samples.map((s) => s.answerMs))),
    window: summarize(rs.flatMap((r) => r.window.samples.map((s) => s.latencyMs))),
  };
});
const rows: Record<string, Summary> = {};
for (const r of report) {
  rows[`${r.tree}: paced ${rate}/s send → delivered`] = r.paced;
  rows[`${r.tree}: paced ${rate}/s send answered`] = r.pacedAnswer;
  rows[`${r.tree}: window ${window} send → delivered`] = r.window;
}
printTable(rows, ['n', 'p50', 'p95', 'p99', 'max', 'mean']);
for (const r of report) {
  console.log(
    `${r.tree}: ${r.windowMessagesPerSecond} messages/s sustained (window ${window}, rounds ${r.windowPerRound.join(', ')}), ` +
      `${r.cpuMicrosPerMessage} µs CPU per message, disk ${r.fsyncsPerSecond} fsyncs/s`,
  );
}
const [ours, base] = report;
const ratios =
  ours !== undefined && base !== undefined
    ? {
        windowMessagesPerSecond:
          Math.round((ours.windowMessagesPerSecond / base.windowMessagesPerSecond) * 100) / 100,
        pacedP99: Math.round((ours.paced.p99 / base.paced.p99) * 100) / 100,
        cpuPerMessage: Math.round((ours.cpuMicrosPerMessage / base.cpuMicrosPerMessage) * 100) / 100,
      }
    : undefined;
if (ratios !== undefined) console.log(`this tree ÷ baseline: ${JSON.stringify(ratios)}`);
console.log(
  JSON.stringify({
    bench: 'chat-session',
    rounds,
    messages: windowCount,
    window,
    paced: pacedCount,
    rate,
    bodyChars: BODY.length,
    report,
    ratios,
    machine: {
      node: process.version,
      cpus: availableParallelism(),
      loadAverageAtStart: loadAtStart.map((x) => Math.round(x * 100) / 100),
      loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
    },
  }),
);
