/**
 * The PCP, NAT-PMP and UPnP clients against a fake router on the in-memory network, on virtual time: what they
 * ask, what they believe, and how they fail — always as a value.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MappingFailureReason,
  NatPmpClient,
  PcpClient,
  UdpExchange,
  UpnpClient,
} from '../../../src/net/index.ts';
import { CLIENT, GATEWAY, gatewayWorld, settle } from './fake-gateway.ts';

const REQUEST = { internalPort: 40001, lifetimeS: 7200, suggestedExternalPort: 40001 };

function clients(seed = 'clients') {
  const world = gatewayWorld(seed);
  const exchange = new UdpExchange(world.clientTransport, world.clock);
  const pcp = new PcpClient({
    exchange,
    clock: world.clock,
    gateway: GATEWAY,
    clientHost: CLIENT,
    random: world.random,
  });
  const natpmp = new NatPmpClient({ exchange, clock: world.clock, gateway: GATEWAY });
  const upnp = new UpnpClient({
    exchange,
    gateway: GATEWAY,
    internalHost: CLIENT,
    http: world.gateway.http,
    random: world.random,
  });
  return { ...world, exchange, pcp, natpmp, upnp };
}

test('PCP maps, renews with the same nonce (same external port), and deletes', async () => {
  const { clock, gateway, pcp } = clients();
  const mapped = await settle(clock, pcp.map(REQUEST));
  assert.deepEqual(mapped, {
    ok: true,
    external: { host: '203.0.113.7', port: 40001 },
    lifetimeS: 7200,
    hasGatewayRestarted: false,
  });
  assert.deepEqual(
    gateway.live().map((m) => [m.protocol, m.internalPort, m.externalPort]),
    [['pcp', 40001, 40001]],
  );
  const renewed = await settle(clock, pcp.map({ ...REQUEST, suggestedExternalPort: 40001 }));
  assert.ok(renewed.ok && renewed.external.port === 40001);
  assert.equal(await settle(clock, pcp.unmap({ internalPort: 40001 })), true);
  assert.deepEqual(gateway.live(), []);
});

test('NAT-PMP maps (external address, then the mapping), grants what the router grants, deletes', async () => {
  const { clock, gateway, natpmp } = clients();
  gateway.settings.grantedLifetimeS = 3600;
  const mapped = await settle(clock, natpmp.map(REQUEST));
  assert.deepEqual(mapped, {
    ok: true,
    external: { host: '203.0.113.7', port: 40001 },
    lifetimeS: 3600,
    hasGatewayRestarted: false,
  });
  assert.equal(gateway.received.natpmp, 2);
  assert.equal(await settle(clock, natpmp.unmap({ internalPort: 40001 })), true);
  assert.deepEqual(gateway.live(), []);
});

test('a restarted router (epoch back to 0) is noticed on the next renewal', async () => {
  const { clock, gateway, natpmp, pcp } = clients();
  for (const client of [natpmp, pcp]) {
    clock.advance(600_000);
    assert.ok((await settle(clock, client.map(REQUEST))).ok);
    gateway.restart();
    const again = await settle(clock, client.map(REQUEST));
    assert.ok(again.ok && again.hasGatewayRestarted, client.name);
  }
});

test('silence: 4 sends on the 250 ms doubling schedule, then no-answer after ~3.75 s', async () => {
  const { clock, gateway, pcp, natpmp, exchange } = clients();
  gateway.settings.pcp = 'off';
  gateway.settings.natpmp = 'off';
  const startMs = clock.monotonicMs();
  const outcome = await settle(clock, pcp.map(REQUEST));
  assert.deepEqual(outcome, { ok: false, reason: MappingFailureReason.noAnswer });
  assert.equal(gateway.received.pcp, 4);
  assert.ok(
    clock.monotonicMs() - startMs >= 3750 && clock.monotonicMs() - startMs < 3800,
    `${clock.monotonicMs() - startMs} ms`,
  );
  assert.deepEqual(await settle(clock, natpmp.map(REQUEST)), {
    ok: false,
    reason: MappingFailureReason.noAnswer,
  });
  assert.equal(gateway.received.natpmp, 4, 'the external-address request went unanswered: no map request');
  assert.equal(exchange.counters.sent, 8);
});

test('a NAT-PMP-only router answers PCP with UNSUPP_VERSION: PCP says unsupported at once', async () => {
  const { clock, gateway, pcp } = clients();
  gateway.settings.pcp = 'natpmp-only';
  const startMs = clock.monotonicMs();
  const outcome = await settle(clock, pcp.map(REQUEST));
  assert.equal(outcome.ok ? '' : outcome.reason, MappingFailureReason.unsupported);
  assert.ok(clock.monotonicMs() - startMs < 250, 'no resend needed');
});

test('refusals carry the result code', async () => {
  const { clock, gateway, pcp, natpmp } = clients();
  gateway.settings.refuseWith = 2;
  const byPcp = await settle(clock, pcp.map(REQUEST));
  assert.deepEqual(byPcp, { ok: false, reason: 'refused', detail: 'result 2 (notAuthorized)' });
  const byNatPmp = await settle(clock, natpmp.map(REQUEST));
  assert.deepEqual(byNatPmp, { ok: false, reason: 'refused', detail: 'result 2 (notAuthorized)' });
});

test('a gateway behind another NAT (private external address) gives no usable mapping', async () => {
  const { clock, gateway, pcp, natpmp, upnp } = clients();
  gateway.settings.externalHost = '10.0.0.5';
  for (const client of [pcp, natpmp, upnp]) {
    const outcome = await settle(clock, client.map(REQUEST));
    assert.deepEqual(outcome, { ok: false, reason: 'not-reachable', detail: '10.0.0.5' }, client.name);
  }
});

test('answers from another host, another port, or for another nonce are ignored', async () => {
  const { clock, network, gateway, pcp, exchange } = clients();
  gateway.settings.pcp = 'off';
  const impostor = network.createTransport({ host: '192.168.1.66', port: 5351 });
  const wrongPort = network.createTransport({ host: GATEWAY, port: 5352 });
  const pending = pcp.map(REQUEST);
  // A success for our exact request, but from the wrong places, then with the wrong nonce from the right one.
  const forged = Buffer.alloc(60);
  forged[0] = 2;
  forged[1] = 0x81;
  forged.writeUInt32BE(7200, 4);
  forged[36] = 17;
  forged.writeUInt16BE(40001, 40);
  forged.writeUInt16BE(40001, 42);
  forged.writeUInt16BE(0xffff, 54);
  Buffer.from([6, 6, 6, 6]).copy(forged, 56);
  impostor.send(forged, { host: CLIENT, port: exchange.localAddress().port });
  wrongPort.send(forged, { host: CLIENT, port: exchange.localAddress().port });
  const outcome = await settle(clock, pending);
  assert.deepEqual(outcome, { ok: false, reason: MappingFailureReason.noAnswer });
  assert.equal(exchange.counters.accepted, 0);
  assert.ok(exchange.counters.ignored >= 2);
});

test('UPnP v1: search, description, external address, AddPortMapping; DeletePortMapping on unmap', async () => {
  const { clock, gateway, upnp } = clients();
  const mapped = await settle(clock, upnp.map(REQUEST));
  assert.deepEqual(mapped, {
    ok: true,
    external: { host: '203.0.113.7', port: 40001 },
    lifetimeS: 7200,
    hasGatewayRestarted: false,
  });
  assert.equal(gateway.received.ssdp, 1);
  const httpAfterFirst = gateway.received.http;
  assert.ok((await settle(clock, upnp.map(REQUEST))).ok);
  assert.equal(gateway.received.ssdp, 1, 'the renewal reuses the control URL');
  assert.equal(gateway.received.http - httpAfterFirst, 2, 'GetExternalIPAddress + AddPortMapping');
  assert.equal(await settle(clock, upnp.unmap({ externalPort: 40001 })), true);
  assert.deepEqual(gateway.live(), []);
});

test('UPnP v1: a taken port (718) makes us try a random one; permanent-only (725) makes the lease 0', async () => {
  const { clock, gateway, upnp } = clients();
  gateway.settings.upnpTakenPorts.add(40001);
  gateway.settings.upnpPermanentOnly = true;
  const mapped = await settle(clock, upnp.map(REQUEST));
  assert.ok(mapped.ok);
  assert.notEqual(mapped.external.port, 40001);
  assert.ok(mapped.external.port >= 1024);
  const [row] = gateway.live();
  assert.equal(row?.externalPort, mapped.external.port);
  assert.equal(row?.expiresAtMs, Number.POSITIVE_INFINITY);
});

test('UPnP v2: AddAnyPortMapping, the router picks the port', async () => {
  const { clock, gateway, upnp } = clients();
  gateway.settings.upnp = 'v2';
  gateway.settings.upnpTakenPorts.add(40001);
  const mapped = await settle(clock, upnp.map(REQUEST));
  assert.ok(mapped.ok && mapped.external.port === 40002);
});

test('UPnP: no IGD answers → no-answer; an HTTP failure forgets the service and searches again', async () => {
  const { clock, gateway, upnp } = clients();
  gateway.settings.upnp = 'off';
  const silent = await settle(clock, upnp.map(REQUEST));
  assert.deepEqual(silent, { ok: false, reason: 'no-answer', detail: 'no IGD answered the search' });
  assert.equal(gateway.received.ssdp, 2, 'two M-SEARCHes');
  gateway.settings.upnp = 'v1';
  assert.ok((await settle(clock, upnp.map(REQUEST))).ok);
  gateway.settings.upnp = 'off';
  const failed = await settle(clock, upnp.map(REQUEST));
  assert.equal(failed.ok ? '' : failed.reason, 'no-answer');
  gateway.settings.upnp = 'v1';
  const searchesBefore = gateway.received.ssdp;
  assert.ok((await settle(clock, upnp.map(REQUEST))).ok);
  assert.equal(gateway.received.ssdp, searchesBefore + 1, 'searched again');
});

test('UPnP: a SOAP fault is a refusal with its code', async () => {
  const { clock, gateway, upnp } = clients();
  gateway.settings.refuseWith = 1;
  const outcome = await settle(clock, upnp.map(REQUEST));
  assert.equal(outcome.ok ? '' : outcome.reason, 'refused');
  assert.match(outcome.ok ? '' : (outcome.detail ?? ''), /UPnP error 606/);
});

test('UPnP: search answers from other LAN hosts, or pointing off the gateway, are ignored', async () => {
  const { clock, network, gateway, upnp, exchange } = clients();
  gateway.settings.upnp = 'off';
  const rogue = network.createTransport({ host: '192.168.1.66', port: 1900 });
  const pending = upnp.map(REQUEST);
  const answer = (location: string) =>
    Buffer.from(`HTTP/1.1 200 OK\r\nLOCATION: ${location}\r\n\r\n`, 'latin1');
  rogue.send(answer('http://192.168.1.66/desc.xml'), exchange.localAddress());
  const gatewayTransport = network.createTransport({ host: GATEWAY, port: 1901 });
  gatewayTransport.send(answer('http://192.168.1.66/desc.xml'), exchange.localAddress());
  gatewayTransport.send(answer('https://192.168.1.1/desc.xml'), exchange.localAddress());
  const outcome = await settle(clock, pending);
  assert.equal(outcome.ok ? '' : outcome.reason, 'no-answer');
  assert.equal(exchange.counters.accepted, 0);
});

test('a closed exchange answers undefined at once and sends nothing more', async () => {
  const { clock, gateway, pcp, exchange } = clients();
  gateway.settings.pcp = 'off';
  const pending = pcp.map(REQUEST);
  exchange.close();
  assert.deepEqual(await settle(clock, pending), { ok: false, reason: 'no-answer' });
  const sent = exchange.counters.sent;
  assert.deepEqual(await settle(clock, pcp.map(REQUEST)), { ok: false, reason: 'no-answer' });
  assert.equal(exchange.counters.sent, sent);
});
