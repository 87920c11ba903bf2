/**
 * Strangers' sessions against a real daemon (issue 10 §2/§3 figures): Alice (a `dhtchat daemon` process) with her
 * friend Bob on a loopback testnet (test/adversarial/victim.ts), and this process as the attacker. For each
 * scenario, a flood of `--seconds` (default 8) and, during it, Bob restarting on a new port (ms until both are
 * online and a message went each way):
 *   - xx-one-host      Noise XX handshakes from one host that then say nothing (slot holding), at R/s;
 *   - xx-many-networks the same from 64 hosts in 16 /24s;
 *   - requests         XX + a request frame without a valid stamp, from 64 hosts in 16 /24s (request spam).
 * Reported per scenario: sessions started/s, handshakes Alice completed/s (the rest were shed before any DH or at
 * the uTP layer), request-acks `stamp-refused`/s, Alice's CPU (% of one core, /proc/<pid>/stat), her RSS, Bob's
 * reconnect time. A quiet run (no flood) comes first.
 * The request spam's keys are 256 made up front and reused (see identities below).
 * Run: node --import tsx bench/stranger-flood.bench.ts [--seconds 8] [--rates 100,400]   (JSON, then a table)
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { decodeFriendCode, generateIdentity } from '../src/chat/index.ts';
import { STAMP_NONCES_BYTES } from '../src/chat/request-stamp.ts';
import { ChatSession } from '../src/chat/session/session.ts';
import { cryptoRandom } from '../src/runtime/index.ts';
import {
  type SentRequest,
  type StrangerHost,
  sendRequest,
  strangerContext,
  strangerHost,
} from '../test/adversarial/stranger-sessions.ts';
import { startVictimScene } from '../test/adversarial/victim.ts';
import { intOption, stringOption } from './chat-bench-stats.ts';

const SECONDS = intOption('seconds', 8);
const RATES = (stringOption('rates') ?? '100,400').split(',').map(Number);
const CLOCK_TICKS_PER_SEC = 100;

type Mode = 'xx-one-host' | 'xx-many-networks' | 'requests';

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

const loadAtStart = loadavg()[0] ?? 0;
const scene = await startVictimScene();
const target = { host: '127.0.0.1', port: scene.alice.port };
const alicePk = decodeFriendCode(scene.alice.code);
const oneHost = [await strangerHost('127.0.66.1')];
const manyHosts = await Promise.all(
  Array.from({ length: 64 }, (_, i) => strangerHost(`127.0.${100 + (i % 16)}.${1 + Math.floor(i / 16)}`)),
);

async function run(mode: Mode | 'quiet', perSec: number): Promise<Record<string, unknown>> {
  const hosts: StrangerHost[] = mode === 'xx-one-host' ? oneHost : manyHosts;
  const sessions: ChatSession[] = [];
  const requests: SentRequest[] = [];
  const ticksBefore = cpuTicks(scene.alice.pid);
  const startMs = Date.now();
  let started = 0;
  const flood =
    mode === 'quiet'
      ? undefined
      : setInterval(() => {
          const elapsedMs = Date.now() - startMs;
          if (elapsedMs >= SECONDS * 1000) return;
          const due = Math.ceil((elapsedMs * perSec) / 1000);
          while (started < due) {
            const host = hosts[started % hosts.length] as StrangerHost;
            started++;
            if (mode === 'requests') {
              const ctx = strangerContext(identities[started % identities.length]);
              const stamp = {
                hour: Math.floor(Date.now() / 3_600_000),
                nonces: cryptoRandom.bytes(STAMP_NONCES_BYTES),
              };
              requests.push(sendRequest(ctx, host, target, alicePk, stamp));
            } else {
              try {
                sessions.push(ChatSession.connectUnknown(ctxOf(host), host.utp, target));
              } catch {
                // our own uTP table is full: not Alice's
              }
            }
          }
        }, 10);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const reconnectMs = await scene.friendReconnectMs();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, SECONDS * 1000 - (Date.now() - startMs))));
  if (flood !== undefined) clearInterval(flood);
  const elapsedSec = (Date.now() - startMs) / 1000;
  const cpuPercent = ((cpuTicks(scene.alice.pid) - ticksBefore) / CLOCK_TICKS_PER_SEC / elapsedSec) * 100;
  const rssMb = scene.victimRssMb();
  const all = [...sessions, ...requests.map((r) => r.session)];
  const established = all.filter((s) => s.establishedMs !== undefined).length;
  const refused = requests.filter((r) => r.received.some((f) => f.type === 'request-ack')).length;
  for (const s of all) s.close();
  await new Promise((resolve) => setTimeout(resolve, 4000)); // budgets refill before the next scenario
  return {
    mode,
    targetPerSec: mode === 'quiet' ? 0 : perSec,
    startedPerSec: Math.round(started / elapsedSec),
    handshakesPerSec: Math.round((established / elapsedSec) * 10) / 10,
    stampRefusedPerSec: Math.round((refused / elapsedSec) * 10) / 10,
    aliceCpuPercent: Math.round(cpuPercent),
    rssMb: Math.round(rssMb),
    bobReconnectMs: reconnectMs,
  };
}

/**
 * Keys for the request spam, made up front (~4 ms each here): making them during the flood would starve this
 * process, not Alice. Reused round-robin: none of them ever has a pending request, so each request takes
 * Alice's new-key path (stamp check first) like a fresh identity's.
 */
const identities = Array.from({ length: 256 }, () => generateIdentity(cryptoRandom));
const contexts = new Map<StrangerHost, ReturnType<typeof strangerContext>>();
function ctxOf(host: StrangerHost): ReturnType<typeof strangerContext> {
  let ctx = contexts.get(host);
  if (ctx === undefined) {
    ctx = strangerContext();
    contexts.set(host, ctx);
  }
  return ctx;
}

const rows: Record<string, unknown>[] = [];
try {
  rows.push(await run('quiet', 0));
  for (const rate of RATES) {
    for (const mode of ['xx-one-host', 'xx-many-networks', 'requests'] as const)
      rows.push(await run(mode, rate));
  }
} finally {
  for (const h of [...oneHost, ...manyHosts]) h.close();
  await scene.stop();
}
console.log(JSON.stringify({ seconds: SECONDS, loadAverage: [loadAtStart, loadavg()[0]], rows }));
console.table(rows);
