/**
 * One cell of the NAT matrix, run for real: two `dhtchat daemon` processes, Alice's and Bob's, in their sites'
 * host namespaces, on the lab's Internet. Shared by the runner (run-matrix.ts, `npm run lab`) and the slice in
 * npm test (nat-matrix.test.ts).
 *
 *   Internet (libtorrent nodes, or a dhtchat testnet) + probe server (STUN for miniupnpd)
 *     ├─ Alice's site (kind A) ─ host a<i>: alice's daemon, later the requester's
 *     └─ Bob's site (kind B)   ─ host b<i>: bob's daemon, later the recipient's      (same-nat: one site, 2 hosts)
 *
 * A message run: fresh identities made friends through their stores, both daemons started, then Alice sends a
 * burst at once. Measured: time from both ready to Bob's first message and the path it came by (lab-chat.ts),
 * whether and when a session formed and on which path, and whether the whole burst arrived in order, exactly
 * once (Bob's log and Bob's store both checked). A cell passes on its session's path: a message sent before the
 * session exists goes through the DHT, which says how long the session took, not where it runs.
 * A request run: fresh identities, no friendship; Alice `add`s Bob with a note, Bob `accept`s when the request
 * shows; measured until Alice's daemon logs the acceptance.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInternetDht, startProbeServer, startVolunteerRelay, type InternetDhtKind } from './internet.ts';
import {
  befriendInStores,
  client,
  firstLine,
  initUser,
  type LabDaemon,
  type Path,
  received,
  sessionPaths,
  startDaemon,
} from './lab-chat.ts';
import type { MatrixCell } from './matrix-cells.ts';
import { startMiniupnpd } from './miniupnpd.ts';
import { runNodeInNs } from './processes.ts';
import { createLab, type Lab, type SiteSpec } from './topology.ts';

const POLL_MS = 100;
/**
 * After the burst arrived on a path the cell does not expect first, how long a run waits for the session to move
 * (a relayed session is replaced once a direct one comes up: a record poll away, 15 s, or a punch).
 */
const SETTLE_MS = 30_000;

export interface MatrixLab {
  readonly lab: Lab;
  readonly cells: readonly MatrixCell[];
  readonly bootstrap: string;
  /** The host namespaces of cell i's two users. */
  hostsOf(cellIndex: number): { aliceNs: string; bobNs: string };
  close(): Promise<void>;
}

/**
 * One lab for all the cells asked for: sites for each, one Internet, miniupnpd on every upnp router, and (unless
 * hasRelay is false) one volunteer `dhtchat relay` on the Internet, as issue 11's acceptance asks.
 */
export async function createMatrixLab(
  cells: readonly MatrixCell[],
  internet: { kind: InternetDhtKind; nodes: number; hasRelay?: boolean },
): Promise<MatrixLab> {
  const sites: SiteSpec[] = [];
  cells.forEach((cell, i) => {
    if (cell.alice === 'same-nat') {
      sites.push({ kind: 'same-nat', users: [`a${i}`, `b${i}`], hasHairpin: cell.hasHairpin ?? false });
    } else {
      const hasIpv6 = cell.hasIpv6 ?? false;
      sites.push(
        { kind: cell.alice, users: [`a${i}`], hasIpv6 },
        { kind: cell.bob, users: [`b${i}`], hasIpv6 },
      );
    }
  });
  const lab = createLab({ sites, internetNodes: internet.nodes });
  try {
    await startProbeServer(lab);
    for (const site of lab.sites) {
      if (site.kind === 'upnp' && site.routerNs !== undefined)
        await startMiniupnpd(lab, site.routerNs, site.index);
    }
    const dht = await startInternetDht(lab, internet.kind, internet.nodes);
    if (internet.hasRelay !== false) await startVolunteerRelay(lab, dht.bootstrap);
    return {
      lab,
      cells,
      bootstrap: dht.bootstrap,
      hostsOf: (i) => ({ aliceNs: lab.host(`a${i}`).ns, bobNs: lab.host(`b${i}`).ns }),
      close: () => lab.close(),
    };
  } catch (error) {
    await lab.close();
    throw error;
  }
}

