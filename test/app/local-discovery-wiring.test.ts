/**
 * When the daemon opens its LAN discovery socket at all (src/app/local-discovery-wiring.ts). The multicast itself
 * is proven in the lab: test/lab/nat-matrix.test.ts's same-nat cell (no hairpin) completes a friend request only
 * through it. Here: the skips, and what a socket hands on (bounded, IPv4 only).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startLocalDiscovery } from '../../src/app/local-discovery-wiring.ts';
import { recordingLogger } from '../helpers/recording-logger.ts';

async function skipReasons(
  overrides: Partial<Parameters<typeof startLocalDiscovery>[0]>,
): Promise<unknown[]> {
  const { logger, lines } = recordingLogger();
  const wiring = await startLocalDiscovery({
    isEnabled: true,
    socket: { host: '0.0.0.0', port: 40001 },
    bootstrapHosts: ['198.51.100.1'],
    logger,
    ...overrides,
  });
  assert.equal(wiring.chat, undefined, 'skipped: nothing for the chat');
  await wiring.close();
  return lines.map((l) => (l['event'] === 'local_discovery_skipped' ? l['reason'] : l));
}

test('--no-local-discovery: no socket, not even a log line', async () => {
  assert.deepEqual(await skipReasons({ isEnabled: false }), []);
});

test('a socket bound to one address (loopback in tests) or a loopback network: skipped with the reason', async () => {
  assert.deepEqual(await skipReasons({ socket: { host: '127.0.0.1', port: 40001 } }), [
    'socket bound to 127.0.0.1',
  ]);
  assert.deepEqual(await skipReasons({ bootstrapHosts: ['127.0.0.1', 'localhost'] }), [
    'every bootstrap contact is loopback',
  ]);
});

test('bound: joins the group on the port; a second daemon on the host shares it (or the reason is logged)', async () => {
  const { logger, lines } = recordingLogger();
  const options = {
    isEnabled: true,
    socket: { host: '0.0.0.0', port: 1 },
    bootstrapHosts: ['198.51.100.1'],
    logger,
  };
  const port = 40_000 + (process.pid % 20_000);
  const first = await startLocalDiscovery({ ...options, port });
  const second = await startLocalDiscovery({ ...options, port });
  try {
    if (first.chat === undefined) {
      // A machine where the group cannot be joined (no multicast-capable interface) says so and goes on.
      assert.match(String(lines[0]?.['reason']), /cannot join 239\.192\.152\.143/);
      return;
    }
    assert.notEqual(second.chat, undefined, 'SO_REUSEADDR: a second socket on the same port');
  } finally {
    await first.close();
    await second.close();
  }
});
