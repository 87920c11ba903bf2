/**
 * Adversarial tier, issue 10 §1: a uTP SYN flood against a real victim daemon. 2,000 SYN/s from one source port,
 * then from 16 addresses of one /24, each SYN-ACK answered so that every one becomes a connection Alice would
 * hold. While each flood runs: Bob (a friend restarting on a new port) is back within 2 s, Carol's friend request
 * is listed as fast as without the flood (no SYN of hers had to be resent), and Alice's memory stays bounded.
 *
 *   127.0.1.1:*            one flooder (one port)            \
 *   127.0.2.1..16:*        16 flooders (one /24)              >--- SYN ---> Alice 127.0.0.1:<port> (daemon)
 *   127.0.0.1              Bob (daemon), Carol (in process)  /
 *
 * Each flood runs until the questions are answered, at most FLOOD_MAX_MS and FLOOD_MAX_MS * rate SYNs (a loaded
 * machine can take seconds to restart Bob's daemon: the flood must still be on when he is measured).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UdpTransport } from '../../src/runtime/index.ts';
import { type FloodCounters, SynFlooder } from '../net/utp/syn-flooder.ts';
import { startVictimScene, type VictimScene } from './victim.ts';

const SYNS_PER_SECOND = 2000;
const FLOOD_MAX_MS = 30_000;
/** How long a flood runs before the questions are asked: long enough to fill any table it could fill. */
const FLOOD_LEAD_MS = 1500;
const FRIEND_RECONNECT_BOUND_MS = 2000;
/** A request whose SYN had to be resent takes over a second (the first resend is after 1 s). */
const REQUEST_BOUND_MS = 1000;
const RSS_GROWTH_BOUND_MB = 64;

interface Flood {
  readonly counters: FloodCounters[];
  /** False once the flood has stopped by itself (its caps). */
  isRunning(): boolean;
  stop(): Promise<void>;
}

/** Floods `target` from one socket per host, SYNS_PER_SECOND in total, until stop() or FLOOD_MAX_MS. */
async function startFlood(hosts: string[], target: { host: string; port: number }): Promise<Flood> {
  const transports = await Promise.all(hosts.map((host) => UdpTransport.bind({ host })));
  const flooders = transports.map((t, i) => new SynFlooder(t, target, true, i * 4096));
  const startMs = Date.now();
  const maxSyns = (SYNS_PER_SECOND * FLOOD_MAX_MS) / 1000;
  let sent = 0;
  let turn = 0;
  let stopped: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const timer = setInterval(() => {
    const elapsedMs = Date.now() - startMs;
    // Catch up on the schedule after a slow tick, but never past the caps.
    const due = Math.min(maxSyns, Math.floor((elapsedMs * SYNS_PER_SECOND) / 1000)) - sent;
    for (let i = 0; i < due; i++) flooders[turn++ % flooders.length]?.sendSyns(1);
    sent += Math.max(0, due);
    if (elapsedMs >= FLOOD_MAX_MS || sent >= maxSyns) stop();
  }, 5);
  let isRunning = true;
  const stop = (): void => {
    isRunning = false;
    clearInterval(timer);
    stopped();
  };
  return {
    counters: flooders.map((f) => f.counters),
    isRunning: () => isRunning,
    async stop() {
      stop();
      await done;
      // Let the last SYN-ACKs arrive before the sockets go.
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const f of flooders) f.close();
    },
  };
}

function total(counters: FloodCounters[]): FloodCounters {
  const sum = {
    synsSent: 0,
    bytesSent: 0,
    synAcksReceived: 0,
    bytesReceived: 0,
    completionsSent: 0,
    resetsReceived: 0,
  };
  for (const c of counters) for (const key of Object.keys(sum) as (keyof FloodCounters)[]) sum[key] += c[key];
  return sum;
}

describe('adversarial: uTP SYN flood', { timeout: 120_000 }, () => {
  let scene: VictimScene;
  let baselineRssMb = 0;
  let baselineRequestMs = 0;

  before(async () => {
    scene = await startVictimScene();
    baselineRequestMs = await scene.legitRequestMs();
    baselineRssMb = scene.victimRssMb();
  });

  after(async () => {
    await scene?.stop();
  });

  for (const [name, hosts] of [
    ['2,000 SYN/s from one source port', ['127.0.1.1']],
    ['2,000 SYN/s from 16 addresses of one /24', Array.from({ length: 16 }, (_, i) => `127.0.2.${i + 1}`)],
  ] as const) {
    test(`${name}: a friend reconnects within 2 s, a request is listed on time, memory is bounded`, async () => {
      const flood = await startFlood([...hosts], { host: '127.0.0.1', port: scene.alice.port });
      let reconnectMs = -1;
      let requestMs = -1;
      let rssMb = 0;
      let wasFloodingThroughout = false;
      try {
        await new Promise((resolve) => setTimeout(resolve, FLOOD_LEAD_MS));
        reconnectMs = await scene.friendReconnectMs();
        requestMs = await scene.legitRequestMs();
        rssMb = scene.victimRssMb();
        wasFloodingThroughout = flood.isRunning();
      } finally {
        await flood.stop();
      }
      const sum = total(flood.counters);
      const report = { reconnectMs, requestMs, baselineRequestMs, rssMb, baselineRssMb, ...sum };
      console.log(`  ${name}: ${JSON.stringify(report)}`);
      assert.ok(sum.synsSent >= SYNS_PER_SECOND, `the flood ran: ${JSON.stringify(sum)}`);
      assert.ok(wasFloodingThroughout, 'the flood ended before both questions were answered');
      assert.ok(
        reconnectMs < FRIEND_RECONNECT_BOUND_MS,
        `friend reconnect ${reconnectMs} ms\n${scene.logs()}`,
      );
      assert.ok(requestMs < Math.max(REQUEST_BOUND_MS, 4 * baselineRequestMs), `request ${requestMs} ms`);
      assert.ok(rssMb < baselineRssMb + RSS_GROWTH_BOUND_MB, `RSS ${rssMb} MB (before: ${baselineRssMb} MB)`);
      // Never an amplifier: the victim sent the flooders no more bytes than they sent it.
      assert.ok(sum.bytesReceived <= sum.bytesSent, JSON.stringify(sum));
    });
  }
});
