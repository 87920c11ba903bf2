/**
 * One function per kind of site a lab user sits in: the namespaces, links, addresses and NAT rules of it. Site k
 * has the public address 198.19.k.1 (one /24 per site, so BEP 42 ids and per-/24 routing rules see distinct
 * networks) and the LAN 192.168.k.0/24. Every link is a veth pair created between two lab namespaces.
 *
 *   public            inet br0 ── host 198.19.k.1                                     (no NAT, no firewall)
 *   full-cone         inet br0 ── router wan 198.19.k.1 │NAT│ lan0 192.168.k.1 ── host 192.168.k.10
 *   port-restricted   the same router, conntrack filtering only                       (today's home router)
 *   symmetric         the same router, masquerade fully-random
 *   upnp              port-restricted + miniupnpd on lan0 (UPnP IGD, NAT-PMP, PCP; miniupnpd.ts)
 *   cgnat             inet br0 ── carrier wan 198.19.k.1 │NAT│ 100.64.k.1 ── 100.64.k.2 home │NAT│ 192.168.k.1 ── host
 *   same-nat          inet br0 ── router wan 198.19.k.1 │NAT│ lan0 (a bridge) ── hosts 192.168.k.10, .11, …
 *                     (hairpin on: each host reaches the others' public mappings; off: only their LAN addresses)
 *
 * nat-rules.ts says how each NAT behaviour is made with nftables.
 *
 * IPv6 (a site with hasIpv6; issue 11 §6): no NAT, as ISPs hand out IPv6, but a stateful firewall as home
 * routers have (RFC 6092: only replies and what the inside opened come in). Site k's router gets 2001:db8:k::1 on
 * the Internet's wire (2001:db8::/32 on-link there) and the LAN 2001:db8:k:1::/64, hosts 2001:db8:k:1::10, ::11, …
 * answering neighbour discovery for them on the wire (proxy NDP); a public host gets 2001:db8:k::10 and no
 * firewall. cgnat sites get no IPv6.
 */
import { natRuleset, type NatRulesOptions } from './nat-rules.ts';
import { addNamespace, execInNs, ip } from './netns.ts';

export const SITE_KINDS = ['public', 'full-cone', 'port-restricted', 'symmetric', 'cgnat', 'upnp'] as const;
export type SiteKind = (typeof SITE_KINDS)[number] | 'same-nat';

export interface LabHost {
  /** The user's name in the lab (alice, bob, probe1, …). */
  readonly name: string;
  readonly ns: string;
  /** The host's own address (its LAN address behind a NAT; its public address when public). */
  readonly address: string;
  /** The router it sends through first (its LAN gateway), when behind a NAT. */
  readonly gateway?: string;
  /** Its public IPv6 address, when the site has IPv6. */
  readonly address6?: string;
}

export interface LabSite {
  readonly index: number;
  readonly kind: SiteKind;
  readonly hasHairpin: boolean;
  /** The address the Internet sees the site's hosts at. */
  readonly publicAddress: string;
  readonly hosts: readonly LabHost[];
  /** The router whose WAN faces the Internet's side of the user (the home router, for cgnat). */
  readonly routerNs?: string;
  /** The carrier's router (cgnat only). */
  readonly carrierNs?: string;
}

export interface SiteContext {
  /** Namespace name prefix of this lab: `nlab<pid>-<n>-`. */
  readonly prefix: string;
  readonly internetNs: string;
  readonly index: number;
  readonly users: readonly string[];
  readonly hasHairpin: boolean;
  /** Also IPv6 (see the top of this file). */
  readonly hasIpv6: boolean;
  /** Records a namespace so that the lab deletes it, also when this function fails halfway. */
  readonly own: (ns: string) => string;
}

export function sitePublicAddress(index: number): string {
  return `198.19.${index}.1`;
}

export function buildSite(kind: SiteKind, ctx: SiteContext): LabSite {
  switch (kind) {
    case 'public':
      return publicSite(ctx);
    case 'full-cone':
      return natSite(ctx, kind, { mapping: 'port-preserving', isEndpointIndependentFiltering: true });
    case 'port-restricted':
    case 'upnp':
      return natSite(ctx, kind, { mapping: 'port-preserving', isEndpointIndependentFiltering: false });
    case 'symmetric':
      return natSite(ctx, kind, { mapping: 'random', isEndpointIndependentFiltering: false });
    case 'same-nat':
      return natSite(ctx, kind, { mapping: 'port-preserving', isEndpointIndependentFiltering: false });
    case 'cgnat':
      return cgnatSite(ctx);
  }
}

