/**
 * Parsers for command-line values, shared by every command group (dht, bootstrap). Each parser throws commander's
 * InvalidArgumentError, so a bad value becomes a one-line usage error (exit code 2) naming the option; DNS names
 * in host:port lists are kept as written and resolved later by resolveHostPorts().
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { InvalidArgumentError } from 'commander';
import type { UdpAddress } from '../runtime/index.ts';
import { DhtchatError } from '../runtime/index.ts';

/** A host:port as typed: host may be an IPv4/IPv6 literal or a DNS name not yet resolved. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** A port 1-65535 (or 0 when allowZero, meaning "any free port"). */
export function parsePort(text: string, allowZero = false): number {
  if (!/^\d{1,5}$/.test(text)) throw new InvalidArgumentError(`"${text}" is not a port number.`);
  const port = Number(text);
  if (port > 65535 || (port === 0 && !allowZero)) {
    throw new InvalidArgumentError(`port ${text} is out of range (${allowZero ? 0 : 1}-65535).`);
  }
  return port;
}

/** "1.2.3.4:6881", "[::1]:6881" or "router.example.org:6881". */
export function parseHostPort(text: string): HostPort {
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed);
  if (bracketed !== null) {
    const host = bracketed[1] as string;
    if (isIP(host) !== 6)
      throw new InvalidArgumentError(`"${text}" is not host:port ("${host}" is not IPv6).`);
    return { host: host.toLowerCase(), port: parsePortIn(bracketed[2] as string, text) };
  }
  const colon = trimmed.lastIndexOf(':');
  if (colon <= 0) throw new InvalidArgumentError(`"${text}" is not host:port.`);
  const host = trimmed.slice(0, colon);
  if (host.includes(':'))
    throw new InvalidArgumentError(`"${text}" is not host:port (write IPv6 as [addr]:port).`);
  if (isIP(host) === 0 && !HOSTNAME.test(host)) {
    throw new InvalidArgumentError(`"${text}" is not host:port ("${host}" is not a host name or address).`);
  }
  return { host: host.toLowerCase(), port: parsePortIn(trimmed.slice(colon + 1), text) };
}

function parsePortIn(portText: string, whole: string): number {
  try {
    return parsePort(portText);
  } catch {
    throw new InvalidArgumentError(`"${whole}" is not host:port (bad port "${portText}").`);
  }
}

/** A comma-separated host:port list (at least one entry). */
export function parseHostPortList(text: string): HostPort[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new InvalidArgumentError('expected at least one host:port.');
  return parts.map(parseHostPort);
}

/** A hex string of exactly `bytes` bytes (20 for node ids, info-hashes and BEP 44 targets). */
export function parseHex(text: string, bytes: number, what = 'value'): Buffer {
  if (!/^[0-9a-f]*$/i.test(text) || text.length !== bytes * 2) {
    throw new InvalidArgumentError(`${what} must be ${bytes * 2} hex characters, got "${text}".`);
  }
  return Buffer.from(text, 'hex');
}

/** A 20-byte id (node id, info-hash, item target) as 40 hex characters. */
export function parseId20(text: string): Buffer {
  return parseHex(text, 20, 'id');
}

/** A non-negative safe integer. */
export function parseNonNegativeInt(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError(`"${text}" is not a non-negative integer.`);
  }
  return Number(text);
}

const DURATION_UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "250ms", "30s", "15m", "2h", "1d" or bare milliseconds ("1500"). */
export function parseDurationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (match === null)
    throw new InvalidArgumentError(`"${text}" is not a duration (e.g. 500ms, 30s, 15m, 2h).`);
  const unit = (match[2] ?? 'ms') as keyof typeof DURATION_UNIT_MS;
  const ms = Math.round(Number(match[1]) * DURATION_UNIT_MS[unit]);
  if (!Number.isSafeInteger(ms)) throw new InvalidArgumentError(`duration "${text}" is too long.`);
  return ms;
}

/**
 * Resolves DNS names with node:dns (IP literals pass through). Names that do not resolve are skipped and reported
 * through onSkip; if nothing resolves, throws APP_NO_ADDRESS saying, in words, why each name failed.
 */
export async function resolveHostPorts(
  list: readonly HostPort[],
  onSkip: (entry: HostPort, error: unknown) => void = () => {},
): Promise<UdpAddress[]> {
  /** Why each entry failed, in list order (lookups finish in any order). */
  const failures: Array<{ host: string; why: string } | undefined> = list.map(() => undefined);
  const resolved = await Promise.all(
    list.map(async (entry, i): Promise<UdpAddress[]> => {
      if (isIP(entry.host) !== 0) return [{ host: entry.host, port: entry.port }];
      try {
        const found = await lookup(entry.host, { all: true });
        return found.map((a) => ({ host: a.address.toLowerCase(), port: entry.port }));
      } catch (error) {
        failures[i] = { host: entry.host, why: dnsFailureText(error) };
        onSkip(entry, error);
        return [];
      }
    }),
  );
  const flat = resolved.flat();
  if (flat.length === 0) {
    // Grouped by cause: "a, b: name not found (a typo, or no network?)".
    const hostsByWhy = new Map<string, string[]>();
    for (const failure of failures) {
      if (failure === undefined) continue;
      hostsByWhy.set(failure.why, [...(hostsByWhy.get(failure.why) ?? []), failure.host]);
    }
    const text = [...hostsByWhy].map(([why, hosts]) => `${hosts.join(', ')}: ${why}`).join('; ');
    throw new DhtchatError('APP_NO_ADDRESS', text === '' ? 'no address given' : text);
  }
  return flat;
}

/** Why a DNS lookup failed, in words a user can act on (the resolver's codes are getaddrinfo's). */
export function dnsFailureText(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'ENOTFOUND':
    case 'ENODATA':
      return 'name not found (a typo, or no network?)';
    case 'EAI_AGAIN':
    case 'ETIMEOUT':
    case 'ECONNREFUSED':
      return 'DNS did not answer (no network?)';
    default:
      return typeof code === 'string' ? `DNS lookup failed (${code})` : String(error);
  }
}
