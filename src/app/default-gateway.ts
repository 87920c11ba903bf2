/**
 * The default IPv4 gateway and our address towards it — the one router port mapping may ask. Read from Linux's
 * /proc/net/route (per network namespace, so a daemon in a lab namespace sees its own); elsewhere there is none
 * and port mapping stays off.
 *
 *   Iface  Destination  Gateway   Flags  RefCnt  Use  Metric  Mask      ...
 *   eth0   00000000     0101A8C0  0003   0       0    100     00000000  ...
 *
 * Addresses are the kernel's 32-bit values printed in host byte order: 0101A8C0 is 192.168.1.1 on a
 * little-endian machine.
 */
import { readFileSync } from 'node:fs';
import { endianness, type NetworkInterfaceInfo, networkInterfaces } from 'node:os';

export interface DefaultGateway {
  gateway: string;
  interfaceName: string;
  /** Our IPv4 address on that interface (in the gateway's subnet when one is). */
  localHost: string;
}

const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;

/** Default routes via a gateway, lowest metric first. */
export function parseDefaultRoutes(
  table: string,
  isLittleEndian: boolean = endianness() === 'LE',
): Array<{ interfaceName: string; gateway: string; metric: number }> {
  const routes: Array<{ interfaceName: string; gateway: string; metric: number }> = [];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const [interfaceName, destination, gateway, flags, , , metric, mask] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (![destination, gateway, flags, mask].every((f) => /^[0-9A-Fa-f]{1,8}$/.test(f))) continue;
    const flagBits = Number.parseInt(flags, 16);
    const isDefault = Number.parseInt(destination, 16) === 0 && Number.parseInt(mask, 16) === 0;
    if (!isDefault || (flagBits & (RTF_UP | RTF_GATEWAY)) !== (RTF_UP | RTF_GATEWAY)) continue;
    const value = Number.parseInt(gateway, 16);
    if (value === 0) continue;
    const bytes = Buffer.alloc(4);
    if (isLittleEndian) bytes.writeUInt32LE(value);
    else bytes.writeUInt32BE(value);
    routes.push({ interfaceName, gateway: bytes.join('.'), metric: Number(metric) || 0 });
  }
  return routes.sort((a, b) => a.metric - b.metric);
}

/** Our IPv4 address on `interfaceName`, preferring one in the gateway's subnet. */
export function localAddressTowards(
  gateway: string,
  interfaceName: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string | undefined {
  const candidates = (interfaces[interfaceName] ?? []).filter((a) => a.family === 'IPv4' && !a.internal);
  const inSubnet = candidates.find((a) => sameSubnet(a.address, gateway, a.netmask));
  return (inSubnet ?? candidates[0])?.address;
}

/** The default gateway, or undefined (no default route, not Linux, no IPv4 address on its interface). */
export function findDefaultGateway(): DefaultGateway | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/net/route', 'utf8');
  } catch {
    return undefined;
  }
  for (const route of parseDefaultRoutes(table)) {
    const localHost = localAddressTowards(route.gateway, route.interfaceName);
    if (localHost !== undefined)
      return { gateway: route.gateway, interfaceName: route.interfaceName, localHost };
  }
  return undefined;
}

function sameSubnet(a: string, b: string, netmask: string): boolean {
  const [x, y, m] = [a, b, netmask].map((h) => h.split('.').map(Number));
  if (x?.length !== 4 || y?.length !== 4 || m?.length !== 4) return false;
  return x.every((octet, i) => (octet & m[i]!) === (y[i]! & m[i]!));
}
