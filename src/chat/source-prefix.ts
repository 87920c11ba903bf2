/**
 * The network a source address belongs to, for limits that one machine must not dodge by changing its address
 * a little: an IPv4 /24 or an IPv6 /64 (one home network or one customer's delegation, usually). Limits are then
 * taken per host and per prefix, so a laptop cycling through the addresses of its /64 or a small block of IPv4
 * addresses still spends one budget.
 */
import { hostToBytes } from '../wire/index.ts';

/** "a.b.c/24" or the first 8 bytes of an IPv6 address in hex "/64"; an unparsable host stands alone. */
export function sourcePrefix(host: string): string {
  const bytes = hostToBytes(host);
  if (bytes === undefined) return host;
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}/24`;
  return `${bytes.subarray(0, 8).toString('hex')}/64`;
}
