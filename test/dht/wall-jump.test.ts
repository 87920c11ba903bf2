/** DHT query timeouts run on monotonic time: a wall-clock step neither expires a query early nor holds it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QUERY_TIMEOUT_MS } from '../../src/dht/index.ts';
import { SimNet } from './dht-node-harness.ts';

const HOUR_MS = 3_600_000;
const SILENT = { host: '10.9.9.9', port: 9 };

/** Pings a node that never answers, stepping wall time by wallJumpMs 100 ms in; when the ping gave up and why. */
async function silentPing(
  wallJumpMs: number,
): Promise<{ tookMs: number; code: unknown; pingsAtMs: number[] }> {
  const net = new SimNet('wall-jump');
  try {
    const node = net.add({ host: '10.0.0.1' }).node;
    const silent = net.raw(SILENT);
    const startMs = net.clock.monotonicMs();
    const pingsAtMs: number[] = [];
    let lastCount = 0;
    let code: unknown;
    let isSettled = false;
    node.ping(SILENT).then(
      () => {
        isSettled = true;
      },
      (err: { code?: unknown }) => {
        code = err.code;
        isSettled = true;
      },
    );
    await net.settle(100, 10);
    net.clock.jumpWall(wallJumpMs);
    await net.until(
      () => {
        for (; lastCount < silent.received.length; lastCount++)
          pingsAtMs.push(net.clock.monotonicMs() - startMs);
        return isSettled;
      },
      4 * QUERY_TIMEOUT_MS,
      10,
    );
    return { tookMs: net.clock.monotonicMs() - startMs, code, pingsAtMs };
  } finally {
    net.close();
  }
}

test('a query to a silent node times out after the same monotonic time whether wall time jumped +1 h or -1 h', async () => {
  const steady = await silentPing(0);
  assert.equal(steady.code, 'DHT_QUERY_TIMEOUT');
  assert.ok(steady.tookMs >= QUERY_TIMEOUT_MS, `gave up after ${steady.tookMs} ms`);
  assert.ok(steady.pingsAtMs.length >= 1);
  for (const jumpMs of [HOUR_MS, -HOUR_MS]) {
    const jumped = await silentPing(jumpMs);
    assert.equal(jumped.code, 'DHT_QUERY_TIMEOUT');
    assert.equal(jumped.tookMs, steady.tookMs, `after a ${jumpMs / HOUR_MS} h jump`);
    assert.deepEqual(jumped.pingsAtMs, steady.pingsAtMs, 'the same sends and resends');
  }
});
