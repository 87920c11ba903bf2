/**
 * Which address families a DhtNode speaks, from the sockets it was given (when the caller did not say).
 */
import type { DatagramTransport } from '../runtime/index.ts';
import { familyOf } from './address-class.ts';

/** Families a node on these transports speaks: '::' → both; an IPv6 host → 6; otherwise 4 (+6 with transport6). */
export function familiesOf(
  transport: DatagramTransport,
  transport6: DatagramTransport | undefined,
): (4 | 6)[] {
  const host = transport.localAddress().host;
  const families = new Set<4 | 6>();
  if (host === '::') {
    families.add(4);
    families.add(6);
  } else families.add(familyOf(host));
  if (transport6 !== undefined) families.add(6);
  return [...families].sort();
}
