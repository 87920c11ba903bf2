/**
 * When only the DHT is left (issue 11 §7): Alice and Bob behind two symmetric (randomising) NATs on a
 * libtorrent-only Internet — no session can form and no relay runs — still exchange messages both ways, each
 * acknowledged, within 10 s p50, through the offline mailbox on the fast record schedule. Three rounds 30 s
 * apart (longer than the first back-off step), so the polls must not back off while both are alive; kept short for
 * npm test's lab slice. Needs root, nftables and python3-libtorrent.
 *
 *   Internet: 12 libtorrent nodes 198.18.i.10 ── symmetric site 1 ── alice
 *                                             └─ symmetric site 2 ── bob
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { befriendInStores, client, initUser, type LabDaemon, type LabUser, startDaemon } from './lab-chat.ts';
import { cellById } from './matrix-cells.ts';
import { createMatrixLab, type MatrixLab } from './matrix-run.ts';
import { labUnavailable, libtorrentUnavailable } from './netns.ts';
import { runNodeInNs } from './processes.ts';

const ROUNDS = 3;
const ROUND_GAP_MS = 30_000;
const DEADLINE_MS = 30_000;
const unavailable = labUnavailable() ?? libtorrentUnavailable();

interface View {
  id: string;
  text: string;
  state: string;
}

describe('DHT only: two symmetric NATs, messages both ways (network namespaces)', {
  skip: unavailable ?? false,
  timeout: 600_000,
}, () => {
  let matrix: MatrixLab | undefined;
  const users: Array<LabUser & { remove(): void }> = [];
  const daemons: LabDaemon[] = [];
  before(async () => {
    // No volunteer relay: the DHT is all that is left (with one, the pair is relayed: nat-matrix.test.ts).
    matrix = await createMatrixLab([cellById('symmetric×symmetric')], {
      kind: 'libtorrent',
      nodes: 12,
      hasRelay: false,
    });
  });
  after(async () => {
    await Promise.all(daemons.map((d) => d.proc.stop()));
    for (const u of users) u.remove();
    await matrix?.close();
  });

  test(`${ROUNDS} rounds: each way sent and acknowledged, no session, p50 within 10 s`, async () => {
    const m = matrix!;
    const { aliceNs, bobNs } = m.hostsOf(0);
    const [a, b] = await Promise.all([initUser('alice'), initUser('bob')]);
    users.push(a, b);
    await befriendInStores(a, b);
    const [alice, bob] = await Promise.all([
      startDaemon(m.lab, a, aliceNs, m.bootstrap),
      startDaemon(m.lab, b, bobNs, m.bootstrap),
    ]);
    daemons.push(alice, bob);
    const latencies: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const startMs = Date.now();
      const send = async (d: LabDaemon, dir: string, to: string, prefix: string) =>
        (
          JSON.parse(
            await runNodeInNs(
              d.ns,
              ['--import', 'tsx', 'test/lab/send-burst.ts', dir, to, '1', prefix],
              DEADLINE_MS,
            ),
          ) as { ids: string[] }
        ).ids[0] as string;
      const [fromAlice, fromBob] = await Promise.all([
        send(alice, a.dir, 'bob', `a${round}`),
        send(bob, b.dir, 'alice', `b${round}`),
      ]);
      const stateOf = async (d: LabDaemon, friend: string, id: string) =>
        ((await client(d, 'messages', friend, '--peek')) as View[]).find((v) => v.id === id)?.state;
      const doneMs: Record<string, number> = {};
      while (Object.keys(doneMs).length < 2 && Date.now() - startMs < DEADLINE_MS) {
        for (const [key, d, friend, id] of [
          ['alice', alice, 'bob', fromAlice],
          ['bob', bob, 'alice', fromBob],
        ] as const) {
          if (doneMs[key] === undefined && (await stateOf(d, friend, id)) === 'delivered')
            doneMs[key] = Date.now() - startMs;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      console.log(`# round ${round}: acknowledged after ${JSON.stringify(doneMs)} ms`);
      assert.equal(
        Object.keys(doneMs).length,
        2,
        `round ${round}: both acknowledged within ${DEADLINE_MS} ms`,
      );
      latencies.push(Math.max(doneMs['alice'] ?? 0, doneMs['bob'] ?? 0));
      if (round < ROUNDS - 1) await new Promise((r) => setTimeout(r, ROUND_GAP_MS));
    }
    const texts = ((await client(bob, 'messages', 'alice', '--peek')) as View[]).map((v) => v.text);
    assert.deepEqual(
      texts.filter((t) => t.startsWith('a')),
      Array.from({ length: ROUNDS }, (_, i) => `a${i} 0`),
      'each once, in order',
    );
    const sorted = [...latencies].sort((x, y) => x - y);
    assert.ok(
      (sorted[Math.floor(sorted.length / 2)] ?? Infinity) <= 10_000,
      `rounds took ${latencies.join(', ')} ms`,
    );
  });
});
