/**
 * What to send when punching towards a friend, from both NATs' mapping behaviour (nat-mapping.ts; ours measured,
 * theirs from their record) and their record's endpoints. Pure: the coordinator (punch-coordinator.ts) acts.
 *
 * | ours \ theirs       | none / keeps / unknown        | randomises                                  |
 * | ------------------- | ----------------------------- | ------------------------------------------- |
 * | none                | plain                         | plain (they reach us; we answer)            |
 * | keeps / unknown     | plain                         | plain + birthday: we probe their ports      |
 * | randomises          | plain + birthday: we listen   | nothing direct: the DHT path (a relay, later)|
 *   (when theirs is none: plain only — we reach them)
 *
 * plain: ping and dial every endpoint of their record (public, mapped, LAN) from our one socket: with endpoint-
 * independent mapping on both sides, each side's packets open its NAT for the other's, and both send within the
 * same seconds (record-coordinated). birthday (punch-birthday.ts): a port-randomising NAT gives the packets a
 * friend needs a port nobody can know, so the randomising side sends from many sockets (many mappings) to the
 * friend's one endpoint while the friend probes many random ports of its public address; a few hundred of each
 * meet with good odds (the birthday paradox).
 *
 * IPv6 (issue 11 §6): there is no NAT to map, at most a stateful firewall, so the friend's public IPv6 endpoints
 * are punched plainly whatever either IPv4 NAT does, when we have a public IPv6 address ourselves: two
 * randomising IPv4 NATs are hopeless only when one side has no IPv6. Those endpoints come first (tried first).
 */
import { isIpv6, isPublicHost } from '../dht/index.ts';
import type { UdpAddress } from '../runtime/index.ts';
import { NatMapping } from './nat-mapping.ts';
import type { RendezvousRecord } from './record-body.ts';

export type BirthdayRole =
  /** We keep one port: probe many ports of their public host from our socket. */
  | { readonly role: 'prober'; readonly host: string }
  /** We randomise: open many sockets, each sending to their one endpoint, and wait for a probe. */
  | { readonly role: 'listener'; readonly target: UdpAddress };

export interface PunchPlan {
  /** Their endpoints to ping and dial, as their record lists them. */
  readonly targets: readonly UdpAddress[];
  readonly birthday: BirthdayRole | undefined;
  /** Both NATs randomise: no direct path to try (messages go through the DHT). */
  readonly isHopeless: boolean;
}

export function planPunch(ours: NatMapping, record: RendezvousRecord, hasPublicIpv6 = false): PunchPlan {
  const theirs = record.natMapping ?? NatMapping.unknown;
  const v6 = hasPublicIpv6
    ? record.endpoints.filter((e) => isPublicIpv6(e.address.host)).map((e) => e.address)
    : [];
  if (ours === NatMapping.randomises && theirs === NatMapping.randomises) {
    return { targets: v6, birthday: undefined, isHopeless: v6.length === 0 };
  }
  const targets = [...v6, ...record.endpoints.map((e) => e.address).filter((a) => !v6.includes(a))];
  // The public endpoint is the voted one (the rendezvous service writes it first, kind public): IPv4.
  const publicEndpoint = record.endpoints.find(
    (e) => e.kind === 'public' && !isIpv6(e.address.host),
  )?.address;
  let birthday: BirthdayRole | undefined;
  if (publicEndpoint !== undefined) {
    if (theirs === NatMapping.randomises && ours !== NatMapping.none)
      birthday = { role: 'prober', host: publicEndpoint.host };
    else if (ours === NatMapping.randomises && theirs !== NatMapping.none)
      birthday = { role: 'listener', target: publicEndpoint };
  }
  return { targets, birthday, isHopeless: false };
}

/** A global IPv6 address (not IPv4-mapped, not unique-local or link-local). */
export function isPublicIpv6(host: string): boolean {
  return isIpv6(host) && isPublicHost(host);
}
