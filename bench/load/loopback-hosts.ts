/**
 * The addresses a load tool may use: targets and sources in 127.0.0.0/8 only, so a benchmark can never aim at
 * another machine. Sources are written as one address or a range ("127.0.0.2-127.0.0.17").
 */
import { isIPv4 } from 'node:net';

/** At most this many source addresses in one range. */
export const MAX_SOURCE_HOSTS = 256;

/** True for an IPv4 address in 127.0.0.0/8. */
export function isLoopbackIpv4(host: string): boolean {
  return isIPv4(host) && host.startsWith('127.');
}

/** "127.0.0.1:6881" → host and port; throws on anything else, or on a host outside 127/8. */
export function parseLoopbackTarget(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon);
  const port = Number(text.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`target is HOST:PORT: ${text}`);
  }
  if (!isLoopbackIpv4(host)) throw new Error(`the target must be in 127.0.0.0/8: ${text}`);
  return { host, port };
}

/** "127.0.0.2-127.0.0.17" (or one address) → every address of the range, all in 127/8. */
export function expandLoopbackRange(spec: string): string[] {
  const [first, last = first] = spec.split('-') as [string, string?];
  if (!isLoopbackIpv4(first) || !isLoopbackIpv4(last))
    throw new Error(`sources must be in 127.0.0.0/8: ${spec}`);
  const low = ipv4Number(first);
  const high = ipv4Number(last);
  if (high < low || high - low >= MAX_SOURCE_HOSTS) {
    throw new Error(`sources: a range of 1 to ${MAX_SOURCE_HOSTS} addresses: ${spec}`);
  }
  return Array.from({ length: high - low + 1 }, (_, i) => ipv4Text(low + i));
}

function ipv4Number(host: string): number {
  return host.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

function ipv4Text(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
