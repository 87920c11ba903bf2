/**
 * `dhtchat testnet [--nodes N] [--port P] [--host H] [--json]`: a whole DHT in one process, for trying the chat
 * without the Internet. A bootstrap DhtNode on H:P plus N DhtNodes on H (default 127.0.0.1), all allowPrivate.
 * Prints {"bootstrap":"H:P"} (or a readable line) once the network is formed; runs until SIGINT/SIGTERM.
 * `--host` lets another network namespace reach it (the NAT lab runs one on its "Internet" address in
 * 198.18.0.0/15, which `--allow-private` admits).
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
  host: string;
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
      '--host <H>',
      'IP address every node binds (another network namespace can reach a non-loopback one)',
      parseHostIp,
      DEFAULT_HOST,
    )
    .option('--json', 'print {"bootstrap":"H:P"}')
    .action(async (flags: TestnetFlags) => {
      const members = await formTestnet(flags.nodes, flags.port, flags.host);
      const bootstrap = formatAddress((members[0] as Member).transport.localAddress());
      if (flags.json) process.stdout.write(`${JSON.stringify({ bootstrap })}\n`);
      else {
        process.stdout.write(
          `testnet: ${members.length - 1} DHT nodes on ${flags.host}, bootstrap ${bootstrap}\n` +
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

/** The bootstrap node first, then the others in batches; resolves when every node has joined. */
export async function formTestnet(count: number, port: number, host = DEFAULT_HOST): Promise<Member[]> {
  const { DhtNode } = await import('../dht/index.ts');
  const spawn = async (bindPort: number, bootstrap: UdpAddress[]): Promise<Member> => {
    const transport = await UdpTransport.bind({ host, port: bindPort, bufferBytes: 1 << 20 });
    const node = new DhtNode({
      transport,
      clock: systemClock,
      random: cryptoRandom,
      logger: nullLogger,
      bootstrap,
      allowPrivate: true,
    });
    return { node, transport };
  };
  const first = await spawn(port, []).catch((cause: unknown) => {
    throw new DhtchatError('APP_TESTNET_BIND', `cannot bind UDP ${formatAddress({ host, port })}`, { cause });
  });
  await quietly(first.node.start()); // Nobody to ask yet.
  const entry = [first.transport.localAddress()];
  const rest: Member[] = [];
  for (let i = 0; i < count; i++) rest.push(await spawn(0, entry));
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

/** An IP literal: every node binds it, and the bootstrap address printed must be dialable as it is. */
function parseHostIp(text: string): string {
  if (isIP(text) === 0) throw new InvalidArgumentError(`--host must be an IP address, got "${text}".`);
  return text;
}

function parseNodeCount(text: string): number {
  const n = parseNonNegativeInt(text);
  if (n < 1 || n > MAX_NODES) {
    throw new InvalidArgumentError(`--nodes must be from 1 to ${MAX_NODES}, got "${text}".`);
  }
  return n;
}
