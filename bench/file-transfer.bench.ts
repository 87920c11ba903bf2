/**
 * Issue 15 (files): one file between two real `dhtchat daemon` processes on loopback (friends made once through
 * a `dhtchat testnet`), the way a user sends one: `send-file` (the sender hashes it), `accept-file`, then the
 * pieces over a file stream beside the chat session.
 *
 * Measured: hashing (the send-file call), accept → complete at the receiver (its own log time of the `file`
 * event `complete`) as MiB/s, each daemon's CPU time per MiB over the transfer (/proc/<pid>/stat: the stable
 * figure on a shared VM), and send → received latency of chat messages sent every 200 ms while the file flows
 * (Bob's log time of the `message` event). The received file's SHA-256 is checked against the original.
 * --kill: the receiver is killed with SIGKILL at a random point between 20 % and 80 % (by its partial file's
 * size) and restarted; the rate is then over the whole run, kill and restart included, and the resume point is
 * reported.
 *
 * Run: node --import tsx bench/file-transfer.bench.ts [--mib 1024] [--kill] [--seed N] [--no-messages]
 *        [--node-args "--cpu-prof ..."]
 * Prints a table and then one JSON object. Bounded: the transfer 20 minutes, the whole script 30.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { callDaemon } from '../src/app/chat-api-client.ts';
import type { FileTransferView } from '../src/app/chat-api-types.ts';
import { SeededRandom } from '../src/runtime/index.ts';
import { eventually } from '../test/e2e/chat-processes.ts';
import { intOption, printTable, stringOption, summarize } from './chat-bench-stats.ts';
import {
  cliJson,
  type DaemonProcess,
  friendsOnTestnet,
  type LogLine,
  machine,
  progressLog,
  runBench,
  sendMessage,
  startDaemon,
} from './chat-harness.ts';

const MIB = 1024 * 1024;
const sizeMib = intOption('mib', 1024);
const isKill = process.argv.includes('--kill');
/** --no-messages: no chat traffic during the file (their HTTP calls and commits would count in CPU per MiB). */
const isMessaging = !process.argv.includes('--no-messages');
const seed = Number(stringOption('seed') ?? Date.now() % 1_000_000);
const TRANSFER_MS = 20 * 60_000;
const MESSAGE_EVERY_MS = 200;
const log = progressLog();

/** A process's CPU so far (Linux /proc): user and system ms, and minor page faults (fresh memory touched). */
interface CpuSample {
  userMs: number;
  systemMs: number;
  minorFaults: number;
}

function cpuSample(pid: number | undefined): CpuSample {
  const none = { userMs: Number.NaN, systemMs: Number.NaN, minorFaults: Number.NaN };
  if (pid === undefined) return none;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return {
      userMs: (Number(fields[11]) * 1000) / 100,
      systemMs: (Number(fields[12]) * 1000) / 100,
      minorFaults: Number(fields[7]),
    };
  } catch {
    return none;
  }
}

/** Per MiB between two samples: CPU ms (user + system, and each) and minor faults. */
function perMib(before: CpuSample, after: CpuSample, mib: number) {
  const round = (n: number) => Math.round((n / mib) * 100) / 100;
  const userMs = after.userMs - before.userMs;
  const systemMs = after.systemMs - before.systemMs;
  return {
    cpuMs: round(userMs + systemMs),
    userMs: round(userMs),
    systemMs: round(systemMs),
    minorFaults: round(after.minorFaults - before.minorFaults),
  };
}

