/**
 * `dhtchat bootstrap`: the DHT bootstrap server (see docs/BOOTSTRAP.md).
 *
 *   dhtchat bootstrap [--port 6881] [--host 0.0.0.0] [--ipv6 ADDR]... [--external-ip IP] [--workers N]
 *                     [--nodes 10000000] [--ping-queue 5000000] [--response-size 16]
 *                     [--ping-delay 15m] [--secret-rotate 10m] [--stats-interval 60s]
 *                     [--data-dir D] [--allow-private] [--no-verify-id] [--version CC-N] [--x-pollinate host:port]
 *
 * Output: JSON lines on stdout, the first {"event":"listening","host","port","id","workers"}, then
 * {"event":"stats",...} every interval and on SIGHUP. SIGINT/SIGTERM save the node buffer and exit 0.
 * With more than one worker the process forks node:cluster workers sharing the port (bootstrap-cluster.ts).
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { isIP } from 'node:net';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { nodeIdForHost } from '../dht/index.ts';
import { cryptoRandom, type UdpAddress } from '../runtime/index.ts';
import {
  isBootstrapWorkerProcess,
  runBootstrapPrimary,
  runBootstrapWorkerProcess,
} from './bootstrap-cluster.ts';
import { emit, stderrLogger, untilSignalled } from './bootstrap-output.ts';
import { type BootstrapWorkerConfig, startBootstrapWorker } from './bootstrap-worker.ts';
import { defaultDataDir } from './data-dir.ts';
import { parseDurationMs, parseHostPort, parsePort, resolveHostPorts } from './parse-args.ts';

export interface BootstrapCliOptions {
  port: number;
  host: string;
  ipv6: string[];
  externalIp?: string;
  workers: number;
  nodes: number;
  pingQueue: number;
  responseSize: number;
  pingDelay: number;
  secretRotate: number;
  statsInterval: number;
  dataDir?: string;
  allowPrivate: boolean;
  verifyId: boolean;
  version?: Buffer;
  xPollinate?: { host: string; port: number };
}

export function registerBootstrapCommand(program: Command): void {
  // `bootstrap --version CC-N` (the reference's flag) must reach this command, not the program's own --version:
  // with positional options the program only reads its options before the subcommand name.
  program.enablePositionalOptions();
  program
    .command('bootstrap')
    .description('run a DHT bootstrap server that only hands out BEP 42-verified nodes')
    .option('--port <port>', 'UDP port', (v) => parsePort(v, true), 6881)
    .option('--host <ip>', 'IPv4 (or IPv6) address to bind', parseIp, '0.0.0.0')
    .option('--ipv6 <addr>', 'also serve IPv6 on this address (repeatable)', collectIpv6, [] as string[])
    .option('--external-ip <ip>', 'our public IP (our BEP 42 id is derived from it)', parseIp)
    .option(
      '--workers <n>',
      'worker processes sharing the port',
      intIn(1, 256, 'workers'),
      availableParallelism(),
    )
    .option(
      '--nodes <n>',
      'node buffer size per family and worker',
      intIn(1, 100_000_000, 'nodes'),
      10_000_000,
    )
    .option(
      '--ping-queue <n>',
      'ping queue size per family and worker',
      intIn(1, 100_000_000, 'ping-queue'),
      5_000_000,
    )
    .option('--response-size <n>', 'nodes per reply', intIn(1, 64, 'response-size'), 16)
    .option('--ping-delay <duration>', 'delay before a requester is pinged', parseDurationMs, 15 * 60_000)
    .option('--secret-rotate <duration>', 'SYN-cookie secret rotation', positiveDuration, 10 * 60_000)
    .option('--stats-interval <duration>', 'stats line interval', positiveDuration, 60_000)
    .option('--data-dir <dir>', 'where the node buffer is saved (default: the dhtchat data directory)')
    .option('--allow-private', 'serve private and loopback sources (loopback still held to BEP 42)', false)
    .option('--no-verify-id', 'do not check BEP 42 ids before adding a node')
    .addOption(
      new Option('--version <CC-N>', 'client version to put in every packet, e.g. DC-1').argParser(
        parseVersion,
      ),
    )
    .option(
      '--x-pollinate <host:port>',
      'ask this bootstrap server for nodes while our queue is nearly empty',
      parseHostPort,
    )
    .action(async (options: BootstrapCliOptions) => {
      await runBootstrap(options);
    });
}

/** Runs until SIGINT/SIGTERM. */
export async function runBootstrap(options: BootstrapCliOptions): Promise<void> {
  // A closed stdout (a log pipe gone) must not stop the server, nor a SIGHUP that arrives during start-up.
  process.stdout.on('error', () => {});
  process.on('SIGHUP', () => {});
  if (cluster.isWorker && isBootstrapWorkerProcess()) {
    await runBootstrapWorkerProcess((shared) => workerConfig(options, shared));
    return;
  }
  const crossPollinate =
    options.xPollinate === undefined ? undefined : (await resolveHostPorts([options.xPollinate]))[0];
  const shared = {
    masterSecret: cryptoRandom.bytes(32),
    ids: ownIds(options),
    port: options.port,
    crossPollinate,
  };
  if (options.workers > 1) {
    await runBootstrapPrimary(options, shared);
    return;
  }
  const worker = await startBootstrapWorker(workerConfig(options, { ...shared, workerIndex: 0 }, false));
  emit({
    event: 'listening',
    host: options.host,
    port: worker.address.port,
    id: shared.ids[0]!.toString('hex'),
    workers: 1,
  });
  await untilSignalled(
    () => emit({ event: 'stats', workers: 1, ...worker.snapshot() }),
    options.statsInterval,
  );
  worker.stop();
}

