/**
 * `npm run sim -- <scenario> --nodes N --seed S [--out DIR] [--max-wall-s T] [--scenario-param value …]`
 *
 * Runs one scenario (sim/scenarios/) and writes its report (Markdown + SVG) to --out (default docs/sim/), then
 * prints one JSON line on stdout: the results, plus what the run cost on this machine (wall time, CPU time,
 * peak memory), which is not in the report since it is not a function of the seed. Progress goes to stderr.
 * Exit codes: 0 done, 1 the scenario failed or hit its wall-time bound, 2 usage.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SCENARIOS } from './scenarios/index.ts';

const USAGE = `usage: npm run sim -- <scenario> [--nodes N] [--seed S] [--out DIR] [--max-wall-s T] [--<param> value]
scenarios:
${[...SCENARIOS.values()].map((s) => `  ${s.name.padEnd(16)} ${s.summary}`).join('\n')}`;

function parseArgs(argv: readonly string[]): { name: string; flags: Record<string, string> } | undefined {
  const [name, ...rest] = argv;
  if (name === undefined || name.startsWith('-')) return undefined;
  const flags: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    const value = rest[i + 1];
    if (flag === undefined || !flag.startsWith('--') || value === undefined) return undefined;
    flags[flag.slice(2)] = value;
  }
  return { name, flags };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const scenario = args === undefined ? undefined : SCENARIOS.get(args.name);
  if (args === undefined || scenario === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const {
    nodes = '1000',
    seed = '1',
    out = 'docs/sim',
    'max-wall-s': maxWallS = '900',
    ...params
  } = args.flags;
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  let peakRssBytes = 0;
  const sampler = setInterval(() => {
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
  }, 500);
  try {
    const report = await scenario.run({
      nodes: Number(nodes),
      seed,
      params,
      maxWallMs: Number(maxWallS) * 1000,
      log: (line) =>
        process.stderr.write(`[${((performance.now() - wallStart) / 1000).toFixed(1)} s] ${line}\n`),
    });
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
    await mkdir(out, { recursive: true });
    await writeFile(join(out, `${report.name}.md`), report.markdown);
    for (const [file, content] of Object.entries(report.files)) await writeFile(join(out, file), content);
    const cpu = process.cpuUsage(cpuStart);
    const cost = {
      wallS: Number(((performance.now() - wallStart) / 1000).toFixed(1)),
      cpuS: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
      peakRssMB: Math.round(peakRssBytes / 1e6),
      heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1e6),
      events: report.events,
    };
    process.stdout.write(
      `${JSON.stringify({ scenario: report.name, nodes: Number(nodes), seed, cost, results: report.results })}\n`,
    );
    process.stderr.write(
      `${report.markdown}\nwrote ${join(out, `${report.name}.md`)}; cost ${JSON.stringify(cost)}\n`,
    );
    return 0;
  } catch (error) {
    const cpu = process.cpuUsage(cpuStart);
    const cost = {
      wallS: Number(((performance.now() - wallStart) / 1000).toFixed(1)),
      cpuS: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
      peakRssMB: Math.round(Math.max(peakRssBytes, process.memoryUsage.rss()) / 1e6),
    };
    process.stderr.write(
      `sim: ${error instanceof Error ? error.message : String(error)}; cost ${JSON.stringify(cost)}\n`,
    );
    return 1;
  } finally {
    clearInterval(sampler);
  }
}

process.exitCode = await main();
