/**
 * The PortMapper's life on virtual time against the fake router (real PCP, NAT-PMP and UPnP clients): the
 * fall-through order, renewal at half-life, back-off, a moved external address, a router that restarts or goes
 * silent, and removal on close — asserted on the router's own table as well as on the events.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NatPmpClient,
  PcpClient,
  PortMapper,
  type PortMapperTiming,
  type PortMappingEvent,
  UdpExchange,
  UpnpClient,
} from '../../../src/net/index.ts';
import { CLIENT, GATEWAY, gatewayWorld, runUntil, settle } from './fake-gateway.ts';

const PORT = 40001;

function mapperWorld(timing: Partial<PortMapperTiming> = {}, seed = 'mapper') {
  const world = gatewayWorld(seed);
  const exchange = new UdpExchange(world.clientTransport, world.clock);
  const protocols = [
    new PcpClient({
      exchange,
      clock: world.clock,
      gateway: GATEWAY,
      clientHost: CLIENT,
      random: world.random,
    }),
    new NatPmpClient({ exchange, clock: world.clock, gateway: GATEWAY }),
    new UpnpClient({
      exchange,
      gateway: GATEWAY,
      internalHost: CLIENT,
      http: world.gateway.http,
      random: world.random,
    }),
  ];
  const mapper = new PortMapper({
    internalPort: PORT,
    protocols,
    clock: world.clock,
    random: world.random,
    timing,
  });
  const events: PortMappingEvent[] = [];
  mapper.onEvent((e) => events.push(e));
  const typed = <T extends PortMappingEvent['type']>(type: T) =>
    events.filter((e): e is Extract<PortMappingEvent, { type: T }> => e.type === type);
  return { ...world, exchange, mapper, events, typed };
}

test('falls through PCP → NAT-PMP → UPnP: the first that maps wins', async () => {
  const { clock, gateway, mapper, typed } = mapperWorld();
  gateway.settings.pcp = 'off';
  gateway.settings.natpmp = 'off';
  mapper.start();
  await runUntil(clock, () => typed('mapped').length > 0, 20_000);
  assert.deepEqual(typed('mapped'), [
    { type: 'mapped', protocol: 'upnp', external: { host: '203.0.113.7', port: PORT }, lifetimeS: 7200 },
  ]);
  assert.equal(mapper.protocol(), 'upnp');
  assert.deepEqual(mapper.external(), { host: '203.0.113.7', port: PORT });
  assert.equal(gateway.received.pcp, 4);
  assert.equal(gateway.received.natpmp, 0, 'port 5351 was silent to PCP: NAT-PMP is not asked');
});

test('a NAT-PMP-only router answers PCP with "unsupported version": NAT-PMP is asked at once', async () => {
  const { clock, gateway, mapper, typed } = mapperWorld();
  gateway.settings.pcp = 'natpmp-only';
  mapper.start();
  await runUntil(clock, () => typed('mapped').length > 0, 1000);
  assert.equal(typed('mapped')[0]?.protocol, 'natpmp');
  assert.ok(clock.wallMs() - 1_700_000_000_000 < 100, 'three round trips, no waiting');
});

test('a PCP router maps at once and nothing else is asked', async () => {
  const { clock, gateway, mapper, typed } = mapperWorld();
  mapper.start();
  await runUntil(clock, () => typed('mapped').length > 0, 1000);
  assert.equal(typed('mapped')[0]?.protocol, 'pcp');
  assert.ok(clock.wallMs() - 1_700_000_000_000 < 100, 'one round trip');
  assert.deepEqual(gateway.received, { pcp: 1, natpmp: 0, ssdp: 0, http: 0 });
});

test('renews at half the granted lifetime, so the mapping never lapses', async () => {
  const { clock, gateway, mapper, typed } = mapperWorld();
  gateway.settings.grantedLifetimeS = 600;
  mapper.start();
  const startMs = clock.monotonicMs();
  let lapses = 0;
  for (let i = 0; i < 241; i++) {
    await runUntil(clock, () => false, 30_000, 1000);
    if (gateway.live().length !== 1) lapses++;
  }
  assert.equal(lapses, 0, 'the router held the mapping the whole 2 hours');
  const renewals = typed('renewed');
  assert.equal(renewals.length, 24, '7200 s / 300 s');
  assert.equal(gateway.received.pcp, 25);
  assert.ok(clock.monotonicMs() - startMs >= 7_200_000);
});

test('close deletes the mapping at the router; a silent router makes close give up after 2 s', async () => {
  const first = mapperWorld();
  first.mapper.start();
  await runUntil(first.clock, () => first.typed('mapped').length > 0, 1000);
  await settle(first.clock, first.mapper.close());
  assert.deepEqual(first.gateway.live(), []);
  assert.deepEqual(first.typed('unmapped'), [
    { type: 'unmapped', protocol: 'pcp', external: { host: '203.0.113.7', port: PORT }, isConfirmed: true },
  ]);
  assert.equal(first.mapper.external(), undefined);

  const second = mapperWorld();
  second.mapper.start();
  await runUntil(second.clock, () => second.typed('mapped').length > 0, 1000);
  second.gateway.settings.pcp = 'off';
  const closingAtMs = second.clock.monotonicMs();
  await settle(second.clock, second.mapper.close());
  assert.ok(
    second.clock.monotonicMs() - closingAtMs <= 2010,
    `${second.clock.monotonicMs() - closingAtMs} ms`,
  );
  // Nothing more is scheduled: a closed mapper never asks again.
  const asked = second.gateway.received.pcp;
  await runUntil(second.clock, () => false, 3 * 3_600_000, 60_000);
  assert.ok(second.gateway.received.pcp <= asked + 4, 'only the removal already under way');
});

test('back-off when nothing answers: 2, 4, 8, 16, 30, 30 min (±10 %); a router that appears is used', async () => {
  const { clock, gateway, mapper, typed } = mapperWorld();
  gateway.settings.pcp = 'off';
  gateway.settings.natpmp = 'off';
  gateway.settings.upnp = 'off';
  mapper.start();
  await runUntil(clock, () => typed('failed').length >= 6, 4 * 3_600_000, 500);
  assert.deepEqual(
    typed('failed')[0]?.attempts.map((a) => a.detail),
    [undefined, 'port 5351 did not answer', 'no IGD answered the search'],
  );
  const waits = typed('failed').map((e) => e.retryInMs / 60_000);
  const expected = [2, 4, 8, 16, 30, 30];
  waits.forEach((minutes, i) => {
    const target = expected[i]!;
    assert.ok(
      Math.abs(minutes - target) <= target * 0.1 + 1e-9,
      `retry ${i}: ${minutes} min, expected ~${target}`,
    );
  });
  assert.match(
    typed('failed')[0]
      ?.attempts.map((a) => `${a.protocol}:${a.reason}`)
      .join(' ') ?? '',
    /pcp:no-answer natpmp:no-answer upnp:no-answer/,
  );
  gateway.settings.pcp = 'natpmp-only';
  gateway.settings.natpmp = 'on';
  await runUntil(clock, () => typed('mapped').length > 0, 40 * 60_000, 500);
  assert.equal(typed('mapped')[0]?.protocol, 'natpmp');
});

test('the external address moves: the renewal says changed and external() follows', async () => {
  const { clock, gateway, mapper, typed } = mapperWorld();
  gateway.settings.grantedLifetimeS = 600;
  mapper.start();
  await runUntil(clock, () => typed('mapped').length > 0, 1000);
  gateway.settings.externalHost = '198.51.100.9';
  await runUntil(clock, () => typed('changed').length > 0, 400_000, 1000);
  assert.deepEqual(typed('changed'), [
    {
      type: 'changed',
      protocol: 'pcp',
      external: { host: '198.51.100.9', port: PORT },
      previous: { host: '203.0.113.7', port: PORT },
      lifetimeS: 600,
    },
  ]);
  assert.deepEqual(mapper.external(), { host: '198.51.100.9', port: PORT });
});

test('a restarted router lost our mapping: the next renewal re-creates it and says so', async () => {
  const { clock, gateway, mapper, typed } = mapperWorld();
  gateway.settings.grantedLifetimeS = 600;
  gateway.settings.pcp = 'natpmp-only';
  mapper.start();
  await runUntil(clock, () => typed('mapped').length > 0, 20_000);
  assert.equal(typed('mapped')[0]?.protocol, 'natpmp');
  clock.advance(100_000);
  gateway.restart();
  assert.deepEqual(gateway.live(), []);
  await runUntil(clock, () => typed('renewed').length > 0, 400_000, 1000);
  assert.equal(typed('renewed')[0]?.hasGatewayRestarted, true);
  assert.equal(gateway.live().length, 1);
});

test('a router whose PCP goes silent: retries at half the time left, then lost, then UPnP', async () => {
  const { clock, gateway, mapper, typed } = mapperWorld();
  gateway.settings.grantedLifetimeS = 600;
  mapper.start();
  await runUntil(clock, () => typed('mapped').length > 0, 1000);
  gateway.settings.pcp = 'off';
  await runUntil(clock, () => typed('lost').length > 0, 700_000, 1000);
  const retries = typed('renewFailed').map((e) => Math.round(e.retryInMs / 1000));
  assert.ok(retries.length >= 5, `retries: ${retries}`);
  for (let i = 1; i < retries.length; i++) assert.ok(retries[i]! < retries[i - 1]!, `halving: ${retries}`);
  const mappedAtMs = 1_700_000_000_000;
  assert.ok(
    clock.wallMs() - mappedAtMs <= 600_000 + 4000,
    'lost no later than the expiry (plus one exchange)',
  );
  await runUntil(clock, () => typed('mapped').length > 1, 20_000);
  assert.equal(typed('mapped')[1]?.protocol, 'upnp', 'NAT-PMP shares the silent port 5351: skipped');
});

test('close during the first round: a mapping granted meanwhile is removed, nothing stays at the router', async () => {
  const { clock, gateway, mapper, typed } = mapperWorld();
  mapper.start();
  clock.advance(0);
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(gateway.received.pcp, 0, 'the request is still on the wire');
  await settle(clock, mapper.close());
  await runUntil(clock, () => false, 5000);
  assert.deepEqual(gateway.live(), []);
  assert.equal(typed('mapped').length, 0, 'never announced');
});
