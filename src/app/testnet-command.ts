/**
 * `dhtchat testnet [--nodes N] [--port P] [--json]`: a whole DHT on loopback in one process, for trying the chat
 * without the Internet. A bootstrap DhtNode on 127.0.0.1:P plus N DhtNodes on 127.0.0.1, all allowPrivate.
 * Prints {"bootstrap":"127.0.0.1:P"} (or a readable line) once the network is formed; runs until SIGINT/SIGTERM.
 *
 * Why a DhtNode and not our bootstrap server (src/bootstrap) as the entry point: the server adds a requester to
 * what it hands out only after a delayed ping and a BEP 42 check, and answers only find_node-style queries; a
 * DhtNode answers a joining chat daemon's first find_node with its whole routing table (every testnet node, all
 * already verified) and also stores items and peers itself. One round trip and a daemon knows the network.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { DhtNode } from '../dht/index.ts';
import { cryptoRandom, nullLogger, systemClock, type UdpAddress, UdpTransport } from '../runtime/index.ts';
import { parseNonNegativeInt, parsePort } from './parse-args.ts';
import { untilStopSignal } from './stop-signal.ts';

const DEFAULT_NODES = 30;
const MAX_NODES = 1000;
/** Nodes joining at once: enough to be quick, few enough that the bootstrap node is not flooded. */
const START_CONCURRENCY = 8;

interface TestnetFlags {
  nodes: number;
  port: number;
  json?: boolean;
}

interface Member {
  readonly node: DhtNode;
  readonly transport: UdpTransport;
}

export function registerTestnetCommand(program: Command): void {
  program
    .command('testnet')
    .description('run a bootstrap node and N DHT nodes on 127.0.0.1 until SIGINT/SIGTERM')
    .option(
      '--nodes <N>',
      `DHT nodes besides the bootstrap node (1-${MAX_NODES})`,
      parseNodeCount,
      DEFAULT_NODES,
    )
    .option('--port <P>', 'UDP port of the bootstrap node (0: any free port)', (t) => parsePort(t, true), 0)
    .option('--json', 'print {"bootstrap":"127.0.0.1:P"}')
    .action(async (flags: TestnetFlags) => {
      const members = await formTestnet(flags.nodes, flags.port);
      const bootstrap = `127.0.0.1:${(members[0] as Member).transport.localAddress().port}`;
      if (flags.json) process.stdout.write(`${JSON.stringify({ bootstrap })}\n`);
      else {
        process.stdout.write(
          `testnet: ${members.length - 1} DHT nodes on 127.0.0.1, bootstrap ${bootstrap}\n` +
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
export async function formTestnet(count: number, port: number): Promise<Member[]> {
  const { DhtNode } = await import('../dht/index.ts');
  const spawn = async (bindPort: number, bootstrap: UdpAddress[]): Promise<Member> => {
    const transport = await UdpTransport.bind({ host: '127.0.0.1', port: bindPort, bufferBytes: 1 << 20 });
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
  const first = await spawn(port, []);
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

function parseNodeCount(text: string): number {
  const n = parseNonNegativeInt(text);
  if (n < 1 || n > MAX_NODES) {
    throw new InvalidArgumentError(`--nodes must be from 1 to ${MAX_NODES}, got "${text}".`);
  }
  return n;
}
