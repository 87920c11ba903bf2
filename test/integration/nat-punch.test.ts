/**
 * UDP hole punching through introducers, for real, in the NAT lab (test/lab): two chat daemons, each behind its
 * own port-restricted NAT, and an Internet whose DHT is a dhtchat testnet (its nodes speak the introducer
 * extension; a libtorrent-only Internet has no introducers, which is issue 11's point):
 *
 *   nlab…-inet  198.18.i.20: dhtchat testnet (introducers)
 *     ├─ site 1: router 198.19.1.1 │port-restricted│ 192.168.1.10 alice
 *     └─ site 2: router 198.19.2.1 │port-restricted│ 192.168.2.10 bob
 *
 * Shows
 *   1. the NATs block what nobody asked for: a ping from Alice's network to Bob's public endpoint (where Bob's
 *      daemon listens, behind his NAT) gets no answer, while pings out to the public nodes do;
 *   2. with introducers, Alice's daemon reaches Bob's: Bob's introducer forwards Alice's sealed note, Bob punches
 *      towards Alice, a session comes up on both sides and a message is delivered.
 * Alice and Bob are made friends through their stores before the daemons start (a friend request across two
 * NATs needs the same punching, from the request beacon: not this test's subject).
 *
 * Needs root and nftables (skipped with the reason otherwise). The lab's namespaces are deleted in after(),
 * failure or not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CLI_PATH } from '../helpers/cli-runner.ts';
import { startInternetDht } from '../lab/internet.ts';
import { befriendInStores, initUser, type LabUser } from '../lab/lab-chat.ts';
import { labUnavailable } from '../lab/netns.ts';
import { type Line, type NsProcess, runNodeInNs, waitForAny } from '../lab/processes.ts';
import { createLab, type Lab } from '../lab/topology.ts';

const ALICE_PORT = 40001;
const BOB_PORT = 40002;
const PUBLIC_NODES = 8;
const unavailable = labUnavailable();

describe('NAT hole punching through introducers (network namespaces)', { skip: unavailable ?? false }, () => {
  let lab: Lab | undefined;
  const users: Array<LabUser & { remove(): void }> = [];
  let failed = false;
  let bootstrap = '';

  after(async () => {
    if (lab !== undefined && (failed || process.env['DHTCHAT_TEST_DUMP'] === '1')) dumpLogs(lab.processes);
    await lab?.close();
    for (const u of users) u.remove();
  });

  before(async () => {
    lab = createLab({
      sites: [
        { kind: 'port-restricted', users: ['alice'] },
        { kind: 'port-restricted', users: ['bob'] },
      ],
      internetNodes: PUBLIC_NODES,
    });
    const [alice, bob] = await Promise.all([initUser('alice'), initUser('bob')]);
    users.push(alice, bob);
    await befriendInStores(alice, bob);
    bootstrap = (await startInternetDht(lab, 'dhtchat', PUBLIC_NODES)).bootstrap;
  });

  test('behind two NATs, introducers make a direct session and deliver a message', {
    timeout: 150_000,
  }, async () => {
    try {
      const l = lab!;
      const aliceUser = users[0] as LabUser;
      const bobUser = users[1] as LabUser;
      const aliceNs = l.host('alice').ns;
      const bobNs = l.host('bob').ns;
      const routerA = l.siteOf('alice').publicAddress;
      const routerB = l.siteOf('bob').publicAddress;
      const t0 = Date.now();
      const mark = (what: string): void => console.log(`# ${what} after ${Date.now() - t0} ms`);
      const bob = startDaemon(l, 'bob', bobNs, bobUser.dir, BOB_PORT, bootstrap);
      await bob.waitFor((line) => line['event'] === 'ready', 30_000, 'ready line');
      // Bob holds his NAT open towards his introducers and republishes his record with them.
      await bob.waitFor(
        (line) => line['msg'] === 'introducers changed' && (line['introducers'] as unknown[]).length >= 2,
        40_000,
        'introducers',
      );
      mark('bob has introducers');

      // 1. Unsolicited packets do not get in: nobody outside reaches Bob's daemon at his public endpoint.
      const probe = (ns: string, host: string, port: number) =>
        runNodeInNs(
          ns,
          ['--import', 'tsx', 'test/lab/krpc-ping.ts', host, String(port), '2000'],
          20_000,
        ).then((out) => (JSON.parse(out.trim()) as { answered: boolean }).answered);
      const [publicHost, publicPort] = bootstrap.split(':') as [string, string];
      const [toPublic, aliceToBob, publicToBob] = await Promise.all([
        probe(aliceNs, publicHost, Number(publicPort)),
        probe(aliceNs, routerB, BOB_PORT),
        probe(l.internetNs, routerB, BOB_PORT),
      ]);
      assert.equal(toPublic, true, 'control: from behind NAT A, the public DHT node answers');
      assert.equal(aliceToBob, false, "Alice's network reaches Bob's daemon unasked");
      assert.equal(publicToBob, false, "the public network reaches Bob's daemon unasked");
      mark('probes done: inbound blocked');

      // 2. Alice comes online: her daemon fetches Bob's record, dials, and asks Bob's introducers for a punch.
      const alice = startDaemon(l, 'alice', aliceNs, aliceUser.dir, ALICE_PORT, bootstrap);
      await alice.waitFor((line) => line['event'] === 'ready', 30_000, 'ready line');
      // Usually Alice punches first (she fetches Bob's record, which lists his introducers); Bob may also find
      // Alice's new record and punch towards her. Either way a note must reach the other side.
      const acked = await waitForAny(
        [alice, bob],
        (l) => l['event'] === 'punch_sent' && (l['acked'] as number) > 0,
        60_000,
        'acknowledged punch',
      );
      const receiver = acked.proc === alice ? bob : alice;
      const note = {
        proc: receiver,
        line: await receiver.waitFor((l) => l['event'] === 'punch_note', 30_000, 'punch note'),
      };
      const callerRouter = note.proc === bob ? routerA : routerB;
      assert.ok(
        (note.line['endpoints'] as string[]).some((e) => e.startsWith(`${callerRouter}:`)),
        JSON.stringify(note.line),
      );
      mark(`${acked.proc.name} punched, ${note.proc.name} got the note`);
      const isOnline = (l: Line) => l['event'] === 'presence' && l['presence'] === 'online';
      const [aliceOnline, bobOnline] = await Promise.all([
        alice.waitFor(isOnline, 30_000, 'Bob online'),
        bob.waitFor(isOnline, 30_000, 'Alice online'),
      ]);
      // The session followed a punch: a note reached one side before the session was up on either.
      const firstNoteMs = Math.min(
        ...[alice, bob].flatMap((p) => p.lines.filter((l) => l['event'] === 'punch_note').map(timeOf)),
      );
      assert.ok(
        firstNoteMs <= Math.min(timeOf(aliceOnline), timeOf(bobOnline)),
        'session before any punch note',
      );

      mark('session up on both sides');

      const sentOut = await runNodeInNs(
        aliceNs,
        [CLI_PATH, '--data-dir', aliceUser.dir, 'send', 'bob', 'hello through two NATs', '--json'],
        20_000,
      );
      const sent = JSON.parse(sentOut.trim()) as { id: string };
      await bob.waitFor((l) => l['event'] === 'message' && l['id'] === sent.id, 20_000, 'the message');
      await alice.waitFor(
        (l) => l['event'] === 'state' && l['id'] === sent.id && l['state'] === 'delivered',
        20_000,
        'delivered',
      );
      mark('message delivered');
      console.log(`# punch: note at ${note.proc.name} ${lineTime(note.line)}`);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
});

function startDaemon(
  lab: Lab,
  name: string,
  ns: string,
  dir: string,
  port: number,
  bootstrap: string,
): NsProcess {
  return lab.spawn(name, ns, process.execPath, [
    CLI_PATH,
    '--data-dir',
    dir,
    'daemon',
    '--port',
    String(port),
    '--bootstrap',
    bootstrap,
    '--allow-private',
  ]);
}

function lineTime(line: Line): string {
  return String(line['time'] ?? '?');
}

/** A log line's time (ms since the epoch; the daemons share the machine's clock). */
function timeOf(line: Line): number {
  return typeof line['time'] === 'number' ? line['time'] : Number.POSITIVE_INFINITY;
}

function dumpLogs(procs: readonly NsProcess[]): void {
  for (const p of procs) {
    console.error(`--- ${p.name}`);
    for (const line of p.lines) console.error(JSON.stringify(line));
    console.error(p.stderr());
  }
}
