/**
 * The birthday technique's success rate in the lab (issue 11 §2; docs/BENCHMARKS.md "Birthday punching"), as root:
 *   node --import tsx test/lab/birthday-rate.ts [--runs 5] [--timeout 60] [--nodes 12] [--cell port-restricted×symmetric]
 *
 *   Internet (libtorrent nodes) ── port-restricted site ── alice (prober: probes the other side's ports)
 *                               └─ symmetric site        ── bob   (listener: 256 sockets towards alice)
 *
 * Per run: fresh friends, both daemons started, Alice sends one message; until both show the other online (or the
 * timeout). From Bob's debug log: listening attempts and the one that found the path. Prints a JSON line per run
 * and a summary: sessions formed, time to session p50/p95, attempts per session, and the share of attempts that
 * found a path (the per-attempt success rate; 1 − (1 − 256/64512)^512 ≈ 87 % is the odds on paper).
 */
import { parseArgs } from 'node:util';
import {
  befriendInStores,
  firstLine,
  initUser,
  isOnlineWith,
  type LabDaemon,
  startDaemon,
} from './lab-chat.ts';
import { cellById } from './matrix-cells.ts';
import { createMatrixLab } from './matrix-run.ts';
import { labUnavailable, libtorrentUnavailable } from './netns.ts';
import { runNodeInNs } from './processes.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    timeout: { type: 'string', default: '60' },
    nodes: { type: 'string', default: '12' },
    cell: { type: 'string', default: 'port-restricted×symmetric' },
  },
});
const unavailable = labUnavailable() ?? libtorrentUnavailable();
if (unavailable !== undefined) {
  process.stderr.write(`the lab cannot run here: ${unavailable}\n`);
  process.exit(1);
}
const runs = Number(values.runs);
const timeoutMs = Number(values.timeout) * 1000;
const matrix = await createMatrixLab([cellById(values.cell)], {
  kind: 'libtorrent',
  nodes: Number(values.nodes),
});
const results: Array<{ sessionMs: number | null; listens: number; found: number }> = [];
try {
  for (let run = 0; run < runs; run++) {
    const { aliceNs, bobNs } = matrix.hostsOf(0);
    const [a, b] = await Promise.all([initUser('alice'), initUser('bob')]);
    const daemons: LabDaemon[] = [];
    try {
      await befriendInStores(a, b);
      const [alice, bob] = await Promise.all([
        startDaemon(matrix.lab, a, aliceNs, matrix.bootstrap),
        startDaemon(matrix.lab, b, bobNs, matrix.bootstrap),
      ]);
      daemons.push(alice, bob);
      const readyAtMs = Math.max(alice.readyAtMs, bob.readyAtMs);
      await runNodeInNs(
        aliceNs,
        ['--import', 'tsx', 'test/lab/send-burst.ts', a.dir, 'bob', '1', 'bd'],
        timeoutMs,
      );
      while (
        !(isOnlineWith(alice, b.code) && isOnlineWith(bob, a.code)) &&
        Date.now() < readyAtMs + timeoutMs
      )
        await new Promise((r) => setTimeout(r, 100));
      const online = firstLine(bob, (l) => l['event'] === 'presence' && l['presence'] === 'online');
      const count = (d: LabDaemon, msg: string) => d.proc.lines.filter((l) => l['msg'] === msg).length;
      const result = {
        sessionMs: online === undefined ? null : online.atMs - readyAtMs,
        listens: count(bob, 'birthday: listening'),
        found: count(bob, 'birthday: path found'),
      };
      results.push(result);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } finally {
      await Promise.all(daemons.map((d) => d.proc.stop()));
      a.remove();
      b.remove();
    }
  }
} finally {
  await matrix.close();
}
const times = results.flatMap((r) => (r.sessionMs === null ? [] : [r.sessionMs])).sort((x, y) => x - y);
const at = (q: number) =>
  times.length === 0 ? null : times[Math.min(times.length - 1, Math.floor(q * times.length))];
const listens = results.reduce((n, r) => n + r.listens, 0);
const found = results.reduce((n, r) => n + r.found, 0);
process.stdout.write(
  `${JSON.stringify({
    cell: values.cell,
    runs,
    sessions: times.length,
    sessionP50Ms: at(0.5),
    sessionP95Ms: at(0.95),
    listeningAttempts: listens,
    pathsFound: found,
    perAttemptSuccess: listens === 0 ? null : Number((found / listens).toFixed(2)),
  })}\n`,
);
