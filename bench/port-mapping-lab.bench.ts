/**
 * Issue 11 §3: time to a port mapping per protocol, against Debian's miniupnpd in the port-mapping lab
 * (test/net/port-mapping/upnp-router-netns.ts: a Linux NAT in network namespaces). Root only.
 *
 * Per run, a fresh driver process (lab-mapper-driver.ts) in the host namespace asks the default gateway for a
 * mapping of a new UDP port; the time is from its first request to its `port_mapped` line (both stamped by the
 * driver, so process start-up is not counted). Cases:
 *   - pcp, natpmp, upnp-v2, upnp-v1: one protocol alone (the router speaks all; v1 = force_igd_desc_v1);
 *   - ladder: PCP → NAT-PMP → UPnP as the daemon runs it, against the full router (PCP wins) and against a
 *     UPnP-only router (PCP and NAT-PMP each go unanswered for their whole schedule first).
 *
 * Run: node --import tsx bench/port-mapping-lab.bench.ts [--runs 10]
 * Prints a table, then one JSON object. Bounded: a run waits at most 20 s.
 */
import { intOption, printTable, type Summary, summarize } from './chat-bench-stats.ts';
import { machine } from './chat-harness.ts';
import {
  createUpnpLab,
  type MiniupnpdOptions,
  upnpLabUnavailable,
} from '../test/net/port-mapping/upnp-router-netns.ts';

const runs = intOption('runs', 10);
const RUN_TIMEOUT_MS = 20_000;

const cases: Array<{ name: string; protocol: string; router: MiniupnpdOptions }> = [
  { name: 'pcp', protocol: 'pcp', router: {} },
  { name: 'natpmp', protocol: 'natpmp', router: {} },
  { name: 'upnp (IGD v2)', protocol: 'upnp', router: {} },
  { name: 'upnp (IGD v1)', protocol: 'upnp', router: { isIgdV1: true } },
  { name: 'ladder, full router', protocol: 'all', router: {} },
  { name: 'ladder, UPnP-only router', protocol: 'all', router: { hasNatPmp: false } },
];

const unavailable = upnpLabUnavailable();
if (unavailable !== undefined) {
  process.stderr.write(`port-mapping lab bench skipped: ${unavailable}\n`);
  process.exit(0);
}

const lab = await createUpnpLab(`pm${process.pid}`);
const rows: Record<string, Summary> = {};
const winners: Record<string, string[]> = {};
let port = 41000;
try {
  for (const { name, protocol, router } of cases) {
    await lab.startMiniupnpd(router);
    const times: number[] = [];
    winners[name] = [];
    for (let i = 0; i < runs; i++) {
      const driver = lab.spawnNode(lab.host, [
        '--import',
        'tsx',
        'test/net/port-mapping/lab-mapper-driver.ts',
        protocol,
        String(port++),
        '600',
      ]);
      try {
        const mapped = await driver.waitFor(
          (l) => l['event'] === 'port_mapped',
          RUN_TIMEOUT_MS,
          'port_mapped',
        );
        const asking = driver.lines.find((l) => l['event'] === 'asking');
        times.push(Number(mapped['time']) - Number(asking?.['time']));
        winners[name].push(String(mapped['protocol']));
        driver.send('unmap\n');
        await driver.waitFor((l) => l['event'] === 'closed', RUN_TIMEOUT_MS, 'closed');
      } finally {
        await driver.stop();
      }
    }
    rows[name] = summarize(times);
    process.stderr.write(`${name}: ${times.join(' ')} ms\n`);
  }
} finally {
  await lab.destroy();
}

printTable(rows, ['n', 'min', 'p50', 'p95', 'max']);
process.stdout.write(
  `${JSON.stringify({ bench: 'port-mapping-lab', date: new Date().toISOString(), machine: machine(), runs, rows, winners })}\n`,
);
