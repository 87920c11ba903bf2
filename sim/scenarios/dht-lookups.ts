/**
 * Scenario "dht-lookups": how fast and how reliably real DhtNodes look things up on a simulated Mainline DHT,
 * at several churn levels.
 *
 *   1. N − probes nodes join through two routers at --join-rate per second, then the network settles.
 *   2. Pairs of probe nodes (stable: the users whose lookups we measure) join and settle.
 *   3. For each churn level, ascending (one network; each level first runs --settle seconds at its rate, so
 *      routing tables reflect that rate): every pair loops until --samples cycles are done: the writer puts an
 *      immutable item (measured: put), the reader gets it (measured: get), the writer announces an info-hash
 *      (not measured) and the reader asks for its peers (measured: get_peers).
 *
 * Success: put stored on at least one node; get returned the very value; get_peers listed the writer.
 * Latency is virtual time from the call to its settlement; hops and messages come from lookup-trace.ts.
 */
import type { SimHost } from '../dht-population.ts';
import { CHURN_WINDOW_MS, SESSION_SHAPE } from '../churn-model.ts';
import { LookupTrace } from '../lookup-trace.ts';
import { fixed, mean, percent, percentile, sortedCopy } from '../sample-stats.ts';
import { numberParam, type Scenario, type ScenarioOptions, type ScenarioReport } from '../scenario.ts';
import type { SimRandom } from '../sim-random.ts';
import { SimWorld } from '../sim-world.ts';
import { renderLinePlot } from '../svg-plot.ts';

type Operation = 'get' | 'get_peers' | 'put';
const OPERATIONS: readonly Operation[] = ['get', 'get_peers', 'put'];

interface Sample {
  ms: number;
  isSuccess: boolean;
  hops: number | undefined;
  queries: number;
}

interface Probe {
  host: SimHost;
  trace: LookupTrace;
}

interface LevelResult {
  churnPercent: number;
  samples: Record<Operation, Sample[]>;
  departedDuringLevel: number;
}

const ROUTERS = 2;

export const dhtLookups: Scenario = {
  name: 'dht-lookups',
  summary: 'get / get_peers / put latency, hops, messages and success at 0/10/20/40 % churn',
  run,
};

