/**
 * `dhtchat --data-dir D daemon [--port P] [--bootstrap host:port,...] [--allow-private] [--api-port P] [--host H]
 *   [--init] [--json] [--no-port-mapping] [--no-local-discovery] [--downloads-dir D] [--max-file-size N] [--relays host:port,...]
 *   [--no-relay]` — also what `dhtchat` with no command runs (`daemon --init` on the
 *   default data dir).
 *
 * Runs the chat node until SIGINT/SIGTERM. On a terminal (stdout a TTY, no --json) it says what it is doing in
 * plain words (daemon-console.ts). Otherwise it logs JSON lines on stdout: the first line is always
 * {"event":"ready","code":..,"port":..,"apiPort":..}, written once the local API answers (clients and tests wait
 * for it); lines logged during start-up are held back and follow it. A failed start (no identity, a second daemon
 * on the data dir, a busy port) is one `error:` line on stderr and exit code 1.
 *
 * The router names are resolved again at every join attempt (a daemon started before the network is up joins
 * once it is, without a restart); a name that stops or starts failing is logged once (`resolve_failed`).
 */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { jsonLinesLogger, type Logger, type LogLevel, type UdpAddress } from '../runtime/index.ts';
import { dataDirOf, readProfile, removeApiFileSync } from './chat-data-dir.ts';
import { ensureIdentity } from './chat-identity-commands.ts';
import type { Daemon } from './daemon.ts';
import { DaemonConsole } from './daemon-console.ts';
import { defaultDataDir } from './data-dir.ts';
import { DEFAULT_BOOTSTRAP_ROUTERS } from './default-routers.ts';
import {
  dnsFailureText,
  type HostPort,
  parseHostPortList,
  parsePort,
  resolveHostPorts,
} from './parse-args.ts';
import { untilStopSignal } from './stop-signal.ts';
import { announceWebClient } from './web-client/web-announce.ts';

interface DaemonFlags {
  port?: number;
  host?: string;
  bootstrap?: HostPort[];
  allowPrivate?: boolean;
  apiPort?: number;
  init?: boolean;
  open?: boolean;
  json?: boolean;
  portMapping?: boolean;
  localDiscovery?: boolean;
  downloadsDir?: string;
  maxFileSize?: number;
  relays?: HostPort[];
  relay?: boolean;
}

/** Where the daemon's log goes: JSON lines, or plain words on a terminal. */
interface DaemonOutput {
  readonly logger: Logger;
  /** The daemon is up: the first line (ready, or the greeting), then whatever was logged meanwhile. */
  ready(daemon: Daemon, dataDir: string): Promise<void>;
}

export function registerDaemonCommand(program: Command): void {
  program
    .command('daemon')
    .description('run the chat node and its local API until SIGINT/SIGTERM, logging JSON lines')
    .option('--port <P>', 'UDP port for DHT and chat (default: the last one used, else any)', (t) =>
      parsePort(t, true),
    )
    .option('--host <H>', 'address to bind (default :: with IPv4 too, or 0.0.0.0 where IPv6 is off)')
    .option(
      '--bootstrap <host:port,...>',
      'DHT nodes to join through (default: the Mainline routers)',
      parseHostPortList,
    )
    .option('--allow-private', 'accept and publish loopback/private addresses (local test networks)')
    .option(
      '--api-port <P>',
      'local HTTP API (and web client) port on 127.0.0.1 (default: the last one used, else any)',
      (t) => parsePort(t, true),
    )
    .option('--init', 'create an identity first if the data dir has none (the first run of `dhtchat`)')
    .option('--json', 'log JSON lines even on a terminal (the default when stdout is not one)')
    .option('--no-port-mapping', 'do not ask the router to map our UDP port (PCP, NAT-PMP, UPnP)')
    .option(
      '--no-local-discovery',
      'do not announce or look for friend requests on the LAN (BEP 14 multicast)',
    )
    .option('--open', 'open the web client in the browser once the daemon runs')
    .option('--downloads-dir <D>', 'where accepted files go (default: <data dir>/downloads)')
    .option(
      '--max-file-size <N>',
      'the largest file accepted: bytes, or with K, M, G, T (default 4G)',
      parseSize,
    )
    .option(
      '--relays <host:port,...>',
      'relays to use besides those found on the DHT (for friends we cannot reach directly)',
      parseHostPortList,
    )
    .option(
      '--no-relay',
      'never go through a relay (friends we cannot reach directly get messages via the DHT)',
    )
    .action(async (flags: DaemonFlags, command: Command) => {
      const dataDir = dataDirOf(command);
      if (flags.init === true) await ensureIdentity(dataDir);
      await runDaemon(flags, dataDir);
    });
}

