/**
 * How our NAT maps our chat socket, read from what DHT nodes tell us (every KRPC response carries our address as
 * the responder sees it: BEP 42's `ip` field, which libtorrent sends too). We publish the verdict in our
 * rendezvous records so a friend can choose how to punch (punch-plan.ts):
 *
 * - none:        the voted external host is one of our own addresses (no NAT);
 * - keeps:       every node sees the same external port (endpoint-independent mapping: one mapping for all
 *                destinations — home routers, Linux MASQUERADE, most carrier-grade NATs): a friend may send
 *                to that one endpoint;
 * - randomises:  most nodes see different ports (a mapping per destination, MASQUERADE --random-fully, many
 *                corporate and mobile NATs): no endpoint we publish is the one a friend's packets would need,
 *                so plain punching fails and the birthday technique is the chance left;
 * - unknown:     too few reports yet, or a mix (a mapping that changed under us).
 *
 * Only the reports of the last REPORT_WINDOW_MS count: a NAT that re-mapped us shows its current behaviour.
 */
import type { UdpAddress } from '../runtime/index.ts';

export const NatMapping = {
  unknown: 'unknown',
  none: 'none',
  keeps: 'keeps',
  randomises: 'randomises',
} as const;
export type NatMapping = (typeof NatMapping)[keyof typeof NatMapping];

export const NAT_MAPPING_RULES = {
  /** Voters' reports older than this are ignored. */
  reportWindowMs: 5 * 60_000,
  /** Reports needed for any verdict but `none`. */
  minReports: 2,
  /** keeps: at least this share of reports name the most common port. */
  keepsShare: 0.75,
  /** randomises: the most common port has less than this share (each node saw its own). */
  randomisesShare: 0.5,
} as const;

/** What DhtNode.externalReports() returns. */
export interface ExternalReports {
  readonly host: string;
  readonly ports: readonly number[];
}

/** The verdict from the DHT's reports and the hosts our socket is bound to (localEndpoints). */
export function classifyNatMapping(
  reports: ExternalReports | undefined,
  localEndpoints: readonly UdpAddress[],
): NatMapping {
  if (reports === undefined) return NatMapping.unknown;
  if (localEndpoints.some((e) => e.host === reports.host)) return NatMapping.none;
  const n = reports.ports.length;
  if (n < NAT_MAPPING_RULES.minReports) return NatMapping.unknown;
  const counts = new Map<number, number>();
  for (const port of reports.ports) counts.set(port, (counts.get(port) ?? 0) + 1);
  const top = Math.max(...counts.values());
  if (top / n >= NAT_MAPPING_RULES.keepsShare) return NatMapping.keeps;
  if (top / n < NAT_MAPPING_RULES.randomisesShare) return NatMapping.randomises;
  return NatMapping.unknown;
}

export const PUBLIC_VIEW = {
  /** Reports this recent show where we are now (after a move, within seconds)… */
  recentMs: 30_000,
  /** …once at least this many nodes answered from there. */
  minRecentReports: 3,
} as const;

/** Our public address and our NAT's mapping as DHT nodes see us now (dht.externalReports). */
export interface PublicView {
  /** Where a friend may send to reach us: the host they report and the port most of them saw. */
  readonly endpoint: UdpAddress | undefined;
  readonly mapping: NatMapping;
}

/**
 * The recent reports when enough nodes answered lately (so a move shows at once), else those of the
 * classification window.
 */
export function publicView(
  externalReports: (sinceMs: number) => ExternalReports | undefined,
  localEndpoints: readonly UdpAddress[],
): PublicView {
  const recent = externalReports(PUBLIC_VIEW.recentMs);
  const reports =
    recent !== undefined && recent.ports.length >= PUBLIC_VIEW.minRecentReports
      ? recent
      : externalReports(NAT_MAPPING_RULES.reportWindowMs);
  const mapping = classifyNatMapping(reports, localEndpoints);
  if (reports === undefined || reports.ports.length === 0) return { endpoint: undefined, mapping };
  const counts = new Map<number, number>();
  for (const port of reports.ports) counts.set(port, (counts.get(port) ?? 0) + 1);
  let port = reports.ports.at(-1) as number;
  for (const [p, n] of counts) if (n > (counts.get(port) ?? 0)) port = p;
  return { endpoint: { host: reports.host, port }, mapping };
}

/** Where the nodes that answered lately say we are, when enough did: a change of host is a move. */
export function recentPublicHost(
  externalReports: (sinceMs: number) => ExternalReports | undefined,
): string | undefined {
  const recent = externalReports(PUBLIC_VIEW.recentMs);
  return recent !== undefined && recent.ports.length >= PUBLIC_VIEW.minRecentReports
    ? recent.host
    : undefined;
}
