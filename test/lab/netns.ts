/**
 * Network namespaces for the NAT lab: create, run a command inside, kill what runs there, delete. Root only.
 *
 *   host (never touched: no link, route, rule or sysctl of its own network is changed)
 *     ├─ nlab<pid>-inet   ┐
 *     ├─ nlab<pid>-r1     │ namespaces named after the test process's pid: a run killed before its cleanup
 *     └─ nlab<pid>-h1a …  ┘ leaves them behind, and the next lab deletes those whose pid is dead
 *
 * Links are created inside a namespace or directly between two of ours (`ip -n NS link add … netns OTHER`), so
 * nothing ever appears in the host's namespace, even for a moment. Every command is bounded in time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const NAMESPACE_PREFIX = 'nlab';
const STALE_NAME = new RegExp(`^${NAMESPACE_PREFIX}(\\d+)-`);
const COMMAND_TIMEOUT_MS = 15_000;
const TOOLS = [
  ['ip', 'iproute2'],
  ['nft', 'nftables'],
] as const;

/** Why the lab cannot run here (not root, a tool missing), or undefined. */
export function labUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux (network namespaces)';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  for (const [tool, pkg] of TOOLS) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (found.status !== 0) return `needs \`${tool}\` (apt-get install ${pkg})`;
  }
  return undefined;
}

/** Why the libtorrent Internet cannot run here, or undefined. */
export function libtorrentUnavailable(): string | undefined {
  if (!existsSync('/usr/bin/python3')) return 'needs /usr/bin/python3';
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import libtorrent'], { timeout: COMMAND_TIMEOUT_MS });
  return probe.status === 0 ? undefined : 'needs python3-libtorrent (apt-get install python3-libtorrent)';
}

/** Why miniupnpd cannot run here, or undefined. */
export function miniupnpdUnavailable(): string | undefined {
  return existsSync('/usr/sbin/miniupnpd')
    ? undefined
    : 'needs miniupnpd (apt-get install miniupnpd-nftables)';
}

/** `ip ARGS`; throws with ip's stderr on failure. */
export function ip(args: readonly string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: COMMAND_TIMEOUT_MS });
}

/** Runs command inside ns (stdin from input), returns its stdout; throws with its stderr on failure. */
export function execInNs(ns: string, command: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync('ip', ['netns', 'exec', ns, command, ...args], {
      encoding: 'utf8',
      input: input ?? '',
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: COMMAND_TIMEOUT_MS,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    throw new Error(`in ${ns}: ${command} ${args.join(' ')} failed: ${stderr.trim()}`, { cause: error });
  }
}

/** Adds a namespace with its loopback up. */
export function addNamespace(ns: string): void {
  ip(['netns', 'add', ns]);
  ip(['-n', ns, 'link', 'set', 'lo', 'up']);
}

/** Kills every process running in ns (only ever ones a lab started there), then deletes ns. Never throws. */
export function deleteNamespace(ns: string): void {
  killInside(ns);
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: COMMAND_TIMEOUT_MS });
}

export function killInside(ns: string): void {
  const listed = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
  for (const pid of (listed.stdout ?? '').split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Our namespaces whose creating process is gone (a run killed before its cleanup): deleted. */
export function removeStaleNamespaces(): string[] {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
  const removed: string[] = [];
  for (const name of (listed.stdout ?? '').split('\n').map((l) => l.split(' ')[0] ?? '')) {
    const pid = STALE_NAME.exec(name)?.[1];
    if (pid === undefined || isAlive(Number(pid))) continue;
    deleteNamespace(name);
    removed.push(name);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