async function runDaemon(flags: DaemonFlags, dataDir: string): Promise<void> {
  // A closed stdout (the log reader gone) must not kill the daemon (cli.ts exits on EPIPE for one-shot commands).
  process.stdout.removeAllListeners('error');
  process.stdout.on('error', () => {});
  const routers = flags.bootstrap ?? DEFAULT_BOOTSTRAP_ROUTERS;
  const isConsole = flags.json !== true && process.stdout.isTTY === true;
  const output = isConsole ? consoleOutput(routers, dataDir) : jsonOutput(logLevelFromEnv());
  const { logger } = output;
  const stopping = untilStopSignal();
  // Loaded here, not at the top: the chat layer is heavy and only this command needs all of it.
  const { startDaemon } = await import('./daemon.ts');
  const daemon = await startDaemon({
    dataDir,
    bootstrap: bootstrapResolver(routers, (fields) => logger.warn(fields)),
    allowPrivate: flags.allowPrivate ?? false,
    portMapping: flags.portMapping ?? true,
    localDiscovery: flags.localDiscovery ?? true,
    isRelayEnabled: flags.relay ?? true,
    ...(flags.relays === undefined ? {} : { relays: await resolveHostPorts(flags.relays) }),
    bootstrapHosts: routers.map((r) => r.host),
    logger,
    ...(flags.port === undefined ? {} : { port: flags.port }),
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(flags.apiPort === undefined ? {} : { apiPort: flags.apiPort }),
    ...(flags.downloadsDir === undefined ? {} : { downloadsDir: resolve(flags.downloadsDir) }),
    ...(flags.maxFileSize === undefined ? {} : { maxFileBytes: flags.maxFileSize }),
  });
  await output.ready(daemon, dataDir);
  // Web client hook: a login link on a terminal, a `web` event otherwise; --open opens the browser.
  announceWebClient({
    loginUrl: daemon.loginUrl,
    apiPort: daemon.apiPort,
    dataDir,
    isTerminal: isConsole,
    shouldOpen: flags.open === true,
    write: (text) => process.stdout.write(text),
    logger,
  });
  const onFatal = (error: unknown): void => {
    // A bug must not leave a daemon half-alive: log it, drop api.json so clients say "no daemon", exit 1.
    // Everything users wrote is already committed to SQLite; the next start resumes from there.
    logger.error({
      event: 'fatal',
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    removeApiFileSync(dataDir, daemon.apiToken);
    process.exit(1);
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  const signal = await stopping;
  await daemon.close();
  logger.info({ event: 'closed', signal });
}

/** JSON lines on stdout, `ready` first: what scripts, tests and the web client read. */
function jsonOutput(level: LogLevel): DaemonOutput {
  const held: string[] = [];
  let isReady = false;
  return {
    logger: jsonLinesLogger((line) => {
      if (isReady) process.stdout.write(line);
      else held.push(line);
    }, level),
    ready: async (daemon) => {
      process.stdout.write(
        `${JSON.stringify({ event: 'ready', code: daemon.code, port: daemon.port, apiPort: daemon.apiPort })}\n`,
      );
      isReady = true;
      for (const line of held.splice(0)) process.stdout.write(line);
    },
  };
}

/** Plain words on a terminal (daemon-console.ts). */
function consoleOutput(routers: readonly HostPort[], dataDir: string): DaemonOutput {
  const plain = new DaemonConsole({
    write: (text) => process.stdout.write(text),
    writeError: (text) => process.stderr.write(text),
    bootstrapNames: routers.map((r) =>
      r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`,
    ),
    dataDirForHints: dataDir === defaultDataDir() ? '' : dataDir,
  });
  return {
    logger: plain.logger,
    ready: async (daemon) => {
      const { name } = await readProfile(dataDir);
      plain.start({
        code: daemon.code,
        name,
        port: daemon.port,
        apiPort: daemon.apiPort,
        chat: daemon.chat,
      });
    },
  };
}

/** DHTCHAT_LOG_LEVEL=debug|info|warn|error (default info). */
function logLevelFromEnv(): LogLevel {
  const level = process.env['DHTCHAT_LOG_LEVEL'];
  return level === 'debug' || level === 'warn' || level === 'error' ? level : 'info';
}

/**
 * The DHT's bootstrap source: resolves the names again at every call. When nothing resolves it throws
 * APP_NO_ADDRESS naming each host and why (the join_failed reason). A name failing while others resolve is
 * logged as resolve_failed once, and again only if why it fails changes.
 */
function bootstrapResolver(
  list: readonly HostPort[],
  warn: (fields: Record<string, unknown>) => void,
): () => Promise<UdpAddress[]> {
  let reported = new Map<string, string>();
  return async () => {
    const failing = new Map<string, string>();
    const addresses = await resolveHostPorts(list, (entry, error) =>
      failing.set(entry.host, dnsFailureText(error)),
    );
    for (const [host, why] of failing) {
      if (reported.get(host) !== why) warn({ event: 'resolve_failed', host, error: why });
    }
    reported = failing;
    return addresses;
  };
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

/** "4G", "500M", "1048576" → bytes (binary units; a trailing B or iB is allowed: "4GiB"). */
export function parseSize(text: string): number {
  const match = /^(\d{1,15})\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  const bytes =
    match === null
      ? Number.NaN
      : Number(match[1]) * (SIZE_UNITS[(match[2] ?? '').toUpperCase()] ?? Number.NaN);
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new InvalidArgumentError(
      `a size is a number of bytes, or with K, M, G or T (like 4G), got "${text}".`,
    );
  }
  return bytes;
}
