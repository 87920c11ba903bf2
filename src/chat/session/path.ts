/**
 * How we reach a friend, in one place (issue 11; the client shows it, docs/CLI.md has the contract):
 *
 * - direct:   a session to an endpoint the friend can be reached at as is (a public host, a LAN address);
 * - punched:  a session through NATs on both sides, opened by hole punching (record-coordinated, birthday);
 * - mapped:   a session to the endpoint the friend's router maps for it (PCP, NAT-PMP, UPnP IGD);
 * - relayed:  a session through a volunteer relay (src/chat/relay);
 * - dht:      no session while the friend is around: messages and acknowledgements go through the DHT (fast polls);
 * - null:     offline (no session and no sign of the friend lately): messages wait in the DHT.
 *
 * A session itself only knows whether it runs over a relay (`relayed`) or not (`direct`); `directSessionPath`
 * refines a direct one from where its remote endpoint sits in the friend's record and how both NATs map (ours
 * from the DHT's reports, theirs from the record): cheap, and right for every case the lab has.
 */
import type { UdpAddress } from '../../runtime/index.ts';
import type { NatMapping } from '../nat-mapping.ts';
import type { RendezvousRecord } from '../record-body.ts';

export const ContactPath = {
  direct: 'direct',
  punched: 'punched',
  mapped: 'mapped',
  relayed: 'relayed',
  dht: 'dht',
} as const;
export type ContactPath = (typeof ContactPath)[keyof typeof ContactPath];

/** The path of a session (a session is never `dht`). */
export type SessionPath = Exclude<ContactPath, 'dht'>;

/**
 * The path of a session that is not relayed, to `remote`, given the friend's latest record (if we read one yet),
 * our NAT mapping and our own endpoints (a remote on one of our subnets is on our LAN).
 */
export function directSessionPath(
  remote: UdpAddress,
  record: RendezvousRecord | undefined,
  ourMapping: NatMapping,
  ownEndpoints: readonly UdpAddress[] = [],
): Exclude<SessionPath, 'relayed'> {
  const listed = record?.endpoints.find(
    (e) => e.address.host === remote.host && e.address.port === remote.port,
  );
  if (listed?.kind === 'mapped') return ContactPath.mapped;
  if (listed?.kind === 'lan' || ownEndpoints.some((e) => isSameSubnet(e.host, remote.host))) {
    return ContactPath.direct;
  }
  if (ourMapping === 'none' || record?.natMapping === 'none') return ContactPath.direct;
  return ContactPath.punched;
}

/** Same IPv4 /24 or IPv6 /64 (the usual LAN prefixes). */
function isSameSubnet(a: string, b: string): boolean {
  if (a.includes(':') !== b.includes(':')) return false;
  if (!a.includes(':')) return a.split('.').slice(0, 3).join('.') === b.split('.').slice(0, 3).join('.');
  return a.split(':').slice(0, 4).join(':') === b.split(':').slice(0, 4).join(':');
}
