/** RelayAnnouncer on a ManualClock with a fake DHT: today's topic, a quick retry while nobody takes it, then every 15 min. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RELAY_ANNOUNCE_EVERY_MS, RelayAnnouncer } from '../../../src/chat/relay/relay-announcer.ts';
import { relayTopic } from '../../../src/chat/relay/relay-topic.ts';
import { ManualClock } from '../../../src/runtime/index.ts';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('announces on the day topic, retries after 30 s (doubling) while no node takes it, then every 15 min', async () => {
  const noon = 20_000 * 86_400_000 + 12 * 3_600_000;
  const clock = new ManualClock(noon);
  const calls: Array<{ atMs: number; hash: string }> = [];
  let stored = 0;
  const announcer = new RelayAnnouncer({
    clock,
    dht: {
      announcePeer: async (hash: Buffer) => {
        calls.push({ atMs: clock.wallMs() - noon, hash: hash.toString('hex') });
        return { stored, errorCodes: {} };
      },
    },
  });
  const step = async (ms: number): Promise<void> => {
    clock.advance(ms);
    await flush();
  };
  announcer.start();
  await flush();
  assert.deepEqual(calls, [{ atMs: 0, hash: relayTopic(20_000).toString('hex') }]);
  await step(30_000);
  await step(60_000);
  assert.deepEqual(
    calls.map((c) => c.atMs),
    [0, 30_000, 90_000],
  );
  stored = 8;
  await step(120_000);
  assert.equal(calls.length, 4);
  await step(RELAY_ANNOUNCE_EVERY_MS - 1);
  assert.equal(calls.length, 4);
  await step(1);
  assert.equal(calls.length, 5);
  announcer.close();
  await step(RELAY_ANNOUNCE_EVERY_MS);
  assert.equal(calls.length, 5, 'nothing after close');
});
