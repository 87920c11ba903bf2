/**
 * `dhtchat testnet [--nodes N] [--port P] [--host H[,H…]] [--json]`: a whole DHT in one process, for trying the
 * chat without the Internet. A bootstrap DhtNode on H:P plus N DhtNodes, all allowPrivate, bound to the hosts in
 * turn (default 127.0.0.1). Prints {"bootstrap":"H:P"} (or a readable line) once the network is formed; runs
 * until SIGINT/SIGTERM.
 * `--host` lets another network namespace reach it. Several hosts matter off loopback: on loopback and private
 * addresses nodes sharing an IP are told apart by port, but on addresses that stand for public ones (the NAT
 * lab's 198.18.0.0/15) a node keeps one entry per IP and BEP 42 binds each id to its IP, as on the Internet, so
 * the lab gives every node an address of its own.
 *
 * Why a DhtNode and not our bootstrap server (src/bootstrap) as the entry point: the server adds a requester to
 * what it hands out only after a delayed ping and a BEP 42 check, and answers only find_node-style queries; a
 * DhtNode answers a joining chat daemon's first find_node with its whole routing table (every testnet node, all
 * already verified) and also stores items and peers itself. One round trip and a daemon knows the network.
 */
import { isIP } from 'node:net';
import { type Command, InvalidArgumentError } from 'commander';
import type { DhtNode } from '../dht/index.ts';
import {
  cryptoRandom,
  DhtchatError,
  formatAddress,
  nullLogger,
  systemClock,
  type UdpAddress,
  UdpTransport,
} from '../runtime/index.ts';
import { parseNonNegativeInt, parsePort } from './parse-args.ts';
import { untilStopSignal } from './stop-signal.ts';

const DEFAULT_NODES = 30;
const DEFAULT_HOST = '127.0.0.1';
const MAX_NODES = 1000;
/** Nodes joining at once: enough to be quick, few enough that the bootstrap node is not flooded. */
const START_CONCURRENCY = 8;

interface TestnetFlags {
  nodes: number;
  port: number;
  host: string[];
  json?: boolean;
}

interface Member {
  readonly node: DhtNode;
  readonly transport: UdpTransport;
}

export function registerTestnetCommand(program: Command): void {
  program
    .command('testnet')
    .description(
      'run a bootstrap node and N DHT nodes on one address (default 127.0.0.1) until SIGINT/SIGTERM',
    )
    .option(
      '--nodes <N>',
      `DHT nodes besides the bootstrap node (1-${MAX_NODES})`,
      parseNodeCount,
      DEFAULT_NODES,
    )
    .option('--port <P>', 'UDP port of the bootstrap node (0: any free port)', (t) => parsePort(t, true), 0)
    .option(
      '--host <H,...>',
      'IP addresses the nodes bind, in turn (another network namespace can reach non-loopback ones)',
      parseHostIps,
      [DEFAULT_HOST],
    )
    .option('--json', 'print {"bootstrap":"H:P"}')
    .action(async (flags: TestnetFlags) => {
      const members = await formTestnet(flags.nodes, flags.port, flags.host);
      const bootstrap = formatAddress((members[0] as Member).transport.localAddress());
      if (flags.json) process.stdout.write(`${JSON.stringify({ bootstrap })}\n`);
      else {
        process.stdout.write(
          `testnet: ${members.length - 1} DHT nodes on ${flags.host.join(', ')}, bootstrap ${bootstrap}\n` +
            `  dhtchat --data-dir D daemon --bootstrap ${bootstrap} --allow-private\n`,
        );
      }
      await untilStopSignal();
      for (const m of members) {
        m.node.close();
        m.transport.close();
      }
    });
}

/**
 * The bootstrap node first (on hosts[0]:port), then the others in batches, node i on hosts[i % hosts.length];
 * resolves when every node has joined.
 */
export async function formTestnet(
  count: number,
  port: number,
  hosts: readonly string[] = [DEFAULT_HOST],
): Promise<Member[]> {
  const { DhtNode, isBep42Exempt, nodeIdForHost } = await import('../dht/index.ts');
  const spawn = async (host: string, bindPort: number, bootstrap: UdpAddress[]): Promise<Member> => {
    const transport = await UdpTransport.bind({ host, port: bindPort, bufferBytes: 1 << 20 });
    const node = new DhtNode({
      transport,
      clock: systemClock,
      random: cryptoRandom,
      logger: nullLogger,
      bootstrap,
      allowPrivate: true,
      // Off loopback and private ranges BEP 42 applies: a node bound to its public address knows it and takes a
      // matching id at once, as libtorrent does (random ids would keep every node out of every table, so none
      // could ever collect the votes that re-key it).
      ...(isBep42Exempt(host) ? {} : { id: nodeIdForHost(host, cryptoRandom) }),
    });
    return { node, transport };
  };
  const hostOf = (i: number): string => hosts[i % hosts.length] ?? DEFAULT_HOST;
  const first = await spawn(hostOf(0), port, []).catch((cause: unknown) => {
    const host = hostOf(0);
    throw new DhtchatError('APP_TESTNET_BIND', `cannot bind UDP ${formatAddress({ host, port })}`, { cause });
  });
  await quietly(first.node.start()); // Nobody to ask yet.
  const entry = [first.transport.localAddress()];
  const rest: Member[] = [];
  for (let i = 1; i <= count; i++) {
    const host = hostOf(i);
    rest.push(
      await spawn(host, 0, entry).catch((cause: unknown) => {
        throw new DhtchatError('APP_TESTNET_BIND', `cannot bind UDP ${host}:0`, { cause });
      }),
    );
  }
  for (let i = 0; i < rest.length; i += START_CONCURRENCY) {
    await Promise.all(rest.slice(i, i + START_CONCURRENCY).map((m) => quietly(m.node.start())));
  }
  // Early joiners met only the bootstrap node and a few others; one more self-lookup each evens the tables out.
  const all = [first, ...rest];
  for (let i = 0; i < all.length; i += START_CONCURRENCY) {
    await Promise.all(all.slice(i, i + START_CONCURRENCY).map((m) => quietly(m.node.findNode(m.node.id))));
  }
  return all;
}

async function quietly(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch {
    // A node that found few others yet is still a member; the next maintenance round fills its table.
  }
}

/** IP literals, comma-separated: nodes bind them, and the bootstrap address printed must be dialable as it is. */
function parseHostIps(text: string): string[] {
  const hosts = text.split(',').map((h) => h.trim());
  for (const host of hosts) {
    if (isIP(host) === 0) throw new InvalidArgumentError(`--host must be IP addresses, got "${host}".`);
  }
  return hosts;
}

function parseNodeCount(text: string): number {
  const n = parseNonNegativeInt(text);
  if (n < 1 || n > MAX_NODES) {
    throw new InvalidArgumentError(`--nodes must be from 1 to ${MAX_NODES}, got "${text}".`);
  }
  return n;
}