/** A host straight on the Internet: its own public address, nothing filters. */
function publicSite(ctx: SiteContext): LabSite {
  const [user] = ctx.users;
  if (user === undefined || ctx.users.length !== 1) throw new Error('a public site holds exactly one user');
  const ns = ctx.own(`${ctx.prefix}${user}`);
  addNamespace(ns);
  const address = sitePublicAddress(ctx.index);
  attachToInternet(ctx, ns, 'eth0', address);
  const address6 = ctx.hasIpv6 ? `${sitePrefix6(ctx.index)}::10` : undefined;
  if (address6 !== undefined) addAddress6(ns, 'eth0', `${address6}/32`);
  return {
    index: ctx.index,
    kind: 'public',
    hasHairpin: false,
    publicAddress: address,
    hosts: [{ name: user, ns, address, ...(address6 === undefined ? {} : { address6 }) }],
  };
}

function natSite(
  ctx: SiteContext,
  kind: SiteKind,
  behaviour: Pick<NatRulesOptions, 'mapping' | 'isEndpointIndependentFiltering'>,
): LabSite {
  if (kind !== 'same-nat' && ctx.users.length !== 1) throw new Error(`a ${kind} site holds exactly one user`);
  const routerNs = ctx.own(`${ctx.prefix}r${ctx.index}`);
  addNamespace(routerNs);
  const publicAddress = sitePublicAddress(ctx.index);
  attachToInternet(ctx, routerNs, 'wan', publicAddress);
  const hosts = buildLan(ctx, routerNs);
  enableForwarding(routerNs);
  applyRules(routerNs, {
    ...behaviour,
    wanAddress: publicAddress,
    hosts: hosts.map((h) => h.address),
    hasHairpin: ctx.hasHairpin,
  });
  const hosts6 = ctx.hasIpv6 ? routeIpv6(ctx, routerNs, hosts) : hosts;
  return { index: ctx.index, kind, hasHairpin: ctx.hasHairpin, publicAddress, hosts: hosts6, routerNs };
}

/** Carrier-grade NAT: the home router's WAN is in 100.64.0.0/10, behind the carrier's own NAT. */
function cgnatSite(ctx: SiteContext): LabSite {
  if (ctx.users.length !== 1) throw new Error('a cgnat site holds exactly one user');
  const carrierNs = ctx.own(`${ctx.prefix}c${ctx.index}`);
  const routerNs = ctx.own(`${ctx.prefix}r${ctx.index}`);
  addNamespace(carrierNs);
  addNamespace(routerNs);
  const publicAddress = sitePublicAddress(ctx.index);
  attachToInternet(ctx, carrierNs, 'wan', publicAddress);
  const carrierInside = `100.64.${ctx.index}.1`;
  const homeWan = `100.64.${ctx.index}.2`;
  ip(['-n', carrierNs, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'wan', 'netns', routerNs]);
  ip(['-n', carrierNs, 'addr', 'add', `${carrierInside}/24`, 'dev', 'lan0']);
  ip(['-n', carrierNs, 'link', 'set', 'lan0', 'up']);
  ip(['-n', routerNs, 'addr', 'add', `${homeWan}/24`, 'dev', 'wan']);
  ip(['-n', routerNs, 'link', 'set', 'wan', 'up']);
  ip(['-n', routerNs, 'route', 'add', 'default', 'via', carrierInside]);
  const hosts = buildLan(ctx, routerNs);
  enableForwarding(carrierNs);
  enableForwarding(routerNs);
  const portRestricted = { mapping: 'port-preserving', isEndpointIndependentFiltering: false } as const;
  applyRules(carrierNs, {
    ...portRestricted,
    wanAddress: publicAddress,
    hosts: [homeWan],
    hasHairpin: false,
  });
  applyRules(routerNs, {
    ...portRestricted,
    wanAddress: homeWan,
    hosts: hosts.map((h) => h.address),
    hasHairpin: false,
  });
  return { index: ctx.index, kind: 'cgnat', hasHairpin: false, publicAddress, hosts, routerNs, carrierNs };
}

