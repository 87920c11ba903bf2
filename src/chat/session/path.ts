/**
 * The path a friend's messages take now, in one place (issue 11 §4 shows it to the user):
 *
 * - direct:   a session to an endpoint the friend can be reached at as is (a public host, a LAN address);
 * - punched:  a session through NATs on both sides, opened by hole punching (record-coordinated, birthday);
 * - mapped:   a session to the endpoint the friend's router maps for it (PCP, NAT-PMP, UPnP IGD);
 * - relayed:  a session through a volunteer relay (issue 11 §4: the relay work adds it);
 * - dht:      no session, the friend is alive: messages and acknowledgements go through the DHT (fast polls);
 * - offline:  no session and no sign of the friend lately: messages wait in the DHT.
 *
 * Read from where the session's remote endpoint sits in the friend's record and how both NATs map (ours from
 * the DHT's reports, theirs from the record): cheap, and right for every case the lab has.
 */
import type { UdpAddress } from '../../runtime/index.ts';
import type { NatMapping } from '../nat-mapping.ts';
import type { RendezvousRecord } from '../record-body.ts';

export const PathKind = {
  direct: 'direct',
  punched: 'punched',
  mapped: 'mapped',
  relayed: 'relayed',
  dht: 'dht',
  offline: 'offline',
} as const;
export type PathKind = (typeof PathKind)[keyof typeof PathKind];

/**
 * The path of a session to `remote`, given the friend's latest record (if we read one yet), our NAT mapping and
 * our own endpoints (a remote on one of our subnets is on our LAN).
 */
export function sessionPath(
  remote: UdpAddress,
  record: RendezvousRecord | undefined,
  ourMapping: NatMapping,
  ownEndpoints: readonly UdpAddress[] = [],
): PathKind {
  const listed = record?.endpoints.find(
    (e) => e.address.host === remote.host && e.address.port === remote.port,
  );
  if (listed?.kind === 'mapped') return PathKind.mapped;
  if (listed?.kind === 'lan' || ownEndpoints.some((e) => isSameSubnet(e.host, remote.host))) {
    return PathKind.direct;
  }
  if (ourMapping === 'none' || record?.natMapping === 'none') return PathKind.direct;
  return PathKind.punched;
}

/** Same IPv4 /24 or IPv6 /64 (the usual LAN prefixes). */
function isSameSubnet(a: string, b: string): boolean {
  if (a.includes(':') !== b.includes(':')) return false;
  if (!a.includes(':')) return a.split('.').slice(0, 3).join('.') === b.split('.').slice(0, 3).join('.');
  return a.split(':').slice(0, 4).join(':') === b.split(':').slice(0, 4).join(':');
}
