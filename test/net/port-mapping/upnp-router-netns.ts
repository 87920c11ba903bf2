/**
 * A home router running Debian's miniupnpd, in network namespaces, for miniupnpd-lab.test.ts (root only). All of
 * it lives in namespaces this file creates, named `pm<pid>i|r|h`, with addresses from the benchmarking range
 * 198.18.0.0/15 and a private LAN; the host's own network configuration is never touched (links are created
 * inside the namespaces, `ip -n` for the rest). Until the shared NAT lab (test/lab, branch natlab) is merged this
 * is port mapping's own minimal lab; its `upnp` router kind is meant to replace it.
 *
 *   internet  198.18.0.1/24 (wan0)   STUN responder :3478, the prober
 *      │
 *   router    198.18.0.2/24 (wan) │ nftables: masquerade, forward drop + miniupnpd's chain,  │ 192.168.77.1/24 (lan)
 *             │                   │ input from wan: only replies; miniupnpd on lan (UPnP IGD │
 *             │                   │ v2, NAT-PMP, PCP on 5351, SSDP on 1900, HTTP)            │
 *      │
 *   host      192.168.77.2/24 (eth0), default via 192.168.77.1
 *
 * miniupnpd refuses a WAN address in a reserved range (198.18.0.0/15 is one: "Port forwarding is impossible")
 * unless STUN says it is reachable, and 2.3.1 has no option to allow it. So it runs with `ext_perform_stun`
 * against a tiny STUN responder in the internet namespace that answers every binding request from its one
 * address: to miniupnpd that means "no NAT above me, nothing filtered", and it uses the address STUN reports
 * (its own WAN address) as the external one.
 *
 * The router counts, in a named nftables counter `portctl`, every packet from the LAN to its own PCP/NAT-PMP
 * port, to SSDP, and every TCP packet to it (UPnP's HTTP): "sends nothing" is read from there.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../helpers/cli-runner.ts';

export const INTERNET_HOST = '198.18.0.1';
export const ROUTER_WAN = '198.18.0.2';
export const ROUTER_LAN = '192.168.77.1';
export const HOST_LAN = '192.168.77.2';
const STUN_PORT = 3478;
const OUR_NAMES = /^pm(\d+)(i|r|h)$/;

/** Why the lab cannot run here, or undefined. */
export function upnpLabUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  for (const [tool, hint] of [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
    ['/usr/sbin/miniupnpd', 'miniupnpd-nftables'],
  ] as const) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `needs ${tool} (apt-get install ${hint})`;
  }
  return undefined;
}

