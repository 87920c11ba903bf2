/**
 * The NAT lab: an "Internet" network namespace and the sites (routers and hosts) a declarative description asks
 * for. All addresses are in the benchmarking range 198.18.0.0/15 (RFC 2544: never on the real Internet, and what
 * `--allow-private` admits) or private; no host interface, route or firewall rule is touched.
 *
 *   nlab<pid>-<n>-inet: bridge br0, one L2 segment for the whole Internet (198.18.0.0/15, all on-link)
 *     198.18.0.1, 198.18.0.2        probe servers (probe-server.ts: RFC 4787 tests; STUN for miniupnpd)
 *     198.18.0.3                    spare for a volunteer relay
 *     198.18.i.10 (i = 1…N)         the DHT (internet.ts: libtorrent nodes, or a dhtchat testnet at 198.18.i.20)
 *     ├─ site 1: 198.19.1.1  (routers.ts: public host, or a router of some kind with its hosts behind it)
 *     ├─ site 2: 198.19.2.1  (and 2001:db8:2::1 when it has IPv6: the same wire, 2001:db8::/32 on-link)
 *     └─ …
 *
 * Lifetime: createLab() deletes namespaces left by dead runs first; lab.close() (after(), failure or not) stops
 * what runs inside and deletes every namespace; a process exit or SIGINT/SIGTERM destroys every lab still open.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSite, type LabHost, type LabSite, type SiteKind } from './routers.ts';
import { addNamespace, deleteNamespace, ip, NAMESPACE_PREFIX, removeStaleNamespaces } from './netns.ts';
import { type NsProcess, type SpawnOptions, spawnInNs } from './processes.ts';
import { quietBridge } from './routers.ts';

export const INTERNET = {
  prefixLength: 15,
  probeA: '198.18.0.1',
  probeB: '198.18.0.2',
  relay: '198.18.0.3',
  /** The i-th DHT node's address (i from 0): one /24 each, as distinct as real nodes' networks. */
  dhtNode: (i: number): string => `198.18.${i + 1}.10`,
  /** The i-th node of a dhtchat testnet (the variant Internet). */
  testnetNode: (i: number): string => `198.18.${i + 1}.20`,
} as const;

/** The most DHT nodes a lab Internet holds (one /24 each within 198.18.0.0/16). */
export const MAX_INTERNET_NODES = 250;

export interface SiteSpec {
  readonly kind: SiteKind;
  /** The users who sit there: one, or several for same-nat. Names are unique in the lab. */
  readonly users: readonly string[];
  /** same-nat: does the router hairpin (default false)? */
  readonly hasHairpin?: boolean;
  /** Also IPv6 (routers.ts: public addresses in 2001:db8::/32, a stateful firewall and no NAT; default false). */
  readonly hasIpv6?: boolean;
}

export interface LabSpec {
  readonly sites: readonly SiteSpec[];
  /** How many DHT node addresses the Internet gets (default 16). */
  readonly internetNodes?: number;
}

export interface Lab {
  readonly internetNs: string;
  readonly sites: readonly LabSite[];
  host(user: string): LabHost;
  siteOf(user: string): LabSite;
  /** Starts a process in ns; the lab stops it on close(). */
  spawn(name: string, ns: string, command: string, args: readonly string[], opts?: SpawnOptions): NsProcess;
  readonly processes: readonly NsProcess[];
  /** A fresh temp dir (for a router daemon's files) that the lab deletes with its namespaces. */
  tempDir(name: string): string;
  /** Stops every process (SIGTERM, then SIGKILL) and deletes every namespace. Idempotent. */
  close(): Promise<void>;
}

const openLabs = new Set<{ destroy(): void }>();
let labCount = 0;
let isExitHookInstalled = false;

export function createLab(spec: LabSpec): Lab {
  installExitHook();
  removeStaleNamespaces();
  const prefix = `${NAMESPACE_PREFIX}${process.pid}-${labCount++}-`;
  const namespaces: string[] = [];
  const processes: NsProcess[] = [];
  const dirs: string[] = [];
  const own = (ns: string): string => {
    namespaces.push(ns);
    return ns;
  };
  const destroy = (): void => {
    for (const p of processes) if (p.isRunning()) p.child.kill('SIGKILL');
    for (const ns of namespaces.splice(0).reverse()) deleteNamespace(ns);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    openLabs.delete(handle);
  };
  const handle = { destroy };
  openLabs.add(handle);
  try {
    const internetNs = own(`${prefix}inet`);
    buildInternet(internetNs, spec.internetNodes ?? 16);
    const sites = spec.sites.map((site, i) =>
      buildSite(site.kind, {
        prefix,
        internetNs,
        index: i + 1,
        users: site.users,
        hasHairpin: site.hasHairpin ?? false,
        hasIpv6: site.hasIpv6 ?? false,
        own,
      }),
    );
    const hosts = new Map<string, { host: LabHost; site: LabSite }>();
    for (const site of sites) for (const host of site.hosts) hosts.set(host.name, { host, site });
    const find = (user: string): { host: LabHost; site: LabSite } => {
      const found = hosts.get(user);
      if (found === undefined) throw new Error(`no user ${user} in the lab`);
      return found;
    };
    let isClosed = false;
    return {
      internetNs,
      sites,
      host: (user) => find(user).host,
      siteOf: (user) => find(user).site,
      processes,
      tempDir(name) {
        const dir = mkdtempSync(join(tmpdir(), `dhtchat-lab-${name}-`));
        dirs.push(dir);
        return dir;
      },
      spawn(name, ns, command, args, opts) {
        const proc = spawnInNs(name, ns, command, args, opts);
        processes.push(proc);
        return proc;
      },
      async close() {
        if (isClosed) return;
        isClosed = true;
        await Promise.all(processes.map((p) => p.stop()));
        destroy();
      },
    };
  } catch (error) {
    destroy();
    throw error;
  }
}

function buildInternet(ns: string, nodeCount: number): void {
  if (nodeCount < 1 || nodeCount > MAX_INTERNET_NODES)
    throw new Error(`internetNodes: 1-${MAX_INTERNET_NODES}`);
  addNamespace(ns);
  ip(['-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
  ip(['-n', ns, 'link', 'set', 'br0', 'up']);
  quietBridge(ns);
  const addresses: string[] = [INTERNET.probeA, INTERNET.probeB, INTERNET.relay];
  for (let i = 0; i < nodeCount; i++) addresses.push(INTERNET.dhtNode(i), INTERNET.testnetNode(i));
  for (const address of addresses) {
    ip(['-n', ns, 'addr', 'add', `${address}/${INTERNET.prefixLength}`, 'dev', 'br0']);
  }
}

/**
 * On exit (normal or after an uncaught error), SIGINT or SIGTERM: every lab still open is destroyed
 * synchronously, so an interrupted run leaves no namespace and no process behind.
 */
function installExitHook(): void {
  if (isExitHookInstalled) return;
  isExitHookInstalled = true;
  const destroyAll = (): void => {
    for (const lab of [...openLabs]) lab.destroy();
  };
  process.on('exit', destroyAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      destroyAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}