export interface MessageRunResult {
  /** From both daemons ready to Bob's first message from Alice; null if none arrived. */
  readonly firstMessageMs: number | null;
  /** From both ready to the whole burst at Bob; null if it did not all arrive. */
  readonly allDeliveredMs: number | null;
  /** How Bob's first message from Alice came. */
  readonly firstMessagePath: Path | null;
  /** From both ready to both daemons showing the other online (a session); null if none formed. */
  readonly sessionMs: number | null;
  /**
   * The path the session settled on (Bob's log; a relayed session replaced by a direct one counts as direct, if it
   * was within SETTLE_MS of the burst); null if none formed.
   */
  readonly sessionPath: Path | null;
  /** Every path Bob's session with Alice took, in order (e.g. relayed then direct). */
  readonly sessionPaths: readonly Path[];
  /** Bob's last direct session with Alice runs over IPv6 (his `chat session up` log line's remote address). */
  readonly isOverIpv6: boolean;
  readonly sent: number;
  readonly delivered: number;
  /** Bob's store and Bob's log both hold exactly the burst, in the order sent. */
  readonly isInOrderExactlyOnce: boolean;
}

export interface RequestRunResult {
  /** From Alice's `add` to the request at Bob; null if it never came. */
  readonly arrivedMs: number | null;
  /** From Alice's `add` to Alice's daemon logging Bob's acceptance; null if it did not complete. */
  readonly completedMs: number | null;
}

export async function runMessages(
  m: MatrixLab,
  cellIndex: number,
  opts: { messages: number; timeoutMs: number },
): Promise<MessageRunResult> {
  const { aliceNs, bobNs } = m.hostsOf(cellIndex);
  const [aliceUser, bobUser] = await Promise.all([initUser('alice'), initUser('bob')]);
  const daemons: LabDaemon[] = [];
  try {
    await befriendInStores(aliceUser, bobUser);
    const [alice, bob] = await Promise.all([
      startDaemon(m.lab, aliceUser, aliceNs, m.bootstrap),
      startDaemon(m.lab, bobUser, bobNs, m.bootstrap),
    ]);
    daemons.push(alice, bob);
    const readyAtMs = Math.max(alice.readyAtMs, bob.readyAtMs);
    const burst = await runNodeInNs(
      aliceNs,
      ['--import', 'tsx', 'test/lab/send-burst.ts', aliceUser.dir, 'bob', String(opts.messages), 'burst'],
      opts.timeoutMs,
    );
    const ids = (JSON.parse(burst.trim()) as { ids: string[] }).ids;
    const endMs = readyAtMs + opts.timeoutMs;
    while (received(bob, aliceUser.code).length < ids.length && Date.now() < endMs) await sleep(POLL_MS);
    const online = (d: LabDaemon, code: string) =>
      firstLine(d, (l) => l['event'] === 'presence' && l['code'] === code && l['presence'] === 'online');
    // The burst may all arrive through the DHT before the session forms (a birthday punch takes a few rounds):
    // the session still counts if it comes within the run's time.
    const hasSession = () =>
      online(alice, bobUser.code) !== undefined && online(bob, aliceUser.code) !== undefined;
    while (!hasSession() && Date.now() < endMs) await sleep(POLL_MS);
    const got = received(bob, aliceUser.code);
    const stored = (await client(bob, 'messages', 'alice', '--peek')) as Array<{ id: string; from: string }>;
    const storedFromAlice = stored.filter((x) => x.from === aliceUser.code).map((x) => x.id);
    const isDelivered = got.length >= ids.length;
    // Relayed first, direct a record poll later: wait for the path the cell expects first to show up.
    const settleEndMs = Math.min(endMs, Date.now() + SETTLE_MS);
    const lastPath = (): Path | undefined => sessionPaths(bob, aliceUser.code).at(-1)?.path;
    const expected = m.cells[cellIndex]?.expectedPaths[0];
    while (lastPath() !== expected && lastPath() !== undefined && Date.now() < settleEndMs)
      await sleep(POLL_MS);
    const paths = sessionPaths(bob, aliceUser.code).map((p) => p.path);
    const aliceSeesBob = online(alice, bobUser.code);
    const bobSeesAlice = online(bob, aliceUser.code);
    const isSession = aliceSeesBob !== undefined && bobSeesAlice !== undefined;
    return {
      firstMessageMs: got[0] === undefined ? null : got[0].atMs - readyAtMs,
      allDeliveredMs: isDelivered ? (got[ids.length - 1]?.atMs ?? 0) - readyAtMs : null,
      firstMessagePath: got[0]?.path ?? null,
      sessionMs: isSession ? Math.max(aliceSeesBob.atMs, bobSeesAlice.atMs) - readyAtMs : null,
      sessionPath: isSession ? (paths.at(-1) ?? 'direct') : null,
      sessionPaths: paths,
      isOverIpv6: isLastDirectOverIpv6(bob),
      sent: ids.length,
      delivered: new Set(got.map((g) => g.id)).size,
      isInOrderExactlyOnce:
        sameList(
          got.map((g) => g.id),
          ids,
        ) && sameList(storedFromAlice, ids),
    };
  } finally {
    await Promise.all(daemons.map((d) => d.proc.stop()));
    dumpLogs(m.cells[cellIndex]?.id ?? String(cellIndex), daemons);
    aliceUser.remove();
    bobUser.remove();
  }
}