async function run(options: ScenarioOptions): Promise<ScenarioReport> {
  const log = options.log ?? (() => {});
  const levels = (options.params.churn ?? '0,10,20,40').split(',').map(Number);
  if (levels.some((l) => !(l >= 0 && l < 100))) throw new RangeError('--churn takes percentages in [0, 100)');
  const cycles = numberParam(options, 'samples', 100);
  // --quick 1: every measured lookup presumes a node silent for 1 s gone once k answered (DhtNode's isQuick).
  const isQuick = numberParam(options, 'quick', 0) === 1;
  const libtorrentShare = numberParam(options, 'libtorrent-share', 0.9);
  const joinRate = numberParam(options, 'join-rate', 200);
  const settleMs = numberParam(options, 'settle', 180) * 1000;
  // --pairs: more pairs share the --samples cycles, so each level's measuring phase (and the churn, joins and
  // upkeep of every node while it runs) is shorter in virtual time for the same number of samples.
  const pairs = numberParam(options, 'pairs', Math.max(2, Math.min(16, Math.floor(options.nodes / 200))));
  if (!(Number.isInteger(pairs) && pairs >= 1)) throw new RangeError('--pairs takes a whole number ≥ 1');
  const others = options.nodes - ROUTERS - 2 * pairs;
  if (others < 8) throw new RangeError(`--nodes must be at least ${ROUTERS + 2 * pairs + 8}`);

  const world = new SimWorld({ seed: options.seed, libtorrentShare });
  const { scheduler, population, internet } = world;
  const { runFor, settle } = world.wallBudget(options.maxWallMs);

  for (let i = 0; i < ROUTERS; i++) population.spawn('router');
  const joinMs = (others * 1000) / joinRate;
  const startMs = scheduler.monotonicMs();
  const elapsedS = (): string => ((scheduler.monotonicMs() - startMs) / 1000).toFixed(0);
  for (let i = 0; i < others; i++) {
    scheduler.setTimer((i * 1000) / joinRate, () => {
      population.spawn('churning');
      // Progress for long runs (stderr only), from an event that runs anyway: the report stays the same.
      if ((i + 1) % 5000 === 0)
        log(`${i + 1} nodes spawned at ${elapsedS()} s virtual; ${scheduler.eventsRun} events`);
    });
  }
  await runFor(joinMs + settleMs);
  log(`joined ${others} nodes in ${(joinMs / 1000).toFixed(0)} s virtual; ${scheduler.eventsRun} events`);

  const probes: Probe[] = [];
  for (let i = 0; i < 2 * pairs; i++) {
    let trace: LookupTrace | undefined;
    const host = population.spawn('stable', (t) => {
      trace = new LookupTrace(t);
      return trace.transport;
    });
    probes.push({ host, trace: trace! });
  }
  await runFor(settleMs);
  const tableSizes = sortedCopy(population.liveHosts().map((h) => h.node.routingTableSize()));

  const results: LevelResult[] = [];
  for (const churnPercent of levels) {
    population.setChurn(SimWorld.churn(churnPercent / 100, settleMs));
    const departedBefore = population.counters.departed;
    await runFor(settleMs);
    const samples: Record<Operation, Sample[]> = { get: [], get_peers: [], put: [] };
    const loops: Promise<void>[] = [];
    for (let p = 0; p < pairs; p++) {
      const random = world.random.fork(`cycles/${churnPercent}/${p}`);
      const share = Math.floor(cycles / pairs) + (p < cycles % pairs ? 1 : 0);
      loops.push(pairLoop(probes[2 * p]!, probes[2 * p + 1]!, share, random, samples, world, isQuick));
    }
    await settle(Promise.all(loops));
    results.push({
      churnPercent,
      samples,
      departedDuringLevel: population.counters.departed - departedBefore,
    });
    log(
      `churn ${churnPercent} %: done at ${((scheduler.monotonicMs() - startMs) / 1000).toFixed(0)} s virtual`,
    );
  }
  const network = { ...internet.counters };
  const populationCounters = { ...population.counters, refusals: { ...population.counters.refusals } };
  population.closeAll();

  const rttMedianMs = internet.latency.options.rttMedianMs;
  const summary = results.map((r) => ({
    churnPercent: r.churnPercent,
    departedDuringLevel: r.departedDuringLevel,
    operations: Object.fromEntries(OPERATIONS.map((op) => [op, summarize(r.samples[op], rttMedianMs)])),
  }));
  const markdown = renderMarkdown({
    options,
    isQuick,
    pairs,
    cycles,
    libtorrentShare,
    joinRate,
    settleMs,
    rttMedianMs,
    lossPercent: internet.latency.options.lossRate * 100,
    tableSizes,
    summary,
    network,
    populationCounters,
    events: scheduler.eventsRun,
  });
  const svg = renderLinePlot({
    title: `get latency, ${options.nodes.toLocaleString('en-US')} nodes (CDF per churn level)`,
    xLabel: 'latency (ms, virtual)',
    yLabel: 'share of gets done (%)',
    yMax: 100,
    xMax: 4000,
    series: results.map((r) => ({ label: `${r.churnPercent} % churn`, points: cdf(r.samples.get) })),
  });
  return {
    name: 'dht-lookups',
    markdown,
    files: { 'dht-lookups-get-cdf.svg': svg },
    results: { nodes: options.nodes, seed: options.seed, tableSizes: quantiles(tableSizes), summary },
    events: scheduler.eventsRun,
  };
}

