/**
 * Debian's miniupnpd (package miniupnpd-nftables, 2.3.1 in bookworm) inside a lab router: UPnP IGD, NAT-PMP and
 * PCP on the LAN side, port mappings written as nftables rules in the router's own namespace.
 *
 *   host 192.168.k.10 ──(SSDP 1900, HTTP, NAT-PMP/PCP 5351)──► lan0 [miniupnpd] wan 198.19.k.1 ──► Internet
 *                                                               └─ table inet miniupnpd: dnat/accept per mapping
 *
 * Why these choices:
 * - The nftables build, not the iptables one: the lab's routers are nftables (nat-rules.ts), and the iptables
 *   build writes through the legacy xtables API, a second ruleset beside them.
 * - miniupnpd 2.3.1 does not create its chains: we create `table inet miniupnpd` with base chains that jump to
 *   the three chains it fills (what Debian's nft_init.sh does, without its /tmp file and its shared table name).
 * - miniupnpd refuses to map anything when its WAN address is reserved, and 198.18.0.0/15 is on its list. With
 *   ext_perform_stun it asks a STUN server instead: the lab's probe server answers as an unfiltered public
 *   address would (probe-server.ts), so miniupnpd takes 198.19.k.1 as its public address and maps ports.
 * - Everything it reads or writes is in a temp dir of the lab's (config, leases, pid file), deleted with it; it
 *   runs in the foreground (-d) in the router's namespace and is stopped with the lab.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execInNs } from './netns.ts';
import type { NsProcess } from './processes.ts';
import type { Lab } from './topology.ts';
import { INTERNET } from './topology.ts';

export const MINIUPNPD_PATH = '/usr/sbin/miniupnpd';
const STUN_PORT = 3478;
const START_TIMEOUT_MS = 20_000;

const CHAINS = `table inet miniupnpd {
  chain forward { type filter hook forward priority filter; policy accept; jump forward_miniupnpd; }
  chain forward_miniupnpd { }
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; jump prerouting_miniupnpd; }
  chain prerouting_miniupnpd { }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; jump postrouting_miniupnpd; }
  chain postrouting_miniupnpd { }
}
`;

function configText(dir: string, lanPrefix: string): string {
  return [
    'ext_ifname=wan',
    'listening_ip=lan0',
    'http_port=0',
    'enable_upnp=yes',
    'enable_natpmp=yes',
    'secure_mode=yes',
    'system_uptime=no',
    'notify_interval=30',
    `uuid=${randomUUID()}`,
    `lease_file=${join(dir, 'leases')}`,
    'ext_perform_stun=yes',
    `ext_stun_host=${INTERNET.probeA}`,
    `ext_stun_port=${STUN_PORT}`,
    'upnp_table_name=miniupnpd',
    'upnp_nat_table_name=miniupnpd',
    'upnp_forward_chain=forward_miniupnpd',
    'upnp_nat_chain=prerouting_miniupnpd',
    'upnp_nat_postrouting_chain=postrouting_miniupnpd',
    'min_lifetime=60',
    'max_lifetime=3600',
    `allow 1024-65535 ${lanPrefix}.0/24 1024-65535`,
    'deny 0-65535 0.0.0.0/0 0-65535',
    '',
  ].join('\n');
}

export interface Miniupnpd {
  readonly process: NsProcess;
  /** The router's LAN address, where clients reach miniupnpd (NAT-PMP/PCP on port 5351). */
  readonly gateway: string;
  stop(): Promise<void>;
}

/**
 * Starts miniupnpd in routerNs (the probe server must already answer STUN in the Internet) and waits until it
 * has found its public address and listens for NAT-PMP/PCP.
 */
export async function startMiniupnpd(lab: Lab, routerNs: string, siteIndex: number): Promise<Miniupnpd> {
  const dir = lab.tempDir('miniupnpd');
  const config = join(dir, 'miniupnpd.conf');
  writeFileSync(config, configText(dir, `192.168.${siteIndex}`));
  execInNs(routerNs, 'nft', ['-f', '-'], CHAINS);
  const proc = lab.spawn('miniupnpd', routerNs, MINIUPNPD_PATH, [
    '-f',
    config,
    '-d',
    '-P',
    join(dir, 'miniupnpd.pid'),
  ]);
  const stop = (): Promise<void> => proc.stop();
  // -d logs to stderr; it is ready once STUN has run and the NAT-PMP/PCP socket is open.
  const endMs = Date.now() + START_TIMEOUT_MS;
  const isReady = (log: string): boolean =>
    /Listening for NAT-PMP\/PCP/.test(log) && /Port forwarding is now enabled/.test(log);
  while (!isReady(proc.stderr())) {
    if (!proc.isRunning() || Date.now() > endMs) {
      await stop();
      throw new Error(`miniupnpd did not start in ${routerNs}:\n${proc.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { process: proc, gateway: `192.168.${siteIndex}.1`, stop };
}
