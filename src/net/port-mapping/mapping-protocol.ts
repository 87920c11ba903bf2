/**
 * What the PortMapper asks of each way to get a mapping (PCP, NAT-PMP, UPnP IGD): map a UDP port (or renew the
 * mapping: the same call), and remove it. Every outcome is a value — a gateway that stays silent, refuses or
 * answers nonsense is remote input, never an exception.
 */
import type { UdpAddress } from '../../runtime/index.ts';
import { isReachableExternalHost } from './nat-address.ts';

export const MappingProtocolName = { pcp: 'pcp', natpmp: 'natpmp', upnp: 'upnp' } as const;
export type MappingProtocolName = (typeof MappingProtocolName)[keyof typeof MappingProtocolName];

export interface MapRequest {
  /** Our chat socket's port. */
  internalPort: number;
  /** What we ask for; the gateway grants what it likes. */
  lifetimeS: number;
  /** The external port to ask for: the internal one at first (keeps our DHT endpoint), the granted one after. */
  suggestedExternalPort: number;
}

export const MappingFailureReason = {
  /** Nothing answered (no server, or a firewall in the way). */
  noAnswer: 'no-answer',
  /** A server answered that it does not speak this protocol (version negotiation, no WAN connection service). */
  unsupported: 'unsupported',
  /** The server refused (not authorized, no resources, a UPnP fault); the detail says which code. */
  refused: 'refused',
  /** The answer made no sense (a success without a port, a lifetime of 0, an unusable control URL). */
  badAnswer: 'bad-answer',
  /** The mapping's external address is not reachable from outside (the gateway is behind another NAT). */
  notReachable: 'not-reachable',
} as const;
export type MappingFailureReason = (typeof MappingFailureReason)[keyof typeof MappingFailureReason];

export type MapOutcome =
  | {
      ok: true;
      external: UdpAddress;
      lifetimeS: number;
      /** The gateway's epoch went backwards since our last exchange: it restarted and had lost our mapping. */
      hasGatewayRestarted: boolean;
    }
  | { ok: false; reason: MappingFailureReason; detail?: string };

export interface MappingProtocol {
  readonly name: MappingProtocolName;
  /**
   * The gateway port its server listens on. PCP and NAT-PMP share 5351, and each protocol's server must answer
   * the other's requests with "unsupported version" (RFC 6887 §9, RFC 6886 §3.5): when one of them met silence
   * there, the other will too, and the PortMapper skips it in that round.
   */
  readonly serverPort: number;
  map(request: MapRequest): Promise<MapOutcome>;
  /** Removes the mapping; true when the gateway confirmed it. */
  unmap(mapping: { internalPort: number; externalPort: number }): Promise<boolean>;
}

/**
 * A gateway's "success" as an outcome: a grant without a port or a lifetime is nonsense, and a mapping on an
 * address the Internet cannot reach (the gateway sits behind another NAT) is no use to publish.
 */
export function grantedMapping(
  grant: { externalHost: string; externalPort: number; lifetimeS: number },
  hasGatewayRestarted: boolean,
): MapOutcome {
  if (grant.lifetimeS === 0 || grant.externalPort === 0) {
    return { ok: false, reason: MappingFailureReason.badAnswer, detail: 'a success without a mapping' };
  }
  if (!isReachableExternalHost(grant.externalHost)) {
    return { ok: false, reason: MappingFailureReason.notReachable, detail: grant.externalHost };
  }
  return {
    ok: true,
    external: { host: grant.externalHost, port: grant.externalPort },
    lifetimeS: grant.lifetimeS,
    hasGatewayRestarted,
  };
}
