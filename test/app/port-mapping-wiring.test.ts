/**
 * When the daemon asks for a port mapping at all. Every case here must send nothing: the gateway given is a
 * documentation address (TEST-NET-1) that nothing answers, and a skipped wiring opens no socket to send from.
 * The asking itself is proven against miniupnpd in test/net/port-mapping/miniupnpd-lab.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startPortMapping } from '../../src/app/port-mapping-wiring.ts';
import { cryptoRandom, systemClock } from '../../src/runtime/index.ts';
import { recordingLogger } from '../helpers/recording-logger.ts';

const BEHIND_NAT = { gateway: '192.0.2.1', interfaceName: 'eth0', localHost: '192.168.1.20' };

async function skipReason(overrides: Partial<Parameters<typeof startPortMapping>[0]>): Promise<unknown[]> {
  const { logger, lines } = recordingLogger();
  const wiring = await startPortMapping({
    isEnabled: true,
    socket: { host: '0.0.0.0', port: 40001 },
    bootstrapHosts: ['198.51.100.1'],
    logger,
    clock: systemClock,
    random: cryptoRandom,
    onEndpointsChanged: () => assert.fail('nothing may change'),
    findGateway: () => BEHIND_NAT,
    ...overrides,
  });
  assert.deepEqual(wiring.endpoints(), []);
  await wiring.close();
  return lines.map((l) => (l['event'] === 'port_mapping_skipped' ? l['reason'] : l));
}

test('--no-port-mapping: nothing at all, not even a log line', async () => {
  assert.deepEqual(await skipReason({ isEnabled: false }), []);
});

test('a socket bound to loopback or another address is never mapped', async () => {
  assert.deepEqual(await skipReason({ socket: { host: '127.0.0.1', port: 40001 } }), [
    'socket bound to 127.0.0.1',
  ]);
  assert.deepEqual(await skipReason({ socket: { host: '10.1.1.1', port: 40001 } }), [
    'socket bound to 10.1.1.1',
  ]);
});

test('a loopback-only bootstrap list is a local test network: no mapping', async () => {
  assert.deepEqual(await skipReason({ bootstrapHosts: ['127.0.0.1', '::1', 'localhost'] }), [
    'loopback network',
  ]);
});

test('a public address needs no mapping; no default gateway means nobody to ask', async () => {
  assert.deepEqual(await skipReason({ findGateway: () => ({ ...BEHIND_NAT, localHost: '198.18.0.5' }) }), [
    'public address 198.18.0.5',
  ]);
  assert.deepEqual(await skipReason({ findGateway: () => ({ ...BEHIND_NAT, localHost: '203.0.113.9' }) }), [
    'public address 203.0.113.9',
  ]);
  assert.deepEqual(await skipReason({ findGateway: () => undefined }), ['no default gateway']);
});
