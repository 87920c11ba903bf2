/**
 * A small NAT'd Internet in network namespaces, for nat-punch.test.ts (root only). Everything lives in
 * namespaces this file creates (names carry the test's pid) and uses private addresses only; the host's own
 * network configuration is never touched (links are created and moved at once, `ip -n` for the rest).
 *
 *   public  10.200.0.1/24 on bridge br0  ── the DHT nodes (introducers among them)
 *     ├─ router A  10.200.0.2 │ MASQUERADE │ 192.168.101.1 ── alice 192.168.101.2
 *     └─ router B  10.200.0.3 │ MASQUERADE │ 192.168.102.1 ── bob   192.168.102.2
 *
 * Each router is a Linux NAT (iptables MASQUERADE): endpoint-independent mapping (the source port is kept),
 * filtering by conntrack — only packets answering a flow the inside started get in (address- and
 * port-dependent filtering).
 */
import { execFileSync, spawnSync } from 'node:child_process';

export const PUBLIC_HOST = '10.200.0.1';
export const ROUTER_A = '10.200.0.2';
export const ROUTER_B = '10.200.0.3';

export interface NatTopology {
  readonly public: string;
  readonly routerA: string;
  readonly routerB: string;
  readonly alice: string;
  readonly bob: string;
  /** Kills what still runs in the namespaces (processes the test started there) and deletes them. */
  destroy(): void;
}

/** Why the test cannot run here (not root, tools missing), or undefined. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces and iptables)';
  for (const tool of ['ip', 'iptables']) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (r.status !== 0) return `needs \`${tool}\` (apt-get install iproute2 iptables)`;
  }
  return undefined;
}

function run(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

function inNs(ns: string, command: string, args: string[]): void {
  execFileSync('ip', ['netns', 'exec', ns, command, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 10_000,
  });
}

const OUR_NAMES = /^dc(\d+)(p|ra|rb|a|b)$/;

/** Namespaces an earlier run left behind when it was killed (its pid is gone): deleted before we start. */
function removeStaleNamespaces(): void {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  for (const name of listed.split('\n').map((l) => l.split(' ')[0] ?? '')) {
    const pid = OUR_NAMES.exec(name)?.[1];
    if (pid === undefined || isAlive(Number(pid))) continue;
    killInside(name);
    spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: 10_000 });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills the processes running in a namespace of ours (only ever ones a test run started there). */
function killInside(ns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** tag: `dc<pid>` (namespaces `dc<pid>p`, `…ra`, `…rb`, `…a`, `…b`). */
export function createNatTopology(tag: string): NatTopology {
  removeStaleNamespaces();
  const names = {
    public: `${tag}p`,
    routerA: `${tag}ra`,
    routerB: `${tag}rb`,
    alice: `${tag}a`,
    bob: `${tag}b`,
  };
  const created: string[] = [];
  const destroy = (): void => {
    for (const ns of created) {
      killInside(ns);
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 });
    }
    created.length = 0;
  };
  try {
    for (const ns of Object.values(names)) {
      run(['netns', 'add', ns]);
      created.push(ns);
      run(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    run(['-n', names.public, 'link', 'add', 'br0', 'type', 'bridge']);
    run(['-n', names.public, 'addr', 'add', `${PUBLIC_HOST}/24`, 'dev', 'br0']);
    run(['-n', names.public, 'link', 'set', 'br0', 'up']);
    const side = (router: string, host: string, routerPublic: string, lan: string, letter: string): void => {
      // A veth pair is created directly inside the namespaces (never in the host's).
      const up = `up${letter}`;
      run([
        '-n',
        names.public,
        'link',
        'add',
        `pub${letter}`,
        'type',
        'veth',
        'peer',
        'name',
        up,
        'netns',
        router,
      ]);
      run(['-n', names.public, 'link', 'set', `pub${letter}`, 'master', 'br0', 'up']);
      run(['-n', router, 'addr', 'add', `${routerPublic}/24`, 'dev', up]);
      run(['-n', router, 'link', 'set', up, 'up']);
      run(['-n', router, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host]);
      run(['-n', router, 'addr', 'add', `${lan}.1/24`, 'dev', 'lan0']);
      run(['-n', router, 'link', 'set', 'lan0', 'up']);
      run(['-n', host, 'addr', 'add', `${lan}.2/24`, 'dev', 'eth0']);
      run(['-n', host, 'link', 'set', 'eth0', 'up']);
      run(['-n', host, 'route', 'add', 'default', 'via', `${lan}.1`]);
      inNs(router, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
      inNs(router, 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', up, '-j', 'MASQUERADE']);
      // The router's own firewall, as on any home router: nothing unsolicited from the WAN side is delivered
      // to the router itself. (Without it, a punch packet arriving first would be delivered locally and its
      // conntrack entry would make the NAT pick another port for our answer — see ARCHITECTURE.md.)
      inNs(router, 'iptables', [
        '-A',
        'INPUT',
        '-i',
        up,
        '-m',
        'conntrack',
        '--ctstate',
        'NEW',
        '-j',
        'DROP',
      ]);
    };
    side(names.routerA, names.alice, ROUTER_A, '192.168.101', 'a');
    side(names.routerB, names.bob, ROUTER_B, '192.168.102', 'b');
  } catch (error) {
    destroy();
    throw error;
  }
  return { ...names, destroy };
}