async function pairLoop(
  writer: Probe,
  reader: Probe,
  count: number,
  random: SimRandom,
  samples: Record<Operation, Sample[]>,
  world: SimWorld,
  isQuick: boolean,
): Promise<void> {
  const clock = world.scheduler;
  for (let i = 0; i < count; i++) {
    const value = random.bytes(32);
    writer.trace.begin(['get', 'put']);
    let startMs = clock.monotonicMs();
    const put = await writer.host.node.putImmutable(value, { isQuick }).catch(() => undefined);
    let window = writer.trace.end();
    samples.put.push({
      ms: clock.monotonicMs() - startMs,
      isSuccess: put !== undefined && put.stored > 0,
      hops: window.storeHops > 0 ? window.storeHops : undefined,
      queries: window.queries,
    });
    if (put !== undefined) {
      writer.host.node.forgetItem(put.target);
      reader.trace.begin(['get']);
      startMs = clock.monotonicMs();
      const found = await reader.host.node.get(put.target, { isQuick }).catch(() => undefined);
      window = reader.trace.end();
      samples.get.push({
        ms: clock.monotonicMs() - startMs,
        isSuccess: found !== undefined && Buffer.isBuffer(found.v) && found.v.equals(value),
        hops: window.valueHops,
        queries: window.queries,
      });
    }
    const infoHash = random.bytes(20);
    await writer.host.node.announcePeer(infoHash).catch(() => undefined);
    reader.trace.begin(['get_peers']);
    startMs = clock.monotonicMs();
    const peers = await reader.host.node.getPeers(infoHash, { isQuick }).catch(() => undefined);
    window = reader.trace.end();
    const writerAddress = writer.host.address;
    samples.get_peers.push({
      ms: clock.monotonicMs() - startMs,
      isSuccess:
        peers?.peers.some((p) => p.host === writerAddress.host && p.port === writerAddress.port) ?? false,
      hops: window.valueHops,
      queries: window.queries,
    });
  }
}

interface OperationSummary {
  count: number;
  successes: number;
  p50Ms: number | undefined;
  p95Ms: number | undefined;
  p99Ms: number | undefined;
  p50Rtts: number | undefined;
  hopsP50: number | undefined;
  hopsP95: number | undefined;
  messagesMean: number | undefined;
  messagesP95: number | undefined;
}

function summarize(samples: readonly Sample[], rttMedianMs: number): OperationSummary {
  const ms = sortedCopy(samples.map((s) => s.ms));
  const hops = sortedCopy(samples.flatMap((s) => (s.hops === undefined ? [] : [s.hops])));
  const queries = samples.map((s) => s.queries);
  const p50Ms = percentile(ms, 50);
  return {
    count: samples.length,
    successes: samples.filter((s) => s.isSuccess).length,
    p50Ms,
    p95Ms: percentile(ms, 95),
    p99Ms: percentile(ms, 99),
    p50Rtts: p50Ms === undefined ? undefined : p50Ms / rttMedianMs,
    hopsP50: percentile(hops, 50),
    hopsP95: percentile(hops, 95),
    messagesMean: mean(queries),
    messagesP95: percentile(sortedCopy(queries), 95),
  };
}

function cdf(samples: readonly Sample[]): Array<[number, number]> {
  const ms = sortedCopy(samples.map((s) => s.ms));
  return ms.map((v, i) => [v, (100 * (i + 1)) / ms.length]);
}

function quantiles(sorted: readonly number[]): { p10?: number; p50?: number; p90?: number } {
  const out: { p10?: number; p50?: number; p90?: number } = {};
  const p10 = percentile(sorted, 10);
  const p50 = percentile(sorted, 50);
  const p90 = percentile(sorted, 90);
  if (p10 !== undefined) out.p10 = p10;
  if (p50 !== undefined) out.p50 = p50;
  if (p90 !== undefined) out.p90 = p90;
  return out;
}

interface MarkdownInput {
  options: ScenarioOptions;
  isQuick: boolean;
  pairs: number;
  cycles: number;
  libtorrentShare: number;
  joinRate: number;
  settleMs: number;
  rttMedianMs: number;
  lossPercent: number;
  tableSizes: readonly number[];
  summary: ReadonlyArray<{
    churnPercent: number;
    departedDuringLevel: number;
    operations: Record<string, OperationSummary>;
  }>;
  network: Readonly<Record<string, number>>;
  populationCounters: { spawned: number; departed: number; refusals: { refused: number } };
  events: number;
}

