/**
 * Scenario "item-survival": do BEP 44 items stay findable under churn, with and without our hourly republishing?
 *
 *   1. N − 3 nodes join through two routers and settle; churn starts (--churn % of the population replaced per
 *      15 minutes, BEP 5's window: here the window is not compressed, the scenario is about time).
 *   2. Two stable publishers put --items immutable items each. One keeps republishing them (DhtNode's republisher:
 *      hourly); the other calls forgetItem at once, so its items live only as long as the nodes storing them do
 *      and at most BEP 44's two hours.
 *   3. Every --check-every minutes for --hours hours, a stable reader gets every item; the report gives the share
 *      found per variant over time.
 */
import { BEP44_REPUBLISH_MS } from '../../src/dht/index.ts';
import { CHURN_WINDOW_MS, SESSION_SHAPE } from '../churn-model.ts';
import { percent } from '../sample-stats.ts';
import { numberParam, type Scenario, type ScenarioOptions, type ScenarioReport } from '../scenario.ts';
import { SimWorld } from '../sim-world.ts';
import { renderLinePlot } from '../svg-plot.ts';

const ROUTERS = 2;
const VARIANTS = ['republished', 'not republished'] as const;
type Variant = (typeof VARIANTS)[number];

interface Checkpoint {
  minutes: number;
  found: Record<Variant, number>;
}

export const itemSurvival: Scenario = {
  name: 'item-survival',
  summary: 'BEP 44 items findable over 2 simulated hours of churn, with and without republishing',
  run,
};

async function run(options: ScenarioOptions): Promise<ScenarioReport> {
  const log = options.log ?? (() => {});
  const churnPercent = numberParam(options, 'churn', 20);
  const itemCount = numberParam(options, 'items', 16);
  const hours = numberParam(options, 'hours', 2);
  const checkEveryMs = numberParam(options, 'check-every', 10) * 60_000;
  const joinRate = numberParam(options, 'join-rate', 200);
  const settleMs = numberParam(options, 'settle', 120) * 1000;
  const others = options.nodes - ROUTERS - 3;
  if (others < 16) throw new RangeError('--nodes must be at least 21');

  const world = new SimWorld({
    seed: options.seed,
    libtorrentShare: numberParam(options, 'libtorrent-share', 0.9),
  });
  const { scheduler, population, internet } = world;
  const wallEnd = performance.now() + options.maxWallMs;
  const limits = (): { maxWallMs: number } => ({ maxWallMs: Math.max(0, wallEnd - performance.now()) });
  const runFor = async (ms: number): Promise<void> => {
    const outcome = await scheduler.runFor(ms, limits());
    if (outcome !== 'time') throw new Error(`simulation stopped (${outcome}) at ${scheduler.now()}`);
  };

  for (let i = 0; i < ROUTERS; i++) population.spawn('router');
  for (let i = 0; i < others; i++)
    scheduler.setTimer((i * 1000) / joinRate, () => population.spawn('churning'));
  await runFor((others * 1000) / joinRate + settleMs);
  const republisher = population.spawn('stable');
  const forgetter = population.spawn('stable');
  const reader = population.spawn('stable');
  await runFor(settleMs);
  population.setChurn(SimWorld.churn(churnPercent / 100, CHURN_WINDOW_MS));
  log(`network of ${options.nodes} up; churn ${churnPercent} % per 15 min from now`);

  const random = world.random.fork('items');
  const targets: Record<Variant, Buffer[]> = { republished: [], 'not republished': [] };
  const publish = async (): Promise<void> => {
    for (let i = 0; i < itemCount; i++) {
      const a = await republisher.node.putImmutable(random.bytes(48)).catch(() => undefined);
      if (a !== undefined) targets.republished.push(a.target);
      const b = await forgetter.node.putImmutable(random.bytes(48)).catch(() => undefined);
      if (b !== undefined) {
        forgetter.node.forgetItem(b.target);
        targets['not republished'].push(b.target);
      }
    }
  };
  const startMs = scheduler.now();
  await scheduler.settle(publish(), limits());

  const checkpoints: Checkpoint[] = [];
  const check = async (): Promise<void> => {
    const found: Record<Variant, number> = { republished: 0, 'not republished': 0 };
    for (const variant of VARIANTS) {
      for (const target of targets[variant]) {
        if ((await reader.node.get(target).catch(() => undefined)) !== undefined) found[variant]++;
      }
    }
    checkpoints.push({ minutes: Math.round((scheduler.now() - startMs) / 60_000), found });
  };
  await scheduler.settle(check(), limits());
  const endMs = startMs + hours * 3_600_000;
  while (scheduler.now() + checkEveryMs <= endMs + 60_000) {
    const nextMs = startMs + checkpoints.length * checkEveryMs;
    await runFor(Math.max(0, nextMs - scheduler.now()));
    await scheduler.settle(check(), limits());
    log(`t = ${checkpoints.at(-1)?.minutes} min: ${JSON.stringify(checkpoints.at(-1)?.found)}`);
  }
  const departed = population.counters.departed;
  const network = { ...internet.counters };
  population.closeAll();

  const totals: Record<Variant, number> = {
    republished: targets.republished.length,
    'not republished': targets['not republished'].length,
  };
  const lines = [
    `# BEP 44 item survival on ${options.nodes.toLocaleString('en-US')} simulated nodes`,
    '',
    `Generated by \`npm run sim -- item-survival --nodes ${options.nodes} --seed ${options.seed}` +
      `${Object.keys(options.params)
        .sort()
        .map((k) => ` --${k} ${options.params[k]}`)
        .join('')}\` (sim/scenarios/item-survival.ts; models: docs/sim/README.md).`,
    '',
    `- ${churnPercent} % of the population replaced per ${CHURN_WINDOW_MS / 60_000} minutes (Weibull sessions, shape ` +
      `${SESSION_SHAPE}); ${departed} departures over the run.`,
    `- ${totals.republished} items republished every ${BEP44_REPUBLISH_MS / 60_000} minutes by a publisher that stays ` +
      `online; ${totals['not republished']} items put once and forgotten (BEP 44: stored items expire after 2 hours).`,
    `- A stable reader gets every item every ${checkEveryMs / 60_000} minutes (a normal get: 3 s query timeout).`,
    '',
    '| minutes after the put | republished: found | not republished: found |',
    '|---:|---:|---:|',
    ...checkpoints.map(
      (c) =>
        `| ${c.minutes} | ${percent(c.found.republished, totals.republished)} | ` +
        `${percent(c.found['not republished'], totals['not republished'])} |`,
    ),
    '',
    '![share of items found over time](item-survival.svg)',
    '',
    `Datagrams sent ${network.sent}, lost ${network.lost}, to nobody ${network.unroutable}; events ${scheduler.eventsRun}.`,
    '',
  ];
  const svg = renderLinePlot({
    title: `BEP 44 items found under ${churnPercent} % churn per 15 min (${options.nodes} nodes)`,
    xLabel: 'minutes after the put',
    yLabel: 'items found (%)',
    yMax: 100,
    series: VARIANTS.map((variant) => ({
      label: variant,
      points: checkpoints.map(
        (c) => [c.minutes, (100 * c.found[variant]) / Math.max(1, totals[variant])] as const,
      ),
    })),
  });
  return {
    name: 'item-survival',
    markdown: lines.join('\n'),
    files: { 'item-survival.svg': svg },
    results: { nodes: options.nodes, seed: options.seed, churnPercent, totals, checkpoints },
    events: scheduler.eventsRun,
  };
}
