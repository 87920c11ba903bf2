/**
 * The nftables ruleset of a lab NAT router, from what the NAT should be (RFC 4787 terms). One table, `ip nlab`:
 *
 *            LAN side (lan0)                          router                         WAN side (wan)
 *   host 192.168.k.10:p ──► prerouting (dstnat) ──► forward ──► postrouting (srcnat: masquerade) ──► WAN:p'
 *   anyone ──► WAN:p' ──► prerouting: a mapped port? (full cone / hairpin: dnat to its host) ──► else input: drop
 *
 * - Mapping: `masquerade` keeps the source port when it is free (endpoint-independent in practice: one port per
 *   internal endpoint, whatever the destination), `masquerade fully-random` draws a new port for every new
 *   5-tuple (endpoint-dependent: a symmetric NAT).
 * - Filtering: conntrack lets in only answers to flows the inside started (address- and port-dependent). The
 *   `input` chain drops every new flow from the WAN to the router itself, as home routers do: without it, an
 *   unsolicited packet to a mapped port would be delivered locally, its conntrack entry would take the port,
 *   and the NAT would pick another one for the host's answer.
 * - Endpoint-independent filtering (full cone) is not a Linux NAT mode. Emulated: after masquerade (postrouting
 *   at priority 200 sees the translated packet), each host's WAN source ports go into a timed set
 *   (`mapped_N`, refreshed by every packet out, 120 s like conntrack's UDP stream timeout); an inbound packet from
 *   anyone to a port in the set is sent to that host on the same port (`dnat`, which is right because masquerade
 *   kept the port). Exactly the mappings the host opened are reachable from anywhere, nothing else.
 * - Hairpinning (a host reaching another host's, or its own, public mapping from inside): the same sets, matched
 *   on packets from the LAN to the WAN address, then `snat` to the WAN address so the receiver sees the sender's
 *   public mapping (RFC 4787 REQ-9), not a LAN address.
 */

export type MappingBehaviour = 'port-preserving' | 'random';

export interface NatRulesOptions {
  /** The router's WAN address (the public mapping's address). */
  readonly wanAddress: string;
  /** The inside hosts' addresses, in order: host i gets the set `mapped_i`. */
  readonly hosts: readonly string[];
  readonly mapping: MappingBehaviour;
  readonly isEndpointIndependentFiltering: boolean;
  readonly hasHairpin: boolean;
}

/** Seconds a full-cone or hairpin mapping stays reachable after the host's last packet out. */
const MAPPING_TIMEOUT_S = 120;

export function natRuleset(o: NatRulesOptions): string {
  const needsSets = o.isEndpointIndependentFiltering || o.hasHairpin;
  const masquerade = o.mapping === 'random' ? 'masquerade fully-random' : 'masquerade';
  const sets = needsSets
    ? o.hosts.map(
        (_, i) => `  set mapped_${i} { type inet_service; flags timeout; timeout ${MAPPING_TIMEOUT_S}s; }`,
      )
    : [];
  const track = needsSets
    ? o.hosts.map(
        (h, i) =>
          `    oifname "wan" meta l4proto udp ct original ip saddr ${h} update @mapped_${i} { udp sport }`,
      )
    : [];
  const inbound: string[] = [];
  o.hosts.forEach((h, i) => {
    if (o.isEndpointIndependentFiltering)
      inbound.push(`    iifname "wan" udp dport @mapped_${i} dnat to ${h}`);
    if (o.hasHairpin)
      inbound.push(`    iifname "lan0" ip daddr ${o.wanAddress} udp dport @mapped_${i} dnat to ${h}`);
  });
  const hairpinSnat = o.hasHairpin
    ? [`    iifname "lan0" oifname "lan0" ct status dnat snat to ${o.wanAddress}`]
    : [];
  return [
    'table ip nlab {',
    ...sets,
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    ...inbound,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...hairpinSnat,
    `    oifname "wan" ${masquerade}`,
    '  }',
    '  chain mappings {',
    '    type filter hook postrouting priority 200; policy accept;',
    ...track,
    '  }',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    iifname "wan" ct state new drop',
    '  }',
    '}',
    '',
  ].join('\n');
}
