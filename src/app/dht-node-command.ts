/**
 * `dhtchat dht node`: a long-running DHT node. Prints JSON log lines on stdout, the first being
 * {"event":"listening","host":..,"port":..,"id":..}. Saves its routing table in the data dir every minute and on
 * exit, and reloads it at start, so a restarted node rejoins without the bootstrap nodes. Stops on SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import type { DhtNode } from '../dht/index.ts';
import {
  cryptoRandom,
  jsonLinesLogger,
  type Logger,
  systemClock,
  type UdpAddress,
  UdpTransport,
  messageOf,
} from '../runtime/index.ts';
import {
  defaultDataDir,
  ensureDataDir,
  ROUTING_TABLE_FILE,
  ROUTING_TABLE_SAVE_INTERVAL_MS,
  readDataFile,
  writeDataFileAtomic,
} from './data-dir.ts';
import { DEFAULT_BOOTSTRAP_ROUTERS } from './default-routers.ts';
import {
  type HostPort,
  parseHostPortList,
  parseNonNegativeInt,
  parsePort,
  resolveHostPorts,
} from './parse-args.ts';

/** The Mainline DHT's customary port. */
const DEFAULT_PORT = 6881;
/** How often the node logs its counters. */
const STATS_INTERVAL_MS = 60_000;

interface NodeFlags {
  port: number;
  host: string;
  bootstrap?: HostPort[];
  dataDir?: string;
  allowPrivate?: boolean;
  rateLimit?: number;
}

export function registerDhtNodeCommand(dht: Command): void {
  dht
    .command('node')
    .description('run a DHT node until SIGINT/SIGTERM, logging JSON lines')
    .option('--port <P>', `UDP port (0: any free port)`, (text) => parsePort(text, true), DEFAULT_PORT)
    .option('--host <H>', 'address to bind', '0.0.0.0')
    .option(
      '--bootstrap <host:port,...>',
      'nodes to join through (default: the Mainline routers)',
      parseHostPortList,
    )
    .option('--data-dir <D>', 'where the routing table is kept (default: $XDG_DATA_HOME/dhtchat)')
    .option('--allow-private', 'accept and hand out loopback/private addresses (local test networks)')
    .option(
      '--rate-limit <N>',
      'incoming queries per second per source (0: no limit, for benchmarks; default: the node default)',
      parseNonNegativeInt,
    )
    .action(runNode);
}

function writeLine(line: string): void {
  process.stdout.write(line);
}

async function runNode(flags: NodeFlags): Promise<void> {
  // Everything logged before the listening line (bootstrap names that did not resolve, an unreadable saved
  // state) is held back and written right after it: the listening line must come first.
  const heldBack: string[] = [];
  let isListening = false;
  const logger = jsonLinesLogger((line) => (isListening ? writeLine(line) : heldBack.push(line)));
  const dataDir = flags.dataDir ?? defaultDataDir();
  await ensureDataDir(dataDir);
  const savedState = await readDataFile(dataDir, ROUTING_TABLE_FILE);
  const bootstrap = await resolveBootstrap(flags.bootstrap, logger);

  const { DhtNode } = await import('../dht/index.ts');
  const transport = await UdpTransport.bind({ host: flags.host, port: flags.port });
  const node = new DhtNode({
    transport,
    clock: systemClock,
    random: cryptoRandom,
    logger,
    bootstrap,
    allowPrivate: flags.allowPrivate ?? false,
    ...(savedState === undefined ? {} : { savedState }),
    ...(flags.rateLimit === undefined ? {} : { rateLimit: rateLimitOf(flags.rateLimit) }),
  });
  const save = async (): Promise<void> => {
    try {
      await writeDataFileAtomic(dataDir, ROUTING_TABLE_FILE, node.exportState());
    } catch (error) {
      logger.warn({ event: 'save_failed', error: messageOf(error) });
    }
  };
  const saveTimer = setInterval(() => void save(), ROUTING_TABLE_SAVE_INTERVAL_MS);
  const statsTimer = setInterval(() => logger.info({ event: 'stats', ...statsOf(node) }), STATS_INTERVAL_MS);

  // The command runs until a signal: the action's promise settles only then, after the state is saved.
  // The handlers are in place before the listening line, so a signal right after it is never fatal.
  let isStopping = false;
  let stopped: () => void = () => {};
  const untilStopped = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stop = async (signal: string): Promise<void> => {
    if (isStopping) process.exit(1); // a second signal: leave now
    isStopping = true;
    clearInterval(saveTimer);
    clearInterval(statsTimer);
    await save();
    node.close();
    transport.close();
    logger.info({ event: 'closed', signal, nodes: node.routingTableSize() });
    stopped();
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const local = transport.localAddress();
  writeLine(
    `${JSON.stringify({ event: 'listening', host: local.host, port: local.port, id: node.id.toString('hex') })}\n`,
  );
  isListening = true;
  for (const line of heldBack) writeLine(line);

  try {
    await node.start();
    logger.info({ event: 'bootstrapped', nodes: node.routingTableSize(), id: node.id.toString('hex') });
  } catch (error) {
    // The node keeps trying on its own (re-bootstrap timer); a lonely first node is normal in a new network.
    if (!isStopping)
      logger.warn({ event: 'bootstrap_failed', error: messageOf(error), nodes: node.routingTableSize() });
  }
  if (!isStopping) await save();
  await untilStopped;
}

async function resolveBootstrap(given: HostPort[] | undefined, logger: Logger): Promise<UdpAddress[]> {
  try {
    return await resolveHostPorts(given ?? DEFAULT_BOOTSTRAP_ROUTERS, (entry, error) =>
      logger.warn({ event: 'resolve_failed', host: entry.host, error: messageOf(error) }),
    );
  } catch (error) {
    // No bootstrap address at all: the node can still join from its saved table, or be found by others.
    logger.warn({ event: 'no_bootstrap', error: messageOf(error) });
    return [];
  }
}

/** --rate-limit N: N per second with a burst of 4 s worth; 0 turns the limit off (load benchmarks). */
function rateLimitOf(perSec: number): { ratePerSec: number; burst: number } {
  const unlimited = Number.MAX_SAFE_INTEGER;
  return perSec === 0
    ? { ratePerSec: unlimited, burst: unlimited }
    : { ratePerSec: perSec, burst: perSec * 4 };
}

function statsOf(node: DhtNode): Record<string, unknown> {
  return { nodes: node.routingTableSize(), ...(node.stats() as unknown as Record<string, unknown>) };
}
