/**
 * `npm run lab`: the whole NAT matrix (matrix-cells.ts) on demand, as root:
 *   node --import tsx test/lab/run-matrix.ts [--runs 5] [--cells id,id] [--internet libtorrent|dhtchat]
 *                                           [--timeout 120] [--request-timeout 120] [--messages 10] [--nodes 16]
 *                                           [--no-requests] [--parallel 1]
 * For each cell: `--runs` message runs (matrix-run.ts) and one friend request; `--parallel` cells at a time (each
 * cell has its own sites, so cells do not share a NAT; they share the Internet). Prints one JSON line per cell as it
 * finishes, then a table (times in seconds, p50/p95 over the runs that delivered). Exit 0 when it ran, whatever
 * the cells measured (today's code fails many: the table is the baseline); 1 when the lab cannot run here.
 *
 *   one lab: Internet (libtorrent nodes) + probe server ── a site per user of every cell asked for
 */
import { parseArgs } from 'node:util';
import { INTERNET_DHT_KINDS, type InternetDhtKind } from './internet.ts';
import { cellById, MATRIX, type MatrixCell } from './matrix-cells.ts';
import {
  createMatrixLab,
  type MessageRunResult,
  meetsExpectation,
  type RequestRunResult,
  runFriendRequest,
  runMessages,
} from './matrix-run.ts';
import { labUnavailable, libtorrentUnavailable, miniupnpdUnavailable } from './netns.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    cells: { type: 'string' },
    internet: { type: 'string', default: 'libtorrent' },
    timeout: { type: 'string', default: '120' },
    'request-timeout': { type: 'string', default: '120' },
    messages: { type: 'string', default: '10' },
    nodes: { type: 'string', default: '16' },
    'no-requests': { type: 'boolean', default: false },
    parallel: { type: 'string', default: '1' },
  },
});

const internetKind = values.internet as InternetDhtKind;
if (!INTERNET_DHT_KINDS.includes(internetKind))
  fail(`--internet must be one of ${INTERNET_DHT_KINDS.join(', ')}`);
const runs = positive('runs', values.runs);
const timeoutMs = positive('timeout', values.timeout) * 1000;
const requestTimeoutMs = positive('request-timeout', values['request-timeout']) * 1000;
const messages = positive('messages', values.messages);
const nodes = positive('nodes', values.nodes);
const parallel = positive('parallel', values.parallel);
const cells = values.cells === undefined ? MATRIX : values.cells.split(',').map((id) => cellById(id.trim()));
const unavailable =
  labUnavailable() ??
  (internetKind === 'libtorrent' ? libtorrentUnavailable() : undefined) ??
  (cells.some((c) => c.alice === 'upnp' || c.bob === 'upnp') ? miniupnpdUnavailable() : undefined);
if (unavailable !== undefined) fail(`the lab cannot run here: ${unavailable}`);

interface CellReport {
  readonly cell: MatrixCell;
  readonly runs: readonly MessageRunResult[];
  readonly request: RequestRunResult | null;
}

const startedAtMs = Date.now();
const matrix = await createMatrixLab(cells, { kind: internetKind, nodes });
const reports: Array<CellReport | undefined> = cells.map(() => undefined);
let next = 0;
const worker = async (): Promise<void> => {
  for (let i = next++; i < cells.length; i = next++) {
    const cell = cells[i]!;
    const results: MessageRunResult[] = [];
    for (let r = 0; r < runs; r++) results.push(await runMessages(matrix, i, { messages, timeoutMs }));
    const request = values['no-requests']
      ? null
      : await runFriendRequest(matrix, i, { timeoutMs: requestTimeoutMs });
    const report = { cell, runs: results, request };
    reports[i] = report;
    process.stdout.write(`${JSON.stringify(jsonOf(report))}\n`);
  }
};
try {
  await Promise.all(Array.from({ length: Math.min(parallel, cells.length) }, worker));
} finally {
  await matrix.close();
}
process.stdout.write(`\n${table(reports.filter((r) => r !== undefined))}\n`);
process.stdout.write(
  `\n${cells.length} cells × ${runs} runs, ${messages} messages each, ${internetKind} Internet (${nodes} nodes), ` +
    `${parallel} at a time, ` +
    `${new Date().toISOString().slice(0, 10)}, ${Math.round((Date.now() - startedAtMs) / 1000)} s\n`,
);

function jsonOf(r: CellReport): Record<string, unknown> {
  const firstMs = delivered(r.runs).map((x) => x.firstMessageMs as number);
  return {
    cell: r.cell.id,
    expected: r.cell.expectedPaths,
    passes: r.runs.filter((x) => meetsExpectation(r.cell, x)).length,
    runs: r.runs.length,
    sessionPaths: tally(r.runs.map((x) => x.sessionPath ?? 'none')),
    firstMessagePaths: tally(r.runs.map((x) => x.firstMessagePath ?? 'none')),
    sessionP50Ms: percentile(sessionMs(r.runs), 50),
    firstMessageP50Ms: percentile(firstMs, 50),
    firstMessageP95Ms: percentile(firstMs, 95),
    inOrderExactlyOnce: r.runs.filter((x) => x.isInOrderExactlyOnce).length,
    sessions: r.runs.filter((x) => x.sessionMs !== null).length,
    request: r.request,
    detail: r.runs,
  };
}

function table(all: readonly CellReport[]): string {
  const rows = [
    [
      'cell',
      'expected',
      'pass',
      'session p50 s (formed)',
      'first msg p50/p95 s',
      'first msg path',
      'all in order',
      'request s',
    ],
    ...all.map((r) => {
      const firstMs = delivered(r.runs).map((x) => x.firstMessageMs as number);
      return [
        r.cell.id,
        r.cell.expectedPaths.join('|'),
        `${r.runs.filter((x) => meetsExpectation(r.cell, x)).length}/${r.runs.length}`,
        `${seconds(percentile(sessionMs(r.runs), 50))} (${sessionMs(r.runs).length}/${r.runs.length})`,
        firstMs.length === 0
          ? '-'
          : `${seconds(percentile(firstMs, 50))} / ${seconds(percentile(firstMs, 95))}`,
        Object.entries(tally(r.runs.map((x) => x.firstMessagePath ?? 'none')))
          .map(([p, n]) => `${p} ${n}`)
          .join(', '),
        `${r.runs.filter((x) => x.isInOrderExactlyOnce).length}/${r.runs.length}`,
        r.request === null
          ? 'skipped'
          : r.request.completedMs === null
            ? 'no'
            : seconds(r.request.completedMs),
      ];
    }),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => `| ${row.map((v, c) => v.padEnd(widths[c]!)).join(' | ')} |`).join('\n');
}

function sessionMs(all: readonly MessageRunResult[]): number[] {
  return all.flatMap((x) => (x.sessionMs === null ? [] : [x.sessionMs]));
}

function delivered(all: readonly MessageRunResult[]): MessageRunResult[] {
  return all.filter((x) => x.firstMessageMs !== null);
}

/** Nearest-rank percentile; null for no values. */
function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

function tally(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[item] = (out[item] ?? 0) + 1;
  return out;
}

function seconds(ms: number | null): string {
  return ms === null ? '-' : (ms / 1000).toFixed(1);
}

function positive(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got "${text}"`);
  return n;
}

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}
