/** State-machine tier: whole transfers between two endpoints on virtual time over a seeded lossy link. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodePacket, PacketType } from '../../../src/net/index.ts';
import { makePair, patternBytes, runTransfer } from './sim-harness.ts';

describe('uTP transfers on virtual time', () => {
  test('64 KiB over a clean link arrives byte-exact and both sides close', () => {
    const seed = 'clean-1';
    const pair = makePair(seed, { latencyMs: 10 });
    const data = patternBytes(64 * 1024, 1);
    const r = runTransfer(pair, data, 20_000);
    assert.equal(r.received.length, data.length, `seed=${seed}`);
    assert.ok(r.received.equals(data), `seed=${seed}`);
    assert.ok(r.isServerEnded, `seed=${seed}`);
    assert.ok(r.isClientClosed, `seed=${seed}`);
    assert.equal(r.clientError, undefined, `seed=${seed}`);
  });
});

describe('uTP under loss', () => {
  test('10 MiB with 5% loss, reordering and duplication arrives byte-exact', () => {
    const seed = 'lossy-10mib-1';
    const pair = makePair(seed, { latencyMs: 20, jitterMs: 15, lossRate: 0.05, duplicateRate: 0.02 });
    const data = patternBytes(10 * 1024 * 1024, 7);
    const r = runTransfer(pair, data, 600_000);
    const stats = pair.client.stats;
    assert.equal(r.clientError, undefined, `seed=${seed}`);
    assert.equal(r.received.length, data.length, `seed=${seed} got ${r.received.length}`);
    assert.ok(r.received.equals(data), `seed=${seed}`);
    assert.ok(r.isServerEnded && r.isClientClosed, `seed=${seed}`);
    // Loss was repaired mostly by selective-ACK/duplicate-ack fast retransmit, not by timeouts.
    assert.ok(r.clientStats.fastRetransmits > 100, `seed=${seed} ${JSON.stringify(r.clientStats)}`);
    assert.ok(r.clientStats.timeouts < r.clientStats.fastRetransmits / 10, `seed=${seed}`);
    console.log(
      `  10 MiB @5% loss: ${r.virtualMs} virtual ms, ${r.steps} steps, packets out ${stats.packetsOut}`,
    );
  });
});

describe('uTP under heavy loss', () => {
  test('1 MiB with 30% loss in both directions still completes', () => {
    const seed = 'lossy-30-1';
    const pair = makePair(seed, { latencyMs: 20, jitterMs: 10, lossRate: 0.3, duplicateRate: 0.01 });
    const data = patternBytes(1024 * 1024, 9);
    const r = runTransfer(pair, data, 3_000_000, 5);
    assert.equal(r.clientError, undefined, `seed=${seed}`);
    assert.ok(r.received.equals(data), `seed=${seed} got ${r.received.length} of ${data.length}`);
    assert.ok(r.isServerEnded, `seed=${seed}`);
    console.log(`  1 MiB @30% loss: ${r.virtualMs} virtual ms, ${r.steps} steps`);
  });
});

describe('uTP determinism', () => {
  test('the same seed replays the same run exactly', () => {
    const run = () => {
      const pair = makePair('replay-1', { latencyMs: 10, jitterMs: 8, lossRate: 0.1, duplicateRate: 0.05 });
      const r = runTransfer(pair, patternBytes(256 * 1024, 4), 100_000);
      return {
        virtualMs: r.virtualMs,
        stats: r.clientStats,
        sent: pair.network.counters.sent,
        ok: r.received.length,
      };
    };
    assert.deepEqual(run(), run());
  });
});

describe('LEDBAT on a bottleneck with a deep queue', () => {
  test('holds the queuing delay near the 100 ms target while still filling the link', () => {
    const seed = 'ledbat-1';
    const rate = 1_000_000; // bytes per second, each way
    const latencyMs = 25;
    // A 1 s buffer: a loss-based sender would fill it (bufferbloat); LEDBAT should keep ~100 ms of it.
    const pair = makePair(seed, { latencyMs, bandwidthBytesPerSec: rate, queueBytes: rate });
    const sentAt = new Map<number, number>();
    const delaysMs: number[] = [];
    const network = pair.network as unknown as {
      route: (b: Uint8Array, f: { port: number }, t: unknown) => void;
    };
    const route = network.route.bind(network);
    network.route = (bytes, from, to) => {
      const d = decodePacket(Buffer.from(bytes));
      if (from.port === 1000 && d.ok && d.packet.type === PacketType.ST_DATA && !sentAt.has(d.packet.seqNr)) {
        sentAt.set(d.packet.seqNr, pair.clock.monotonicMs());
      }
      route(bytes, from, to);
    };
    const handle = pair.server.handleDatagram.bind(pair.server);
    pair.server.handleDatagram = (bytes, from) => {
      const d = decodePacket(bytes);
      const at = d.ok && d.packet.type === PacketType.ST_DATA ? sentAt.get(d.packet.seqNr) : undefined;
      if (d.ok && at !== undefined) {
        delaysMs.push(pair.clock.monotonicMs() - at - latencyMs);
        sentAt.delete(d.packet.seqNr);
      }
      handle(bytes, from);
    };
    const data = patternBytes(6 * 1024 * 1024, 12);
    const r = runTransfer(pair, data, 60_000);
    assert.ok(r.received.equals(data), `seed=${seed}`);
    const steady = delaysMs.slice(delaysMs.length / 2).sort((a, b) => a - b);
    const median = steady[Math.floor(steady.length / 2)] as number;
    const utilization = data.length / rate / (r.virtualMs / 1000);
    console.log(
      `  LEDBAT: median queuing delay ${median.toFixed(0)} ms, link use ${(utilization * 100).toFixed(0)} %`,
    );
    assert.ok(median >= 30 && median <= 200, `seed=${seed}: median queuing delay ${median} ms`);
    assert.ok(utilization > 0.7, `seed=${seed}: link use ${utilization}`);
  });
});