function writeRandomFile(path: string, bytes: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  const chunk = randomBytes(8 * MIB);
  for (let done = 0; done < bytes; ) {
    const part = chunk.subarray(0, Math.min(chunk.length, bytes - done));
    // A different block each time (first bytes varied) without paying for 1 GiB of randomness.
    part.writeUInt32BE(done / MIB, 0);
    writeSync(fd, part);
    hash.update(part);
    done += part.length;
  }
  closeSync(fd);
  return hash.digest('hex');
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MIB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function transferAt(list: unknown, id: string): FileTransferView | undefined {
  return (list as FileTransferView[]).find((t) => t.id === id);
}

/** The daemon's log time of the transfer's `complete` event. */
function completeAt(proc: DaemonProcess, id: string): Promise<LogLine> {
  return proc.waitLine(
    (l) => l['event'] === 'file' && l['id'] === id && l['state'] === 'complete',
    TRANSFER_MS,
    'complete',
  );
}

await runBench(30 * 60_000, async () => {
  const { bootstrap, pair } = await friendsOnTestnet(30, log);
  const source = join(pair.aliceDir, 'big.bin');
  const digest = writeRandomFile(source, sizeMib * MIB);
  log(`${sizeMib} MiB written`);

  const hashStart = Date.now();
  const offer = (await cliJson(pair.aliceDir, 'send-file', 'bob', source)) as FileTransferView;
  const hashMs = Date.now() - hashStart;
  log(`offered ${offer.id.slice(0, 8)} (send-file took ${hashMs} ms)`);
  await eventually(
    'the offer at Bob',
    async () => transferAt(await callDaemon(pair.bobDir, 'GET', '/v1/files'), offer.id),
    60_000,
    100,
  );

  let bob = pair.bob;
  const cpuBefore = { alice: cpuSample(pair.alice.child.pid), bob: cpuSample(bob.child.pid) };
  const acceptMs = Date.now();
  await cliJson(pair.bobDir, 'accept-file', offer.id);
  // With --kill, the first Bob dies before the end: his `complete` is awaited only from the restarted one.
  let complete = isKill ? undefined : completeAt(bob, offer.id);

  // Chat messages while the file flows: each one's POST time, and Bob's log time of its arrival.
  const latencies: number[] = [];
  let isFlowing = isMessaging;
  const messages = (async () => {
    for (let i = 0; isFlowing; i++) {
      const at = Date.now();
      const receiver = bob;
      try {
        const { id } = await sendMessage(pair.aliceDir, pair.bobCode, `during the file ${i}`);
        const line = await receiver.waitLine(
          (l) => l['event'] === 'message' && l['id'] === id,
          30_000,
          'message',
        );
        latencies.push(Number(line['time']) - at);
      } catch {
        // Bob killed or stopping: that message is not a latency sample.
      }
      await new Promise((r) => setTimeout(r, MESSAGE_EVERY_MS));
    }
  })();

  let resume: { killedAtBytes: number; resumedFromBytes: number } | undefined;
  if (isKill) {
    const random = new SeededRandom(`file-bench/${seed}`);
    const killAt = Math.floor(sizeMib * MIB * (0.2 + random.int(600) / 1000));
    const part = join(pair.bobDir, 'downloads', `big.bin.${offer.id.slice(0, 8)}.part`);
    await eventually(
      'the kill point',
      async () => ((statSync(part, { throwIfNoEntry: false })?.size ?? 0) >= killAt ? true : undefined),
      TRANSFER_MS,
      5,
    );
    const killedAtBytes = statSync(part).size;
    bob.child.kill('SIGKILL');
    await new Promise((r) => bob.child.once('exit', r));
    log(`Bob killed at ${killedAtBytes} bytes (seed ${seed}); restarting`);
    const restarted = await startDaemon(pair.bobDir, bootstrap);
    bob = restarted.proc;
    const resumed = await bob.waitLine((l) => l['msg'] === 'file download resumed', 60_000, 'resumed');
    resume = { killedAtBytes, resumedFromBytes: Number(resumed['bytesDone']) };
    log(`resumed from ${resume.resumedFromBytes} bytes`);
    complete = completeAt(bob, offer.id);
  }
  const doneLine = await (complete ?? completeAt(bob, offer.id));
  isFlowing = false;
  await messages;
  const transferMs = Number(doneLine['time']) - acceptMs;
  const cpuAfter = { alice: cpuSample(pair.alice.child.pid), bob: cpuSample(bob.child.pid) };
  const received = join(pair.bobDir, 'downloads', 'big.bin');
  const isIdentical = (await sha256Of(received)) === digest;
  if (!isIdentical) throw new Error('the received file differs from the original');
  const mibPerSec = sizeMib / (transferMs / 1000);
  const alicePerMib = perMib(cpuBefore.alice, cpuAfter.alice, sizeMib);
  const bobPerMib = perMib(cpuBefore.bob, cpuAfter.bob, sizeMib);
  const result = {
    bench: 'file-transfer',
    date: new Date().toISOString(),
    machine: machine(),
    mib: sizeMib,
    hashMs,
    hashMibPerSec: Math.round((sizeMib / (hashMs / 1000)) * 10) / 10,
    transferMs,
    mibPerSec: Math.round(mibPerSec * 10) / 10,
    // With --kill the first Bob's CPU is gone with him: only Alice's is whole.
    cpuMsPerMib: isKill ? { alice: alicePerMib.cpuMs } : { alice: alicePerMib.cpuMs, bob: bobPerMib.cpuMs },
    perMib: isKill ? { alice: alicePerMib } : { alice: alicePerMib, bob: bobPerMib },
    messageLatencyMs: summarize(latencies),
    isIdentical,
    ...(resume === undefined ? {} : { kill: { seed, ...resume } }),
  };
  printTable({ 'chat message during the file: send → received': result.messageLatencyMs }, [
    'n',
    'p50',
    'p95',
    'p99',
    'max',
  ]);
  console.log(
    `${sizeMib} MiB: hash ${hashMs} ms (${result.hashMibPerSec} MiB/s) · accept → complete ${transferMs} ms = ${result.mibPerSec} MiB/s · CPU ms/MiB ${JSON.stringify(result.cpuMsPerMib)} (user/sys/minor faults per MiB: ${JSON.stringify(result.perMib)}) · identical ${isIdentical}${resume === undefined ? '' : ` · killed at ${resume.killedAtBytes}, resumed from ${resume.resumedFromBytes}`}`,
  );
  console.log(JSON.stringify(result));
});
