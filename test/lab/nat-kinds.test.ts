/**
 * The lab's own test: each router kind is the NAT it claims to be (RFC 4787 terms, nat-classification.ts), and
 * the upnp router's miniupnpd maps ports through NAT-PMP, PCP and UPnP IGD. One lab holds a site of every kind:
 *
 *   Internet: probe server 198.18.0.1 / 198.18.0.2
 *     ├─ public ─ host        ├─ full-cone ─ host       ├─ port-restricted ─ host    ├─ symmetric ─ host
 *     ├─ cgnat ─ carrier ─ home ─ host                   ├─ upnp (+ miniupnpd) ─ host
 *     ├─ same-nat, hairpin on ─ 2 hosts                  └─ same-nat, hairpin off ─ 2 hosts
 *
 * A probe (probe-client.ts) runs on one host of each site. Needs root and nftables (skipped with the reason
 * otherwise; the miniupnpd part also needs miniupnpd-nftables). Namespaces are deleted in after(), failure or not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startMiniupnpd } from './miniupnpd.ts';
import type { NatClassification } from './nat-classification.ts';
import { labUnavailable, miniupnpdUnavailable } from './netns.ts';
import { runNodeInNs } from './processes.ts';
import { startProbeServer } from './internet.ts';
import { createLab, type Lab, type SiteSpec } from './topology.ts';

const PROBE_TIMEOUT_MS = 30_000;

const EIM = 'endpoint-independent';
const APD = 'address-and-port-dependent';
/** What each site must measure as. */
const EXPECTED: ReadonlyArray<{ site: SiteSpec; nat: NatClassification & { mapping: string } }> = [
  {
    site: { kind: 'public', users: ['public'] },
    nat: { mapping: 'none', filtering: EIM, isPortPreserving: true, hasHairpin: true },
  },
  {
    site: { kind: 'full-cone', users: ['fullcone'] },
    nat: { mapping: EIM, filtering: EIM, isPortPreserving: true, hasHairpin: false },
  },
  {
    site: { kind: 'port-restricted', users: ['restricted'] },
    nat: { mapping: EIM, filtering: APD, isPortPreserving: true, hasHairpin: false },
  },
  {
    site: { kind: 'symmetric', users: ['symmetric'] },
    nat: { mapping: APD, filtering: APD, isPortPreserving: false, hasHairpin: false },
  },
  {
    site: { kind: 'cgnat', users: ['cgnat'] },
    nat: { mapping: EIM, filtering: APD, isPortPreserving: true, hasHairpin: false },
  },
  {
    site: { kind: 'upnp', users: ['upnp'] },
    nat: { mapping: EIM, filtering: APD, isPortPreserving: true, hasHairpin: false },
  },
  {
    site: { kind: 'same-nat', users: ['lanA', 'lanB'], hasHairpin: true },
    nat: { mapping: EIM, filtering: APD, isPortPreserving: true, hasHairpin: true },
  },
  {
    site: { kind: 'same-nat', users: ['plainA', 'plainB'], hasHairpin: false },
    nat: { mapping: EIM, filtering: APD, isPortPreserving: true, hasHairpin: false },
  },
];

const unavailable = labUnavailable();

describe('lab router kinds (network namespaces)', { skip: unavailable ?? false }, () => {
  let lab: Lab | undefined;

  before(async () => {
    lab = createLab({ sites: EXPECTED.map((e) => e.site), internetNodes: 1 });
    await startProbeServer(lab);
  });
  after(async () => {
    await lab?.close();
  });

  test('each kind classifies as the NAT it claims to be', { timeout: 120_000 }, async () => {
    const l = lab!;
    const measured = await Promise.all(
      EXPECTED.map(async ({ site }) => {
        const host = l.host(site.users[0]!);
        const out = await runNodeInNs(
          host.ns,
          ['--import', 'tsx', 'test/lab/probe-client.ts', host.address],
          PROBE_TIMEOUT_MS,
        );
        return JSON.parse(out.trim()) as NatClassification & { observed: unknown };
      }),
    );
    EXPECTED.forEach(({ site, nat }, i) => {
      const { observed, ...classification } = measured[i]!;
      const label = `${site.kind}${site.hasHairpin ? ' (hairpin)' : ''}`;
      assert.deepEqual(classification, nat, `${label}: ${JSON.stringify(observed)}`);
    });
  });

  test('the upnp router maps ports through NAT-PMP, PCP and UPnP IGD', {
    skip: miniupnpdUnavailable() ?? false,
    timeout: 60_000,
  }, async () => {
    const l = lab!;
    const site = l.siteOf('upnp');
    const miniupnpd = await startMiniupnpd(l, site.routerNs!, site.index);
    const host = l.host('upnp');
    const out = await runNodeInNs(
      host.ns,
      ['--import', 'tsx', 'test/lab/port-mapping-probe.ts', host.address, miniupnpd.gateway],
      PROBE_TIMEOUT_MS,
    );
    const result = JSON.parse(out.trim()) as Record<string, { external?: string; isReachable?: boolean }>;
    for (const protocol of ['natpmp', 'pcp', 'upnp']) {
      const mapping = result[protocol];
      assert.ok(
        mapping?.external?.startsWith(`${site.publicAddress}:`),
        `${protocol}: ${JSON.stringify(mapping)}`,
      );
      assert.equal(mapping?.isReachable, true, `${protocol}: a stranger reaches the mapped port`);
    }
    await miniupnpd.stop();
  });
});
