/** uTP timers run on monotonic time: a wall-clock step (NTP, a suspended laptop) changes no retransmission. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryNetwork } from '../../../sim/memory-network.ts';
import { decodePacket, PacketType, UtpEndpoint } from '../../../src/net/index.ts';
import { ManualClock, SeededRandom } from '../../../src/runtime/index.ts';

const HOUR_MS = 3_600_000;
const SILENT = { host: '10.9.9.9', port: 9 };

/** Connects to a peer that never answers, stepping wall time by wallJumpMs 50 ms in; when each SYN arrived. */
function synArrivals(wallJumpMs: number): { synAtMs: number[]; closedAtMs: number; errorCode?: string } {
  const clock = new ManualClock();
  const network = new MemoryNetwork(clock, new SeededRandom('wall-jump/net'), { latencyMs: 5 });
  const client = new UtpEndpoint({
    transport: network.createTransport({ host: '10.0.0.1', port: 1000 }),
    clock,
    random: new SeededRandom('wall-jump/client'),
  });
  const startMs = clock.monotonicMs();
  const synAtMs: number[] = [];
  network.createTransport(SILENT).onPacket((bytes) => {
    const d = decodePacket(bytes);
    if (d.ok && d.packet.type === PacketType.ST_SYN) synAtMs.push(clock.monotonicMs() - startMs);
  });
  const socket = client.connect(SILENT);
  clock.advance(50);
  clock.jumpWall(wallJumpMs);
  for (let i = 0; i < 10_000 && !socket.isClosed; i++) clock.advance(5);
  client.close();
  return { synAtMs, closedAtMs: clock.monotonicMs() - startMs, errorCode: socket.errorCode };
}

test('SYN retransmissions and the connect timeout are the same after a wall jump of +1 h or -1 h', () => {
  const steady = synArrivals(0);
  assert.equal(steady.errorCode, 'UTP_CONNECT_TIMEOUT');
  assert.ok(steady.synAtMs.length >= 3, `SYNs were resent: ${steady.synAtMs}`);
  for (const jumpMs of [HOUR_MS, -HOUR_MS]) {
    const jumped = synArrivals(jumpMs);
    assert.deepEqual(jumped.synAtMs, steady.synAtMs, `SYN times after a ${jumpMs / HOUR_MS} h jump`);
    assert.equal(jumped.closedAtMs, steady.closedAtMs);
    assert.equal(jumped.errorCode, 'UTP_CONNECT_TIMEOUT');
  }
});