function renderMarkdown(input: MarkdownInput): string {
  const { options, summary, isQuick } = input;
  const lines: string[] = [];
  const nodes = options.nodes.toLocaleString('en-US');
  lines.push(
    `# DHT lookups on ${nodes} simulated nodes`,
    '',
    `Generated by \`npm run sim -- dht-lookups --nodes ${options.nodes} --seed ${options.seed}` +
      `${paramText(options.params)}\` (sim/scenarios/dht-lookups.ts; models and sources: docs/sim/README.md).`,
    'The same command prints the same file, byte for byte.',
    '',
    `- Real \`DhtNode\`s (src/dht, default parameters: k = 8, α = 4, query timeout 3 s, slow query 1 s` +
      `${isQuick ? '; measured lookups with isQuick' : ''}), ` +
      `${Math.round(input.libtorrentShare * 100)} % of them refusing the dhtchat extension like libtorrent.`,
    `- Latency: log-normal RTT, median ${input.rttMedianMs} ms (WonderNetwork fit), ${input.lossPercent} % loss.`,
    `- Join: ${input.joinRate} nodes/s through ${ROUTERS} routers; ${input.pairs} writer/reader probe pairs; ` +
      `each churn level runs ${input.settleMs / 1000} s at its rate before it is measured.`,
    `- Churn: the share of the population replaced per ${input.settleMs / 1000} s (BEP 5's ` +
      `${CHURN_WINDOW_MS / 60_000}-minute window compressed to the settle time: tables have less time to repair); ` +
      `Weibull sessions, shape ${SESSION_SHAPE}; departures are silent, each replaced by a fresh node at once.`,
    `- ${input.cycles} put → get → announce → get_peers cycles per level.`,
    `- Routing table sizes before churn: p10 ${fixed(percentile(input.tableSizes, 10))}, ` +
      `p50 ${fixed(percentile(input.tableSizes, 50))}, p90 ${fixed(percentile(input.tableSizes, 90))}.`,
    '',
    '| churn | operation | n | success | p50 ms | p95 ms | p99 ms | p50 RTTs | hops p50 | hops p95 | messages mean | messages p95 |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const level of summary) {
    for (const op of OPERATIONS) {
      const s = level.operations[op]!;
      lines.push(
        `| ${level.churnPercent} % | ${op} | ${s.count} | ${percent(s.successes, s.count)} | ${fixed(s.p50Ms)} | ` +
          `${fixed(s.p95Ms)} | ${fixed(s.p99Ms)} | ${fixed(s.p50Rtts, 1)} | ${fixed(s.hopsP50)} | ` +
          `${fixed(s.hopsP95)} | ${fixed(s.messagesMean, 1)} | ${fixed(s.messagesP95)} |`,
      );
    }
  }
  lines.push('', '## Goals (issue 14) on this run', '');
  const at20 = summary.find((l) => l.churnPercent === 20)?.operations.get;
  const at0 = summary.find((l) => l.churnPercent === 0)?.operations.get;
  const goal = (label: string, value: string, isMet: boolean | undefined): string =>
    `- ${label}: ${value} — ${isMet === undefined ? 'not measured' : isMet ? 'met' : 'NOT met'}`;
  lines.push(
    goal(
      'median get ≤ 3 RTTs (0 % churn)',
      `${fixed(at0?.p50Rtts, 1)} RTTs`,
      at0?.p50Rtts === undefined ? undefined : at0.p50Rtts <= 3,
    ),
    goal(
      'p95 get ≤ 1 s (0 % churn)',
      `${fixed(at0?.p95Ms)} ms`,
      at0?.p95Ms === undefined ? undefined : at0.p95Ms <= 1000,
    ),
    goal(
      'get success ≥ 99 % at 20 % churn',
      at20 === undefined ? '–' : percent(at20.successes, at20.count),
      at20 === undefined || at20.count === 0 ? undefined : at20.successes / at20.count >= 0.99,
    ),
    '',
    '## Plot',
    '',
    '![get latency CDF per churn level](dht-lookups-get-cdf.svg)',
    '',
    '## Totals',
    '',
    `- Datagrams sent ${input.network.sent}, lost ${input.network.lost}, to nobody ${input.network.unroutable}; ` +
      `events ${input.events}.`,
    `- Nodes spawned ${input.populationCounters.spawned}, departed ${input.populationCounters.departed} ` +
      `(${summary.map((l) => `${l.departedDuringLevel} during ${l.churnPercent} %`).join(', ')}); ` +
      `dhtchat queries refused like libtorrent: ${input.populationCounters.refusals.refused}.`,
    '',
  );
  return lines.join('\n');
}

function paramText(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .sort()
    .map((k) => ` --${k} ${params[k]}`)
    .join('');
}