export interface JsonLinesProcess {
  readonly lines: Array<Record<string, unknown>>;
  readonly child: ChildProcess;
  stderr(): string;
  waitFor(
    pred: (line: Record<string, unknown>) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<Record<string, unknown>>;
  send(text: string): void;
  stop(): Promise<void>;
}

export interface MiniupnpdOptions {
  /** NAT-PMP and PCP (one switch in miniupnpd: they share port 5351). Default on. */
  hasNatPmp?: boolean;
  /** UPnP IGD. Default on. */
  hasUpnp?: boolean;
  /** Describe itself as IGD v1 (WANIPConnection:1, no AddAnyPortMapping), as most home routers do. */
  isIgdV1?: boolean;
}

export interface UpnpLab {
  readonly internet: string;
  readonly router: string;
  readonly host: string;
  /** Starts miniupnpd in the router (stopping one already running); resolves once it listens. */
  startMiniupnpd(options?: MiniupnpdOptions): Promise<void>;
  stopMiniupnpd(): Promise<void>;
  miniupnpdLog(): string;
  /** Packets from the LAN to the router's port-control services so far (PCP/NAT-PMP, SSDP, HTTP). */
  portControlPackets(): number;
  /** The router's DNAT rules that miniupnpd added, as nft prints them. */
  forwardedRules(): string;
  /** `node <args>` inside a namespace, stdout read as JSON lines. */
  spawnNode(ns: string, args: readonly string[]): JsonLinesProcess;
  /** Sends `copies` UDP datagrams `text` from the internet namespace to host:port. */
  probe(host: string, port: number, text: string, copies?: number): void;
  destroy(): Promise<void>;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

function inNs(ns: string, command: string, args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, command, ...args], {
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 10_000,
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills what runs in a namespace of ours (only processes this lab started there). */
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

/** Namespaces an earlier run left behind when it was killed (its pid is gone). */
function removeStaleNamespaces(): void {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  for (const name of listed.split('\n').map((l) => l.split(' ')[0] ?? '')) {
    const pid = OUR_NAMES.exec(name)?.[1];
    if (pid === undefined || isAlive(Number(pid))) continue;
    killInside(name);
    spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: 10_000 });
  }
}

const ROUTER_RULES = `
table inet filter {
  counter portctl { }
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "lan" udp dport { 1900, 5351 } counter name "portctl"
    iifname "lan" meta l4proto tcp counter name "portctl"
    iifname "wan" ct state new drop
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan" oifname "wan" accept
    jump miniupnpd
  }
  chain miniupnpd { }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    oifname "wan" masquerade
  }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
}
`;

function miniupnpdConfig(dir: string, options: MiniupnpdOptions): string {
  const yesNo = (value: boolean | undefined): string => (value === false ? 'no' : 'yes');
  return [
    'ext_ifname=wan',
    'listening_ip=lan',
    'http_port=0',
    `enable_upnp=${yesNo(options.hasUpnp)}`,
    // NAT-PMP and PCP share this switch and port 5351.
    `enable_natpmp=${yesNo(options.hasNatPmp)}`,
    `force_igd_desc_v1=${options.isIgdV1 === true ? 'yes' : 'no'}`,
    'secure_mode=yes',
    'system_uptime=no',
    // Short lifetimes are what the lab asks for, to see renewals in seconds (the default floor is 120 s).
    'min_lifetime=2',
    'notify_interval=60',
    'clean_ruleset_interval=600',
    'uuid=3d2b5a77-0000-4000-8000-000000000001',
    `lease_file=${join(dir, 'leases')}`,
    'ext_perform_stun=yes',
    `ext_stun_host=${INTERNET_HOST}`,
    `ext_stun_port=${STUN_PORT}`,
    'allow 1024-65535 192.168.77.0/24 1024-65535',
    'deny 0-65535 0.0.0.0/0 0-65535',
    '',
  ].join('\n');
}

/** Answers every STUN binding request with the sender's address (XOR-MAPPED-ADDRESS), from one socket. */
const STUN_RESPONDER = `
const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => {
  if (m.length < 20 || m.readUInt16BE(0) !== 1) return;
  const out = Buffer.alloc(32);
  out.writeUInt16BE(0x0101, 0); out.writeUInt16BE(12, 2); m.copy(out, 4, 4, 20);
  out.writeUInt16BE(0x0020, 20); out.writeUInt16BE(8, 22); out[25] = 1;
  out.writeUInt16BE(r.port ^ 0x2112, 26);
  r.address.split('.').forEach((o, i) => { out[28 + i] = Number(o) ^ [0x21, 0x12, 0xa4, 0x42][i]; });
  s.send(out, r.port, r.address);
});
s.bind(${STUN_PORT}, '${INTERNET_HOST}', () => console.log(JSON.stringify({ event: 'ready' })));
`;

/** tag: `pm<pid>`. */
export async function createUpnpLab(tag: string): Promise<UpnpLab> {
  removeStaleNamespaces();
  const names = { internet: `${tag}i`, router: `${tag}r`, host: `${tag}h` };
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-upnp-lab-'));
  const created: string[] = [];
  const processes: JsonLinesProcess[] = [];
  let miniupnpd: { child: ChildProcess; log: string } | undefined;

  const spawnNode = (ns: string, args: readonly string[]): JsonLinesProcess => {
    const proc = spawnJsonLines(ns, args);
    processes.push(proc);
    return proc;
  };
  const stopMiniupnpd = async (): Promise<void> => {
    const running = miniupnpd;
    if (running === undefined || running.child.exitCode !== null || running.child.signalCode !== null) return;
    const exited = new Promise((resolve) => running.child.once('exit', resolve));
    running.child.kill('SIGTERM');
    const timer = setTimeout(() => running.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const destroy = async (): Promise<void> => {
    await Promise.all(processes.map((p) => p.stop()));
    await stopMiniupnpd();
    for (const ns of created) {
      killInside(ns);
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 });
    }
    created.length = 0;
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const ns of Object.values(names)) {
      ip(['netns', 'add', ns]);
      created.push(ns);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    ip([
      '-n',
      names.internet,
      'link',
      'add',
      'wan0',
      'type',
      'veth',
      'peer',
      'name',
      'wan',
      'netns',
      names.router,
    ]);
    ip(['-n', names.internet, 'addr', 'add', `${INTERNET_HOST}/24`, 'dev', 'wan0']);
    ip(['-n', names.internet, 'link', 'set', 'wan0', 'up']);
    ip(['-n', names.router, 'addr', 'add', `${ROUTER_WAN}/24`, 'dev', 'wan']);
    ip(['-n', names.router, 'link', 'set', 'wan', 'up']);
    ip([
      '-n',
      names.router,
      'link',
      'add',
      'lan',
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      names.host,
    ]);
    ip(['-n', names.router, 'addr', 'add', `${ROUTER_LAN}/24`, 'dev', 'lan']);
    ip(['-n', names.router, 'link', 'set', 'lan', 'up']);
    ip(['-n', names.host, 'addr', 'add', `${HOST_LAN}/24`, 'dev', 'eth0']);
    ip(['-n', names.host, 'link', 'set', 'eth0', 'up']);
    ip(['-n', names.host, 'route', 'add', 'default', 'via', ROUTER_LAN]);
    inNs(names.router, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    inNs(names.router, 'nft', ['-f', '-'], ROUTER_RULES);
    const stun = spawnNode(names.internet, ['-e', STUN_RESPONDER]);
    await stun.waitFor((l) => l['event'] === 'ready', 10_000, 'STUN responder');
  } catch (error) {
    await destroy();
    throw error;
  }

  return {
    ...names,
    async startMiniupnpd(options = {}) {
      await stopMiniupnpd();
      writeFileSync(join(dir, 'miniupnpd.conf'), miniupnpdConfig(dir, options));
      const child = spawn(
        'ip',
        [
          'netns',
          'exec',
          names.router,
          '/usr/sbin/miniupnpd',
          '-d',
          '-f',
          join(dir, 'miniupnpd.conf'),
          '-P',
          join(dir, 'miniupnpd.pid'),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const running = { child, log: '' };
      miniupnpd = running;
      const ready =
        options.hasNatPmp === false ? 'HTTP listening on port' : 'Listening for NAT-PMP/PCP traffic';
      const listening = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`miniupnpd did not start:\n${running.log}`)), 15_000);
        const onData = (d: Buffer): void => {
          running.log += d.toString();
          if (running.log.includes(ready)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.once('exit', () => {
          clearTimeout(timer);
          reject(new Error(`miniupnpd exited:\n${running.log}`));
        });
      });
      await listening;
      if (!running.log.includes('Port forwarding is now enabled')) {
        throw new Error(`miniupnpd will not forward ports:\n${running.log}`);
      }
    },
    stopMiniupnpd,
    miniupnpdLog: () => miniupnpd?.log ?? '',
    portControlPackets() {
      const listed = JSON.parse(
        inNs(names.router, 'nft', ['-j', 'list', 'counter', 'inet', 'filter', 'portctl']),
      );
      const counter = (listed.nftables as Array<{ counter?: { packets: number } }>).find((e) => e.counter);
      return counter?.counter?.packets ?? 0;
    },
    forwardedRules: () =>
      inNs(names.router, 'nft', ['list', 'chain', 'inet', 'filter', 'prerouting_miniupnpd']),
    spawnNode,
    probe(host, port, text, copies = 3) {
      const script =
        "const s = require('node:dgram').createSocket('udp4');" +
        `let n = ${copies}; const send = () => s.send(${JSON.stringify(text)}, ${port}, '${host}', () => ` +
        '(--n > 0 ? setTimeout(send, 20) : s.close())); send();';
      inNs(names.internet, process.execPath, ['-e', script]);
    },
    destroy,
  };
}

function spawnJsonLines(ns: string, args: readonly string[]): JsonLinesProcess {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const wakers = new Set<() => void>();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      lines.push({ unparsed: text });
    }
    for (const wake of [...wakers]) wake();
  });
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    lines,
    child,
    stderr: () => stderr,
    waitFor: (pred, timeoutMs, what) =>
      new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          wakers.delete(check);
        };
        const check = (): void => {
          const found = lines.find(pred);
          if (found !== undefined) {
            done();
            resolve(found);
          } else if (!isRunning()) {
            done();
            reject(new Error(`exited before ${what}: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${what} within ${timeoutMs} ms; lines: ${JSON.stringify(lines)}; ${stderr}`));
        }, timeoutMs);
        wakers.add(check);
        void exited.then(check);
        check();
      }),
    send: (text) => {
      if (isRunning()) child.stdin?.write(text);
    },
    async stop() {
      if (!isRunning()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
