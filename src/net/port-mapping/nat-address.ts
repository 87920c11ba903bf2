/**
 * Which IPv4 addresses say "a NAT is in the way": the ones a home or carrier NAT hands out inside — RFC 1918
 * private space and RFC 6598 shared address space (100.64.0.0/10, carrier-grade NAT). A host whose own address
 * is one of them may ask its gateway for a mapping; a mapping whose external address is one of them (or another
 * address nobody outside can reach) is useless, as the gateway is itself behind another NAT.
 *
 * Everything else counts as outside, including 198.18.0.0/15 (RFC 2544 benchmarking): the NAT lab's "Internet"
 * uses it, and on the real Internet it never appears, so treating it as public costs nothing there.
 */
import { ipv4ToBytes } from '../../wire/index.ts';

/** True when host is an IPv4 address of a NAT's inside: 10/8, 172.16/12, 192.168/16, 100.64/10. */
export function isNatInsideHost(host: string): boolean {
  const b = ipv4ToBytes(host);
  if (b === undefined) return false;
  const [first, second] = [b[0]!, b[1]!];
  return (
    first === 10 ||
    (first === 172 && second >= 16 && second < 32) ||
    (first === 192 && second === 168) ||
    (first === 100 && second >= 64 && second < 128)
  );
}

/**
 * True when host is an IPv4 address others can send to from outside: not a NAT's inside, loopback (127/8),
 * link-local (169.254/16), "this network" (0/8), multicast or reserved (224/3).
 */
export function isReachableExternalHost(host: string): boolean {
  const b = ipv4ToBytes(host);
  if (b === undefined || isNatInsideHost(host)) return false;
  const [first, second] = [b[0]!, b[1]!];
  return first !== 0 && first !== 127 && first < 224 && !(first === 169 && second === 254);
}
