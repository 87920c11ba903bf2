/**
 * Port mapping against the real thing: Debian's miniupnpd (UPnP IGD v2, NAT-PMP, PCP) on a Linux NAT router in
 * network namespaces (topology in upnp-router-netns.ts). For each protocol alone:
 *   - the mapping appears: a datagram sent from the Internet side to the mapped external port reaches our
 *     socket unsolicited (the router drops anything else unsolicited);
 *   - it renews: still open after two renewals, past the lifetime first granted;
 *   - close removes it: the router's forwarding rule is gone and the datagram no longer gets through.
 * Then the daemon itself: it maps its chat port (its DHT answers a ping from the Internet side at the mapped
 * endpoint) and removes the mapping on SIGTERM; with --no-port-mapping the router sees no port-control packet.
 *
 * Needs root, `ip`, `nft` and miniupnpd (CI installs miniupnpd-nftables); skipped with the reason otherwise.
 * Namespaces are named after the pid and removed in after(), failure or not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI_PATH, runCli } from '../../helpers/cli-runner.ts';
import {
  createUpnpLab,
  INTERNET_HOST,
  type JsonLinesProcess,
  ROUTER_WAN,
  type UpnpLab,
  upnpLabUnavailable,
} from './upnp-router-netns.ts';

const LIFETIME_S = 4;
const NO_PACKET_WAIT_MS = 1000;
const unavailable = upnpLabUnavailable();

describe('port mapping against miniupnpd (network namespaces)', { skip: unavailable ?? false }, () => {
  let lab: UpnpLab;
  const dirs: string[] = [];

  before(async () => {
    lab = await createUpnpLab(`pm${process.pid}`);
    await lab.startMiniupnpd();
  });

  after(async () => {
    await lab?.destroy();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    { name: 'pcp', protocol: 'pcp', port: 40011, router: {} },
    { name: 'natpmp', protocol: 'natpmp', port: 40012, router: {} },
    { name: 'upnp (IGD v2)', protocol: 'upnp', port: 40013, router: {} },
    // Most home routers describe themselves as IGD v1: AddPortMapping, no AddAnyPortMapping.
    { name: 'upnp (IGD v1)', protocol: 'upnp', port: 40014, router: { isIgdV1: true } },
  ] as const;
  for (const { name, protocol, port, router } of cases) {
    test(`${name}: mapped, reachable from outside, renewed, removed on close`, {
      timeout: 60_000,
    }, async () => {
      if ('isIgdV1' in router) await lab.startMiniupnpd(router);
      const driver = lab.spawnNode(lab.host, [
        '--import',
        'tsx',
        'test/net/port-mapping/lab-mapper-driver.ts',
        protocol,
        String(port),
        String(LIFETIME_S),
      ]);
      try {
        const mapped = await driver.waitFor((l) => l['event'] === 'port_mapped', 20_000, 'port_mapped');
        assert.equal(mapped['protocol'], protocol);
        assert.equal(mapped['external'], `${ROUTER_WAN}:${port}`);
        const asking = driver.lines.find((l) => l['event'] === 'asking');
        const tookMs = Number(mapped['time']) - Number(asking?.['time']);
        process.stderr.write(`# ${name}: mapped in ${tookMs} ms, lifetime ${mapped['lifetimeS']} s\n`);
        assert.match(lab.forwardedRules(), new RegExp(`dport ${port}\\b`));
        if (protocol === 'upnp') {
          // miniupnpd logs AddPortMapping calls (IGD v1's action), not AddAnyPortMapping (v2's, which we prefer).
          const usedV1Action = lab.miniupnpdLog().includes(`AddPortMapping: ext port ${port} `);
          assert.equal(usedV1Action, 'isIgdV1' in router);
        }

        lab.probe(ROUTER_WAN, port, `${protocol}-first`);
        await waitPacket(driver, `${protocol}-first`);

        await driver.waitFor(
          (l) => l['event'] === 'port_mapping_renewed' && renewals(driver) >= 2,
          4 * LIFETIME_S * 1000,
          'two renewals',
        );
        lab.probe(ROUTER_WAN, port, `${protocol}-renewed`);
        await waitPacket(driver, `${protocol}-renewed`);

        driver.send('unmap\n');
        await driver.waitFor((l) => l['event'] === 'closed', 10_000, 'closed');
        const unmapped = driver.lines.find((l) => l['event'] === 'port_unmapped');
        assert.equal(unmapped?.['isConfirmed'], true);
        assert.doesNotMatch(lab.forwardedRules(), new RegExp(`dport ${port}\\b`));
        lab.probe(ROUTER_WAN, port, `${protocol}-after-close`);
        await new Promise((resolve) => setTimeout(resolve, NO_PACKET_WAIT_MS));
        assert.equal(
          driver.lines.some((l) => l['event'] === 'packet' && l['text'] === `${protocol}-after-close`),
          false,
          'the router dropped it: nothing is forwarded any more',
        );
      } finally {
        await driver.stop();
        if ('isIgdV1' in router) await lab.startMiniupnpd();
      }
    });
  }

  test('the daemon maps its chat port, is reachable there, and removes the mapping on SIGTERM', {
    timeout: 90_000,
  }, async () => {
    const dir = await newDataDir(dirs);
    const port = 40021;
    const daemon = startDaemon(lab, dir, port, []);
    const mapped = await daemon.waitFor((l) => l['event'] === 'port_mapped', 20_000, 'port_mapped');
    assert.equal(mapped['protocol'], 'pcp', 'PCP is asked first and miniupnpd speaks it');
    assert.equal(mapped['external'], `${ROUTER_WAN}:${port}`);

    const ping = await pingFromInternet(lab, `${ROUTER_WAN}:${port}`);
    assert.equal(ping.code, 0, `the daemon's DHT answers at the mapped endpoint: ${ping.stderr}`);

    await daemon.stop();
    const unmapped = daemon.lines.find((l) => l['event'] === 'port_unmapped');
    assert.equal(unmapped?.['isConfirmed'], true, JSON.stringify(daemon.lines));
    assert.ok(
      daemon.lines.findIndex((l) => l['event'] === 'port_unmapped') <
        daemon.lines.findIndex((l) => l['event'] === 'closed'),
      'removed before the daemon says closed',
    );
    assert.doesNotMatch(lab.forwardedRules(), new RegExp(`dport ${port}\\b`));
  });

  test('--no-port-mapping: the router sees no PCP, NAT-PMP, SSDP or HTTP packet from us', {
    timeout: 60_000,
  }, async () => {
    const dir = await newDataDir(dirs);
    const before = lab.portControlPackets();
    const daemon = startDaemon(lab, dir, 40022, ['--no-port-mapping']);
    await daemon.waitFor((l) => l['event'] === 'ready', 20_000, 'ready');
    // With port mapping on, the first request leaves before `ready` is printed (see the test above).
    await new Promise((resolve) => setTimeout(resolve, NO_PACKET_WAIT_MS));
    await daemon.stop();
    assert.equal(lab.portControlPackets(), before);
    assert.equal(
      daemon.lines.some((l) => String(l['event']).startsWith('port_')),
      false,
      JSON.stringify(daemon.lines),
    );
    // The counter does count: the daemon with port mapping on, above, moved it.
    assert.ok(before > 0);
  });
});

function renewals(driver: JsonLinesProcess): number {
  return driver.lines.filter((l) => l['event'] === 'port_mapping_renewed').length;
}

function waitPacket(driver: JsonLinesProcess, text: string): Promise<unknown> {
  return driver.waitFor((l) => l['event'] === 'packet' && l['text'] === text, 5000, `packet "${text}"`);
}

async function newDataDir(dirs: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-portmap-'));
  dirs.push(dir);
  const init = await runCli(['--data-dir', dir, 'init', '--json'], { timeoutMs: 20_000 });
  assert.equal(init.code, 0, init.stderr);
  return dir;
}

function startDaemon(lab: UpnpLab, dir: string, port: number, extra: readonly string[]): JsonLinesProcess {
  return lab.spawnNode(lab.host, [
    CLI_PATH,
    '--data-dir',
    dir,
    'daemon',
    '--port',
    String(port),
    // Nothing listens there: the DHT does not matter here, only that the bootstrap list is not loopback.
    '--bootstrap',
    `${INTERNET_HOST}:6881`,
    '--allow-private',
    ...extra,
  ]);
}

async function pingFromInternet(lab: UpnpLab, target: string): Promise<{ code: number; stderr: string }> {
  const ping = lab.spawnNode(lab.internet, [CLI_PATH, 'dht', 'ping', target, '--json', '--timeout', '10s']);
  const code = await new Promise<number>((resolve) => ping.child.once('exit', (c) => resolve(c ?? -1)));
  return { code, stderr: ping.stderr() };
}
