/**
 * One chat session's throughput and latency (issue 13 §3), the session path alone: two ChatNodes in one process
 * (Alice on the main thread, Bob in a worker thread: his own event loop, as on his own device) over real UDP on
 * 127.0.0.1 (uTP + Noise IK + chat frames), each with a real SQLite file (synchronous=FULL) in a temp dir; no DHT,
 * no HTTP, no process start (friends already, each knowing the other's endpoint). In one run:
 *   - paced: `--paced` messages at `--rate`/s (default 500 at 100/s): send → delivered p50/p99, where delivered =
 *     the friend committed it and acked, and the ack was committed here (the `delivered` state event);
 *   - window: up to `--messages` messages (default 20,000) or `--window-seconds` (default 20) of sending,
 *     whichever ends first, with at most `--window` (default 256) sent and not yet delivered: the sustained
 *     messages/s, the latencies under that load, and CPU per message (both threads);
 *   - fsync: this disk's fsyncs/s at the start of the round (4 KiB + fsync): what every commit waits for;
 *   - `--baseline DIR`: the same on the code of another checkout (e.g. `git archive <commit> | tar -x -C DIR`,
 *     with DIR/node_modules linked to ours), alternating with ours round by round (`--rounds`, default 2), so
 *     both see the same machine load: the ratios come from one run. Both sides are chat hosts (createChatHost);
 *     a baseline from before it is wired by hand the same way (handWiredHosts).
 * Run: node --import tsx bench/chat-session.bench.ts [--baseline DIR] [--rounds N] [--messages N] [--window N]
 *      [--window-seconds N] [--paced N] [--rate N]. Prints a table, then one JSON object. Bounded: each phase
 *      120 s, the script 20 min.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { intOption, printTable, stringOption, type Summary, summarize } from './chat-bench-stats.ts';
import { type Delivered, fsyncsPerSecond, type LoadResult, paced, windowed } from './chat-load-shapes.ts';

const PHASE_DEADLINE_MS = 120_000;
const SCRIPT_DEADLINE_MS = 20 * 60_000;
const rounds = intOption('rounds', 2);
const windowCount = intOption('messages', 20_000);
const window = intOption('window', 256);
const pacedCount = intOption('paced', 500);
const windowSeconds = intOption('window-seconds', 20);
const rate = intOption('rate', 100);
const baselineDir = stringOption('baseline');
const BODY = 'x'.repeat(100);
const loadAtStart = loadavg();

/** The part of a chat host the bench uses. */
interface BenchHost {
  chat: import('../src/chat/chat-node.ts').ChatNode;
  start(): Promise<void>;
  close(): Promise<void>;
}
type HostFactory = (options: import('../src/chat/chat-host.ts').ChatHostOptions) => BenchHost;

/** The modules a tree provides (ours, or a baseline checkout with the same layout). */
interface Tree {
  label: string;
  createChatHost: HostFactory;
  identityFromSeed: typeof import('../src/chat/identity.ts').identityFromSeed;
  ChatStore: typeof import('../src/chat/store/chat-store.ts').ChatStore;
  runtime: typeof import('../src/runtime/index.ts');
}

async function loadTree(label: string, root: string): Promise<Tree> {
  const from = (path: string) => import(join(root, path));
  return {
    label,
    createChatHost: existsSync(join(root, 'src/chat/chat-host.ts'))
      ? (await from('src/chat/chat-host.ts')).createChatHost
      : await handWiredHosts(root),
    identityFromSeed: (await from('src/chat/identity.ts')).identityFromSeed,
    ChatStore: (await from('src/chat/store/chat-store.ts')).ChatStore,
    runtime: await from('src/runtime/index.ts'),
  };
}

/**
 * A baseline from before createChatHost: the same wiring by hand (demux → uTP → ChatNode; the bench has no DHT
 * and no birthday sockets), closed in the host's order.
 */
async function handWiredHosts(root: string): Promise<HostFactory> {
  const { ChatNode } = await import(join(root, 'src/chat/chat-node.ts'));
  const net = await import(join(root, 'src/net/index.ts'));
  return ({ transport, store, clock, random, dht: _dht, openSideSocket: _side, ...chatOptions }) => {
    const demux = new net.DatagramDemux(transport);
    const utp = new net.UtpEndpoint({ transport: demux.utp, clock, random });
    const chat = new ChatNode({ ...chatOptions, store, clock, random, utp });
    return {
      chat,
      start: () => chat.start(),
      close: async () => {
        await chat.close();
        utp.close();
        demux.close();
        store.close();
      },
    };
  };
}

type Node = BenchHost['chat'];
type Address = { host: string; port: number };
const SEEDS = { alice: 1, bob: 2 } as const;

