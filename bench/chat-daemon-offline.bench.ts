/**
 * Issue 5: time from coming online to having the messages that waited in the DHT, with real `dhtchat daemon`
 * processes on a loopback testnet (`dhtchat testnet --nodes 30`). Friends are made once (not measured); per run:
 *   1. Bob's daemon stops; Alice sends K messages (POST /v1/messages); each reaches `stored` (sealed into the
 *      DHT by her mailbox, which takes over 8 s after the session is lost);
 *   2. Alice's daemon stops (nobody can hand the messages over but the DHT);
 *   3. Bob's daemon is spawned: measured = spawn → the last of the K `message` lines in Bob's log (each is
 *      emitted once the message is committed to his store); checked afterwards through his API (all K, in order);
 *   4. Alice's daemon is spawned again: spawn → all K `delivered` at Alice (Bob's record or a session acks them),
 *      and both online again for the next run.
 *
 * Run: node --import tsx bench/chat-daemon-offline.bench.ts [--runs 5] [--messages 5] [--debug] [--bundle]
 * Prints a table and then one JSON object. Bounded: every wait has a timeout, the whole script 10 min.
 */
import { callDaemon } from '../src/app/chat-api-client.ts';
import { intOption, printTable, type Summary, summarize } from './chat-bench-stats.ts';
import {
  machine,
  runBench,
  StateWatcher,
  sendMessage,
  sinceSpawn,
  startDaemon,
  waitOnline,
  friendsOnTestnet,
  progressLog,
} from './chat-harness.ts';

/** The mailbox waits 8 s after the session is lost, then seals, refreshes the prekey and puts. */
const STORED_TIMEOUT_MS = 90_000;
const FETCH_TIMEOUT_MS = 90_000;
const runs = intOption('runs', 5);
const count = intOption('messages', 5);
const log = progressLog();

interface RunTimes {
  /** Bob stopped → the last of the K `stored` at Alice (not the measure; how long the mailbox took). */
  stored: number;
  bobReady: number;
  bobBootstrapped: number | undefined;
  /** The measure: Bob's spawn → the last of the K messages in his log. */
  bobAllFetched: number;
  bobFirstFetched: number;
  aliceReady: number;
  aliceAllDelivered: number;
}

await runBench(600_000, async () => {
  const { bootstrap, pair } = await friendsOnTestnet(30, log);
  const all: RunTimes[] = [];
  for (let run = 0; run < runs; run++) {
    await pair.bob.stop();
    const stoppedMs = Date.now();
    const stored = new StateWatcher(pair.alice, 'state', ['stored']);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(
        (await sendMessage(pair.aliceDir, pair.bobCode, `run ${run} offline ${i + 1} of ${count}`)).id,
      );
    }
    const storedAt = await Promise.all(
      ids.map((id) => stored.at(id, STORED_TIMEOUT_MS, `run ${run}: stored at Alice`)),
    );
    stored.close();
    await pair.alice.stop();

    const bob = await startDaemon(pair.bobDir, bootstrap);
    pair.bob = bob.proc;
    const fetched = new StateWatcher(bob.proc, 'message');
    const fetchedAt = await Promise.all(
      ids.map((id) => fetched.at(id, FETCH_TIMEOUT_MS, `run ${run}: fetched by Bob`)),
    );
    fetched.close();
    const list = (await callDaemon(
      pair.bobDir,
      'GET',
      `/v1/messages?with=${encodeURIComponent(pair.aliceCode)}`,
    )) as { id: string }[];
    const got = list.map((m) => m.id).filter((id) => ids.includes(id));
    if (got.join() !== ids.join())
      throw new Error(`run ${run}: Bob has ${got.length}/${count}, or out of order`);

    const alice = await startDaemon(pair.aliceDir, bootstrap);
    pair.alice = alice.proc;
    const acked = new StateWatcher(alice.proc, 'state', ['delivered', 'read']);
    const ackedAt = await Promise.all(
      ids.map((id) => acked.at(id, FETCH_TIMEOUT_MS, `run ${run}: delivered at Alice`)),
    );
    acked.close();
    const times: RunTimes = {
      stored: Math.max(...storedAt) - stoppedMs,
      bobReady: bob.ready.recvMs - bob.proc.spawnMs,
      bobBootstrapped: sinceSpawn(bob.proc, (l) => l['event'] === 'bootstrapped'),
      bobAllFetched: Math.max(...fetchedAt) - bob.proc.spawnMs,
      bobFirstFetched: Math.min(...fetchedAt) - bob.proc.spawnMs,
      aliceReady: alice.ready.recvMs - alice.proc.spawnMs,
      aliceAllDelivered: Math.max(...ackedAt) - alice.proc.spawnMs,
    };
    all.push(times);
    log(`run ${run + 1}/${runs}: ${JSON.stringify(times)}`);
    await waitOnline(pair.aliceDir, pair.bobCode, 60_000);
    await waitOnline(pair.bobDir, pair.aliceCode, 60_000);
  }
  const pick = (f: (t: RunTimes) => number | undefined): number[] =>
    all.map(f).filter((x): x is number => x !== undefined);
  const rows: Record<string, Summary> = {
    [`Bob spawn → all ${count} fetched (log)`]: summarize(pick((t) => t.bobAllFetched)),
    'Bob spawn → first fetched (log)': summarize(pick((t) => t.bobFirstFetched)),
    'Bob spawn → ready line': summarize(pick((t) => t.bobReady)),
    'Bob spawn → bootstrapped (log)': summarize(pick((t) => t.bobBootstrapped)),
    [`Bob stopped → all ${count} stored at Alice`]: summarize(pick((t) => t.stored)),
    [`Alice spawn → all ${count} delivered (log)`]: summarize(pick((t) => t.aliceAllDelivered)),
  };
  printTable(rows, ['n', 'min', 'p50', 'p95', 'max', 'mean']);
  console.log(
    JSON.stringify({
      bench: 'chat-daemon-offline',
      testnetNodes: 30,
      runs,
      messages: count,
      summary: rows,
      all,
      machine: machine(),
    }),
  );
});
