/**
 * What a NAT is, in RFC 4787's terms, from what probe-client.ts observed. Pure: the lab's classification test
 * runs the probes in namespaces, nat-classification.test.ts checks these rules without any.
 *
 * Mapping (RFC 4787 §4.1), from one local socket to three server endpoints — A1, A2 (A's address, another port)
 * and B1 (another address):
 *   none                        every mapped endpoint is the local one (no NAT)
 *   endpoint-independent        one mapped endpoint for all three
 *   address-dependent           A1 and A2 share one, B1 another
 *   address-and-port-dependent  A1 and A2 differ too
 * Filtering (§5), from a fresh socket that sent only to A1, asking for a packet from B (other address) and one
 * from A2 (same address, other port); `received` only counts once A1's ack proved the request got through:
 *   endpoint-independent        B's packet gets in
 *   address-dependent           only A2's
 *   address-and-port-dependent  neither
 */

export type MappingClass =
  | 'none'
  | 'endpoint-independent'
  | 'address-dependent'
  | 'address-and-port-dependent';
export type FilteringClass = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent';

export interface NatClassification {
  readonly mapping: MappingClass;
  readonly filtering: FilteringClass;
  /** The mapped port equals the local one (MASQUERADE keeps ports; fully-random does not). */
  readonly isPortPreserving: boolean;
  /** A packet to our own public mapping, sent from inside, comes back to us (RFC 4787 §6). */
  readonly hasHairpin: boolean;
}

export interface MappingObservation {
  /** The socket's own address (host:port as bound, with the host's interface address). */
  readonly local: string;
  readonly viaA1: string;
  readonly viaA2: string;
  readonly viaB1: string;
}

export function classifyMapping(o: MappingObservation): MappingClass {
  if (o.viaA1 === o.local && o.viaA2 === o.local && o.viaB1 === o.local) return 'none';
  if (o.viaA1 === o.viaA2 && o.viaA1 === o.viaB1) return 'endpoint-independent';
  if (o.viaA1 === o.viaA2) return 'address-dependent';
  return 'address-and-port-dependent';
}

export function classifyFiltering(received: { otherAddress: boolean; otherPort: boolean }): FilteringClass {
  if (received.otherAddress) return 'endpoint-independent';
  if (received.otherPort) return 'address-dependent';
  return 'address-and-port-dependent';
}

export function isPortPreserving(o: MappingObservation): boolean {
  return portOf(o.viaA1) === portOf(o.local);
}

function portOf(endpoint: string): string {
  return endpoint.slice(endpoint.lastIndexOf(':') + 1);
}