/** One side, friends with the other (who listens at peerAddress); started. */
async function startSide(
  tree: Tree,
  dir: string,
  who: 'alice' | 'bob',
  socket: Awaited<ReturnType<Tree['runtime']['UdpTransport']['bind']>>,
  peerAddress: Address,
): Promise<{ node: Node; close(): Promise<void> }> {
  const { runtime } = tree;
  const other = who === 'alice' ? 'bob' : 'alice';
  const identity = tree.identityFromSeed(Buffer.alloc(32, SEEDS[who]));
  const peerKey = tree.identityFromSeed(Buffer.alloc(32, SEEDS[other])).publicKey;
  const store = tree.ChatStore.open({
    path: join(dir, `${who}.sqlite`),
    ownPublicKey: identity.publicKey,
    clock: runtime.systemClock,
    random: runtime.cryptoRandom,
  });
  store.contacts.upsert(peerKey, 'accepted', other);
  store.contacts.noteEndpoint(peerKey, peerAddress, 'session');
  const address = socket.localAddress();
  const host = tree.createChatHost({
    transport: socket,
    store,
    identity,
    clock: runtime.systemClock,
    random: runtime.cryptoRandom,
    dht: false,
    localEndpoints: () => [address],
  });
  await host.start();
  return { node: host.chat, close: () => host.close() };
}

/**
 * Bob in a worker thread: his own event loop, as on his own device (in one thread every commit of one side would
 * hold up the other's). Told the tree, the dir and Alice's address; answers with his own; stops on 'close'.
 */
async function runBobWorker(): Promise<void> {
  const { root, label, dir, alice } = workerData as {
    root: string;
    label: string;
    dir: string;
    alice: Address;
  };
  const tree = await loadTree(label, root);
  const socket = await tree.runtime.UdpTransport.bind({ host: '127.0.0.1', port: 0 });
  const bob = await startSide(tree, dir, 'bob', socket, alice);
  parentPort?.once('message', async () => {
    await bob.close();
    parentPort?.close();
  });
  parentPort?.postMessage(socket.localAddress());
}

/** Alice here, Bob in a worker thread; Alice's session to Bob up. */
async function pairOn(
  tree: Tree,
  root: string,
  dir: string,
): Promise<{ alice: Node; close(): Promise<void> }> {
  const socket = await tree.runtime.UdpTransport.bind({ host: '127.0.0.1', port: 0 });
  // The worker runs this file, TypeScript: tsx's loader is registered in its thread first (Node 20 does not run
  // `--import` in workers).
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, {
    eval: true,
    workerData: { root, label: tree.label, dir, alice: socket.localAddress() },
  });
  const bobAddress = await new Promise<Address>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const alice = await startSide(tree, dir, 'alice', socket, bobAddress);
  const start = performance.now();
  while (!alice.node.isConnected('bob')) {
    if (performance.now() - start > 30_000) throw new Error('no session within 30 s');
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    alice: alice.node,
    close: async () => {
      await alice.close();
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('close');
      await exited;
    },
  };
}

interface RoundResult {
  fsyncsPerSecond: number;
  paced: LoadResult;
  window: LoadResult;
  cpuMicrosPerMessage: number;
}

async function round(tree: Tree, root: string): Promise<RoundResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-bench-session-'));
  const fsyncs = fsyncsPerSecond(dir);
  const { alice, close } = await pairOn(tree, root, dir);
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
    const windowResult = await windowed(windowCount, window, windowSeconds * 1000, PHASE_DEADLINE_MS, (i) =>
      one(`window ${i}`),
    );
    const cpu = process.cpuUsage(cpuBefore);
    return {
      fsyncsPerSecond: fsyncs,
      paced: pacedResult,
      window: windowResult,
      cpuMicrosPerMessage: (cpu.user + cpu.system) / windowResult.samples.length,
    };
  } finally {
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else await runBobWorker();

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error(`bench: deadline of ${SCRIPT_DEADLINE_MS} ms passed`);
    process.exit(2);
  }, SCRIPT_DEADLINE_MS);
  deadline.unref();

  const roots = new Map([['this tree', resolve(import.meta.dirname, '..')]]);
  if (baselineDir !== undefined) roots.set(`baseline ${baselineDir}`, resolve(baselineDir));
  const trees: Tree[] = [];
  for (const [label, root] of roots) trees.push(await loadTree(label, root));
  const results = new Map<string, RoundResult[]>(trees.map((t) => [t.label, []]));
  for (let r = 0; r < rounds; r++) {
    for (const tree of trees) {
      const result = await round(tree, roots.get(tree.label) as string);
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
}
