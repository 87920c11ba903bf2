/**
 * The order a friend's endpoints are dialled in (SessionManager, issue 11 §6). IPv6 first where our socket can
 * send it (usually no NAT on the way), the rest DIAL_STAGGER_MS behind each other, as Happy Eyeballs (RFC 8305)
 * does; on an IPv4-only socket IPv6 endpoints cannot be sent to at all, so they are left out. Otherwise the given
 * order is kept (last known endpoints first, then the record's), duplicates dropped, at most `max`.
 */
import { isIpv6 } from '../../dht/index.ts';
import { addressKey, type UdpAddress } from '../../runtime/index.ts';

export function dialOrder(endpoints: readonly UdpAddress[], boundHost: string, max: number): UdpAddress[] {
  const canSendIpv6 = boundHost === '::' || isIpv6(boundHost);
  const usable = canSendIpv6 ? endpoints : endpoints.filter((a) => !isIpv6(a.host));
  const ordered = canSendIpv6
    ? [...usable.filter((a) => isIpv6(a.host)), ...usable.filter((a) => !isIpv6(a.host))]
    : usable;
  const out: UdpAddress[] = [];
  const seen = new Set<string>();
  for (const address of ordered) {
    const key = addressKey(address);
    if (seen.has(key) || out.length >= max) continue;
    seen.add(key);
    out.push({ host: address.host, port: address.port });
  }
  return out;
}
