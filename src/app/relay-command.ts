/**
 * `dhtchat relay [--port P] [--host H] [--bootstrap host:port,...] [--allow-private] [--max-pairs N]`: a volunteer
 * relay (docs/PROTOCOL.md "Relays"). It joins the DHT, announces itself on the day's relay topic every 15 minutes,
 * and joins pairs of halves that present the same token, copying their (encrypted) bytes. It needs a reachable
 * address: run it on a public host, or forward its UDP port.
 *
 * Prints JSON lines on stdout until SIGINT/SIGTERM: first {"event":"listening","host","port"}, then
 * {"event":"announced","days","stored"} after each announce, {"event":"stats",...RelayStats} every minute, and
 * {"event":"closed","signal"}. It keeps no files.
 */
import { type Command, InvalidArgumentError } from 'commander';
import {
  cryptoRandom,
  jsonLinesLogger,
  type Logger,
  systemClock,
  type UdpAddress,
  UdpTransport,
  messageOf,
} from '../runtime/index.ts';
import { bindFailure } from './bind-failure.ts';
import { DEFAULT_BOOTSTRAP_ROUTERS } from './default-routers.ts';
import { type HostPort, parseHostPortList, parsePort, resolveHostPorts } from './parse-args.ts';
import { untilStopSignal } from './stop-signal.ts';

const DEFAULT_PORT = 6881;
const STATS_INTERVAL_MS = 60_000;
/** --max-pairs bounds: each pair holds two uTP connections and up to 2 × 256 KiB/s. */
const MAX_PAIRS_LIMIT = 100_000;

interface RelayFlags {
  port: number;
  host: string;
  bootstrap?: HostPort[];
  allowPrivate?: boolean;
  maxPairs?: number;
}

export function registerRelayCommand(program: Command): void {
  program
    .command('relay')
    .description(
      'run a volunteer relay for friends who cannot reach each other directly, until SIGINT/SIGTERM',
    )
    .option(
      '--port <P>',
      'UDP port for the DHT and the relay (0: any free port)',
      (t) => parsePort(t, true),
      DEFAULT_PORT,
    )
    .option('--host <H>', 'address to bind', '0.0.0.0')
    .option(
      '--bootstrap <host:port,...>',
      'DHT nodes to join through (default: the Mainline routers)',
      parseHostPortList,
    )
    .option('--allow-private', 'accept private/loopback addresses in the DHT (local test networks)')
    .option('--max-pairs <N>', 'pairs relayed at once (default 256)', parseMaxPairs)
    .action(runRelay);
}

function parseMaxPairs(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_PAIRS_LIMIT) {
    throw new InvalidArgumentError(`--max-pairs is 1-${MAX_PAIRS_LIMIT}, got "${text}".`);
  }
  return n;
}

async function runRelay(flags: RelayFlags): Promise<void> {
  const held: string[] = [];
  let isListening = false;
  const write = (line: string): void => {
    if (isListening) process.stdout.write(line);
    else held.push(line);
  };
  const logger = jsonLinesLogger(write);
  const stopping = untilStopSignal();
  const bootstrap = await resolveBootstrap(flags.bootstrap, logger);
  const transport = await UdpTransport.bind({ host: flags.host, port: flags.port }).catch(
    (cause: unknown) => {
      throw bindFailure(cause, {
        label: 'UDP port',
        host: flags.host,
        port: flags.port,
        portOption: '--port',
      });
    },
  );
  const { RelayHost } = await import('../chat/index.ts');
  const host = new RelayHost({
    transport,
    clock: systemClock,
    random: cryptoRandom,
    logger,
    bootstrap,
    allowPrivate: flags.allowPrivate ?? false,
    ...(flags.maxPairs === undefined ? {} : { limits: { maxPairs: flags.maxPairs } }),
    onAnnounced: (result) => logger.info({ event: 'announced', days: result.days, stored: result.stored }),
    onJoinEvent: (event) => {
      if (event.kind !== 'joined') logger.warn({ event: event.kind, ...event });
    },
  });
  const local = transport.localAddress();
  process.stdout.write(`${JSON.stringify({ event: 'listening', host: local.host, port: local.port })}\n`);
  isListening = true;
  for (const line of held.splice(0)) process.stdout.write(line);
  const statsTimer = setInterval(() => logger.info({ event: 'stats', ...host.stats() }), STATS_INTERVAL_MS);
  statsTimer.unref();
  void host.start().then(() => logger.info({ event: 'bootstrapped', nodes: host.dht.routingTableSize() }));
  const signal = await stopping;
  clearInterval(statsTimer);
  host.close();
  transport.close();
  logger.info({ event: 'closed', signal, ...host.stats() });
}

async function resolveBootstrap(given: HostPort[] | undefined, logger: Logger): Promise<UdpAddress[]> {
  try {
    return await resolveHostPorts(given ?? DEFAULT_BOOTSTRAP_ROUTERS, (entry, error) =>
      logger.warn({ event: 'resolve_failed', host: entry.host, error: messageOf(error) }),
    );
  } catch (error) {
    logger.warn({ event: 'no_bootstrap', error: messageOf(error) });
    return [];
  }
}