/** A veth from the Internet's bridge into ns, named ifName there, with address in the Internet's /15. */
function attachToInternet(ctx: SiteContext, ns: string, ifName: string, address: string): void {
  const port = `s${ctx.index}`;
  ip(['-n', ctx.internetNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', ifName, 'netns', ns]);
  ip(['-n', ctx.internetNs, 'link', 'set', port, 'master', 'br0', 'up']);
  ip(['-n', ns, 'addr', 'add', `${address}/15`, 'dev', ifName]);
  ip(['-n', ns, 'link', 'set', ifName, 'up']);
}

/** The router's LAN: a bridge lan0 (192.168.k.1) with one veth per user; hosts 192.168.k.10, .11, … */
function buildLan(ctx: SiteContext, routerNs: string): LabHost[] {
  const lan = `192.168.${ctx.index}`;
  ip(['-n', routerNs, 'link', 'add', 'lan0', 'type', 'bridge']);
  ip(['-n', routerNs, 'addr', 'add', `${lan}.1/24`, 'dev', 'lan0']);
  ip(['-n', routerNs, 'link', 'set', 'lan0', 'up']);
  quietBridge(routerNs);
  return ctx.users.map((user, i) => {
    const ns = ctx.own(`${ctx.prefix}${user}`);
    addNamespace(ns);
    const port = `l${i}`;
    const address = `${lan}.${10 + i}`;
    ip(['-n', routerNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    ip(['-n', routerNs, 'link', 'set', port, 'master', 'lan0', 'up']);
    ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    ip(['-n', ns, 'route', 'add', 'default', 'via', `${lan}.1`]);
    return { name: user, ns, address, gateway: `${lan}.1` };
  });
}

function sitePrefix6(index: number): string {
  return `2001:db8:${index.toString(16)}`;
}

/** `nodad`: the address is usable at once (duplicate address detection would hold it back ~1-2 s). */
function addAddress6(ns: string, dev: string, cidr: string): void {
  execInNs(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=0']);
  ip(['-n', ns, '-6', 'addr', 'add', cidr, 'dev', dev, 'nodad']);
}

/**
 * IPv6 for a router's site: its WAN address on the Internet's wire, the LAN prefix, the hosts' addresses and
 * default routes, proxy NDP on the WAN for each host, forwarding, and the stateful firewall. Returns the hosts
 * with their IPv6 addresses.
 */
function routeIpv6(ctx: SiteContext, routerNs: string, hosts: readonly LabHost[]): LabHost[] {
  const prefix = sitePrefix6(ctx.index);
  addAddress6(routerNs, 'wan', `${prefix}::1/32`);
  addAddress6(routerNs, 'lan0', `${prefix}:1::1/64`);
  execInNs(routerNs, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.forwarding=1']);
  execInNs(routerNs, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.proxy_ndp=1']);
  const out = hosts.map((h, i) => {
    const address6 = `${prefix}:1::${(0x10 + i).toString(16)}`;
    addAddress6(h.ns, 'eth0', `${address6}/64`);
    ip(['-n', h.ns, '-6', 'route', 'add', 'default', 'via', `${prefix}:1::1`]);
    ip(['-n', routerNs, '-6', 'neigh', 'add', 'proxy', address6, 'dev', 'wan']);
    return { ...h, address6 };
  });
  execInNs(
    routerNs,
    'nft',
    ['-f', '-'],
    [
      'table ip6 dhtchat_fw {',
      '  chain forward {',
      '    type filter hook forward priority 0; policy accept;',
      '    ct state established,related accept',
      '    iifname "wan" drop',
      '  }',
      '}',
    ].join('\n'),
  );
  return out;
}

function enableForwarding(ns: string): void {
  execInNs(ns, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
}

function applyRules(ns: string, options: NatRulesOptions): void {
  execInNs(ns, 'nft', ['-f', '-'], natRuleset(options));
}

/**
 * Frames crossing a bridge in our namespace skip its netfilter hooks (the host may have br_netfilter loaded,
 * whose per-namespace default sends bridged frames through them): a LAN or the Internet is a plain wire.
 */
export function quietBridge(ns: string): void {
  for (const key of ['net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-arptables']) {
    try {
      execInNs(ns, 'sysctl', ['-q', '-w', `${key}=0`]);
    } catch {
      // br_netfilter not loaded: bridged frames never reach netfilter anyway.
    }
  }
}
