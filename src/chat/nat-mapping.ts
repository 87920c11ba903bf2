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
