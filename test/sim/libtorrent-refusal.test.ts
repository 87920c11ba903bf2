import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DhtNode, KrpcRemoteError, nodeIdForHost } from '../../src/dht/index.ts';
import { EventScheduler } from '../../sim/event-scheduler.ts';
import { Internet } from '../../sim/internet.ts';
import { INTERNET_LATENCY, LatencyModel } from '../../sim/latency-model.ts';
import { refuseDhtchatExtension } from '../../sim/libtorrent-refusal.ts';
import { SimRandom } from '../../sim/sim-random.ts';

function world(): { scheduler: EventScheduler; internet: Internet } {
  const scheduler = new EventScheduler();
  const latency = new LatencyModel({ ...INTERNET_LATENCY, lossRate: 0 }, 'refusal');
  return { scheduler, internet: new Internet(scheduler, latency, new SimRandom('refusal/net')) };
}

function node(internet: Internet, host: string, wrap = false, counters = { refused: 0 }): DhtNode {
  const random = new SimRandom(`refusal/${host}`);
  const bound = internet.createTransport({ host, port: 6881 });
  return new DhtNode({
    transport: wrap ? refuseDhtchatExtension(bound, counters) : bound,
    clock: internet.scheduler,
    random,
    id: nodeIdForHost(host, random),
  });
}

test('a libtorrent-like node refuses dhtchat_forward with KRPC 203 and answers everything else', async () => {
  const { scheduler, internet } = world();
  const counters = { refused: 0 };
  const asker = node(internet, '8.8.4.4');
  node(internet, '9.9.9.9', true, counters);
  const libtorrent = { host: '9.9.9.9', port: 6881 };
  const pong = await scheduler.settle(asker.ping(libtorrent), { maxWallMs: 10_000 });
  assert.equal(pong.address.host, '9.9.9.9');
  const refused = await scheduler
    .settle(asker.forwardNote(libtorrent, { host: '1.1.1.1', port: 6881 }, Buffer.from('hi')), {
      maxWallMs: 10_000,
    })
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  assert.ok(refused instanceof KrpcRemoteError);
  assert.equal(refused.krpcCode, 203);
  assert.equal(counters.refused, 1);
});

test('a dhtchat node does not refuse the extension (it answers 202/204 by its own rules, never 203 "unknown")', async () => {
  const { scheduler, internet } = world();
  const asker = node(internet, '8.8.4.4');
  node(internet, '9.9.9.9');
  const outcome = await scheduler
    .settle(
      asker.forwardNote({ host: '9.9.9.9', port: 6881 }, { host: '1.1.1.1', port: 6881 }, Buffer.from('hi')),
      {
        maxWallMs: 10_000,
      },
    )
    .then(
      () => 'answered',
      (error: unknown) => (error instanceof KrpcRemoteError ? error.remoteMessage : String(error)),
    );
  assert.notEqual(outcome, 'unknown message');
});