export interface SharedWorkerSettings {
  masterSecret: Buffer;
  ids: Buffer[];
  port: number;
  crossPollinate: UdpAddress | undefined;
  workerIndex: number;
}

export function workerConfig(
  options: BootstrapCliOptions,
  shared: SharedWorkerSettings,
  isClusterWorker = true,
): BootstrapWorkerConfig {
  return {
    workerIndex: shared.workerIndex,
    isClusterWorker,
    host: options.host,
    port: shared.port,
    ipv6: options.ipv6,
    ids: shared.ids,
    masterSecret: shared.masterSecret,
    nodes: options.nodes,
    pingQueue: options.pingQueue,
    responseSize: options.responseSize,
    pingDelayMs: options.pingDelay,
    secretRotateMs: options.secretRotate,
    dataDir: options.dataDir ?? defaultDataDir(),
    isPrivateAllowed: options.allowPrivate,
    isIdVerified: options.verifyId,
    version: options.version,
    crossPollinate: shared.crossPollinate,
    logger: stderrLogger,
  };
}

/** One BEP 42 id per socket: from --external-ip when its family matches, else the bound address, else random. */
function ownIds(options: BootstrapCliOptions): Buffer[] {
  const idFor = (bound: string): Buffer => {
    const isV6 = bound.includes(':');
    const external = options.externalIp;
    if (external !== undefined && external.includes(':') === isV6)
      return nodeIdForHost(external, cryptoRandom);
    if (bound !== '0.0.0.0' && bound !== '::') return nodeIdForHost(bound, cryptoRandom);
    return cryptoRandom.bytes(20);
  };
  return [idFor(options.host), ...options.ipv6.map(idFor)];
}

function parseIp(text: string): string {
  if (isIP(text) === 0) throw new InvalidArgumentError(`"${text}" is not an IP address.`);
  return text.toLowerCase();
}

function collectIpv6(text: string, previous: string[]): string[] {
  if (isIP(text) !== 6) throw new InvalidArgumentError(`"${text}" is not an IPv6 address.`);
  return [...previous, text.toLowerCase()];
}

function intIn(min: number, max: number, what: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      throw new InvalidArgumentError(`--${what} must be an integer from ${min} to ${max}, got "${text}".`);
    }
    return n;
  };
}

function positiveDuration(text: string): number {
  const ms = parseDurationMs(text);
  if (ms <= 0) throw new InvalidArgumentError(`"${text}" must be longer than 0.`);
  return ms;
}

/** "CC-N": two printable characters and an integer 0-65535, sent as the 4-byte BEP 5 `v`. */
function parseVersion(text: string): Buffer {
  const match = /^([\x21-\x7e]{2})-(\d{1,5})$/.exec(text);
  const n = Number(match?.[2]);
  if (match === null || n > 65535)
    throw new InvalidArgumentError(`--version must look like DC-1, got "${text}".`);
  const v = Buffer.alloc(4);
  v.write(match[1] as string, 0, 'latin1');
  v.writeUInt16BE(n, 2);
  return v;
}
