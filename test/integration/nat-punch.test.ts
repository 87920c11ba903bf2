/**
 * UDP hole punching through introducers, for real: two chat daemons, each behind its own Linux NAT (iptables
 * MASQUERADE in a router namespace), a "public" namespace with DHT nodes (dhtchat nodes: introducers). Shows
 *   1. the NATs block what nobody asked for: a ping from Alice's network to Bob's public endpoint (where Bob's
 *      daemon listens, behind his NAT) gets no answer, while pings out to the public nodes do;
 *   2. with introducers, Alice's daemon reaches Bob's: Bob's introducer forwards Alice's sealed note, Bob punches
 *      towards Alice, a session comes up on both sides and a message is delivered.
 * Alice and Bob are made friends through their stores before the daemons start (a friend request across two
 * NATs needs the same punching, from the request beacon: not this test's subject).
 *
 * Needs root, `ip` and `iptables` (CI installs iproute2 and iptables); skipped with the reason otherwise.
 * Namespaces are named after the pid and deleted in after(), failure or not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadIdentity } from '../../src/app/chat-data-dir.ts';
import { CHAT_DATABASE_FILE, ChatStore } from '../../src/chat/index.ts';
import { cryptoRandom, systemClock } from '../../src/runtime/index.ts';
import { CLI_PATH, runCli } from '../helpers/cli-runner.ts';
import {
  createNatTopology,
  type NatTopology,
  netnsUnavailable,
  PUBLIC_HOST,
  ROUTER_A,
  ROUTER_B,
} from './nat-netns.ts';
import { type Line, type NsProcess, runInNs, spawnInNs, waitForAny } from './netns-process.ts';

const ALICE_PORT = 40001;
const BOB_PORT = 40002;
const PUBLIC_NODES = 8;
const unavailable = netnsUnavailable();

describe('NAT hole punching through introducers (network namespaces)', { skip: unavailable ?? false }, () => {
  let topology: NatTopology | undefined;
  const procs: NsProcess[] = [];
  const dirs: string[] = [];
  let failed = false;

  after(async () => {
    if (failed || process.env['DHTCHAT_TEST_DUMP'] === '1') dumpLogs(procs);
    await Promise.all(procs.map((p) => p.stop()));
    topology?.destroy();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const aliceDir = mkdtempSync(join(tmpdir(), 'dhtchat-nat-alice-'));
  const bobDir = mkdtempSync(join(tmpdir(), 'dhtchat-nat-bob-'));
  dirs.push(aliceDir, bobDir);
  let bootstrap = '';

  before(async () => {
    topology = createNatTopology(`dc${process.pid}`);
    const [a, b] = await Promise.all([
      runCli(['--data-dir', aliceDir, 'init', '--name', 'Alice', '--json'], { timeoutMs: 20_000 }),
      runCli(['--data-dir', bobDir, 'init', '--name', 'Bob', '--json'], { timeoutMs: 20_000 }),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    await befriend(aliceDir, bobDir, 'bob');
    await befriend(bobDir, aliceDir, 'alice');
    const net = spawnInNs('public-net', topology.public, [
      '--import',
      'tsx',
      'test/integration/nat-public-net.ts',
      PUBLIC_HOST,
      String(PUBLIC_NODES),
    ]);
    procs.push(net);
    const ready = await net.waitFor((l) => l['event'] === 'ready', 30_000, 'ready line');
    bootstrap = `${PUBLIC_HOST}:${(ready['ports'] as number[])[0]}`;
  });

  test('behind two NATs, introducers make a direct session and deliver a message', {
    timeout: 150_000,
  }, async () => {
    try {
      const topo = topology!;
      const t0 = Date.now();
      const mark = (what: string): void => console.log(`# ${what} after ${Date.now() - t0} ms`);
      const bob = startDaemon('bob', topo.bob, bobDir, BOB_PORT, bootstrap);
      procs.push(bob);
      await bob.waitFor((l) => l['event'] === 'ready', 30_000, 'ready line');
      // Bob holds his NAT open towards his introducers and republishes his record with them.
      await bob.waitFor(
        (l) => l['msg'] === 'introducers changed' && (l['introducers'] as unknown[]).length >= 2,
        40_000,
        'introducers',
      );
      mark('bob has introducers');

      // 1. Unsolicited packets do not get in: nobody outside reaches Bob's daemon at his public endpoint.
      const probe = (ns: string, host: string, port: number) =>
        runInNs(
          ns,
          ['--import', 'tsx', 'test/integration/nat-probe.ts', host, String(port), '2000'],
          20_000,
        ).then((out) => (JSON.parse(out.trim()) as { answered: boolean }).answered);
      const [toPublic, aliceToBob, publicToBob] = await Promise.all([
        probe(topo.alice, PUBLIC_HOST, Number(bootstrap.split(':')[1])),
        probe(topo.alice, ROUTER_B, BOB_PORT),
        probe(topo.public, ROUTER_B, BOB_PORT),
      ]);
      assert.equal(toPublic, true, 'control: from behind NAT A, the public DHT node answers');
      assert.equal(aliceToBob, false, "Alice's network reaches Bob's daemon unasked");
      assert.equal(publicToBob, false, "the public network reaches Bob's daemon unasked");
      mark('probes done: inbound blocked');

      // 2. Alice comes online: her daemon fetches Bob's record, dials, and asks Bob's introducers for a punch.
      const alice = startDaemon('alice', topo.alice, aliceDir, ALICE_PORT, bootstrap);
      procs.push(alice);
      await alice.waitFor((l) => l['event'] === 'ready', 30_000, 'ready line');
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
      const callerRouter = note.proc === bob ? ROUTER_A : ROUTER_B;
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

      const sentOut = await runInNs(
        topo.alice,
        [CLI_PATH, '--data-dir', aliceDir, 'send', 'bob', 'hello through two NATs', '--json'],
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
      const forwarded = procs[0]!.lines.filter((l) => l['event'] === 'stats').at(-1);
      console.log(
        `# punch: note at ${note.proc.name} ${lineTime(note.line)}, introducers forwarded ${String(forwarded?.['forwarded'] ?? '?')} notes so far`,
      );
    } catch (error) {
      failed = true;
      throw error;
    }
  });
});

function startDaemon(name: string, ns: string, dir: string, port: number, bootstrap: string): NsProcess {
  return spawnInNs(name, ns, [
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

/** Writes the friendship into both stores, as `accept` would (the daemons are not running yet). */
async function befriend(dir: string, friendDir: string, friendName: string): Promise<void> {
  const { identity } = await loadIdentity(dir);
  const friend = await loadIdentity(friendDir);
  const store = ChatStore.open({
    path: join(dir, CHAT_DATABASE_FILE),
    ownPublicKey: identity.publicKey,
    clock: systemClock,
    random: cryptoRandom,
  });
  try {
    store.contacts.upsert(friend.identity.publicKey, 'accepted', friendName);
  } finally {
    store.close();
  }
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
    for (const line of p.lines) if (line['event'] !== 'stats') console.error(JSON.stringify(line));
    console.error(p.stderr());
  }
}