/** With DHTCHAT_LAB_DUMP_DIR set, each run's daemon logs go there (one JSON line per log line) to be read after. */
function dumpLogs(cellId: string, daemons: readonly LabDaemon[]): void {
  const dir = process.env['DHTCHAT_LAB_DUMP_DIR'];
  if (dir === undefined || dir === '') return;
  mkdirSync(dir, { recursive: true });
  const stamp = Date.now();
  for (const d of daemons) {
    const file = join(dir, `${cellId.replace(/[^a-z0-9+-]+/gi, '_')}-${stamp}-${d.user.name}.log`);
    writeFileSync(file, d.proc.lines.map((l) => JSON.stringify(l)).join('\n'));
  }
}

export async function runFriendRequest(
  m: MatrixLab,
  cellIndex: number,
  opts: { timeoutMs: number },
): Promise<RequestRunResult> {
  const { aliceNs, bobNs } = m.hostsOf(cellIndex);
  const [aliceUser, bobUser] = await Promise.all([initUser('carol'), initUser('dave')]);
  const daemons: LabDaemon[] = [];
  try {
    const [alice, bob] = await Promise.all([
      startDaemon(m.lab, aliceUser, aliceNs, m.bootstrap),
      startDaemon(m.lab, bobUser, bobNs, m.bootstrap),
    ]);
    daemons.push(alice, bob);
    const addedAtMs = Date.now();
    await client(alice, 'add', bobUser.code, '--name', 'dave', '--message', 'hello from the lab');
    const endMs = addedAtMs + opts.timeoutMs;
    const requestAt = (): number | undefined =>
      firstLine(bob, (l) => l['event'] === 'request' && l['code'] === aliceUser.code)?.atMs;
    while (requestAt() === undefined && Date.now() < endMs) await sleep(POLL_MS);
    const arrivedAtMs = requestAt();
    if (arrivedAtMs === undefined) return { arrivedMs: null, completedMs: null };
    await client(bob, 'accept', aliceUser.code);
    const acceptedAt = (): number | undefined =>
      firstLine(alice, (l) => l['event'] === 'accepted' && l['code'] === bobUser.code)?.atMs;
    while (acceptedAt() === undefined && Date.now() < endMs) await sleep(POLL_MS);
    const completedAtMs = acceptedAt();
    return {
      arrivedMs: arrivedAtMs - addedAtMs,
      completedMs: completedAtMs === undefined ? null : completedAtMs - addedAtMs,
    };
  } finally {
    await Promise.all(daemons.map((d) => d.proc.stop()));
    aliceUser.remove();
    bobUser.remove();
  }
}

/** Does the message run meet the cell's expectation (a session on an expected path, the burst intact)? */
export function meetsExpectation(cell: MatrixCell, r: MessageRunResult): boolean {
  return r.sessionPath !== null && cell.expectedPaths.includes(r.sessionPath) && r.isInOrderExactlyOnce;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Bob has one friend in a run: his last non-relayed `chat session up` line is his session with Alice. */
function isLastDirectOverIpv6(d: LabDaemon): boolean {
  const up = d.proc.lines.filter((l) => l['msg'] === 'chat session up' && l['isRelayed'] === false).at(-1);
  return typeof up?.['remote'] === 'string' && up['remote'].startsWith('[');
}
