/**
 * `dhtchat --data-dir D daemon [--port P] [--bootstrap host:port,...] [--allow-private] [--api-port P] [--host H]
 *   [--init]` — also what `dhtchat` with no command runs (`daemon --init` on the default data dir).
 *
 * Runs the chat node until SIGINT/SIGTERM, logging JSON lines on stdout. The first line is always
 * {"event":"ready","code":..,"port":..,"apiPort":..}, written once the local API answers (clients and tests wait
 * for it); lines logged during start-up are held back and follow it. A failed start (no identity, a second daemon
 * on the data dir, a busy port) is one `error:` line on stderr and exit code 1.
 */
import type { Command } from 'commander';
import { jsonLinesLogger, type LogLevel, type UdpAddress } from '../runtime/index.ts';
import { dataDirOf, removeApiFileSync } from './chat-data-dir.ts';
import { ensureIdentity } from './chat-identity-commands.ts';
import { DEFAULT_BOOTSTRAP_ROUTERS } from './default-routers.ts';
import { type HostPort, parseHostPortList, parsePort, resolveHostPorts } from './parse-args.ts';
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
}

export function registerDaemonCommand(program: Command): void {
  program
    .command('daemon')
    .description('run the chat node and its local API until SIGINT/SIGTERM, logging JSON lines')
    .option('--port <P>', 'UDP port for DHT and chat (default: the last one used, else any)', (t) =>
      parsePort(t, true),
    )
    .option('--host <H>', 'address to bind (default 0.0.0.0)')
    .option(
      '--bootstrap <host:port,...>',
      'DHT nodes to join through (default: the Mainline routers)',
      parseHostPortList,
    )
    .option('--allow-private', 'accept and publish loopback/private addresses (local test networks)')
    .option('--api-port <P>', 'local HTTP API port on 127.0.0.1 (default: any free port)', (t) =>
      parsePort(t, true),
    )
    .option('--init', 'create an identity first if the data dir has none (the first run of `dhtchat`)')
    .option('--open', 'open the web client in the browser once the daemon runs')
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
  const held: string[] = [];
  let isReady = false;
  const logger = jsonLinesLogger((line) => {
    if (isReady) process.stdout.write(line);
    else held.push(line);
  }, logLevelFromEnv());
  const stopping = untilStopSignal();
  const bootstrap = await resolveBootstrap(flags.bootstrap, (fields) => logger.warn(fields));
  // Loaded here, not at the top: the chat layer is heavy and only this command needs all of it.
  const { startDaemon } = await import('./daemon.ts');
  const daemon = await startDaemon({
    dataDir,
    bootstrap,
    allowPrivate: flags.allowPrivate ?? false,
    logger,
    ...(flags.port === undefined ? {} : { port: flags.port }),
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(flags.apiPort === undefined ? {} : { apiPort: flags.apiPort }),
  });
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', code: daemon.code, port: daemon.port, apiPort: daemon.apiPort })}\n`,
  );
  isReady = true;
  for (const line of held.splice(0)) process.stdout.write(line);
  // Web client hook: a login link on a terminal, a `web` event otherwise; --open opens the browser.
  announceWebClient({
    loginUrl: daemon.loginUrl,
    apiPort: daemon.apiPort,
    dataDir,
    isTerminal: process.stdout.isTTY === true,
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

/** DHTCHAT_LOG_LEVEL=debug|info|warn|error (default info). */
function logLevelFromEnv(): LogLevel {
  const level = process.env['DHTCHAT_LOG_LEVEL'];
  return level === 'debug' || level === 'warn' || level === 'error' ? level : 'info';
}

async function resolveBootstrap(
  given: HostPort[] | undefined,
  warn: (fields: Record<string, unknown>) => void,
): Promise<UdpAddress[]> {
  try {
    return await resolveHostPorts(given ?? DEFAULT_BOOTSTRAP_ROUTERS, (entry, error) =>
      warn({ event: 'resolve_failed', host: entry.host, error: String(error) }),
    );
  } catch (error) {
    // Nothing resolved: the saved routing table may still be enough to rejoin.
    warn({ event: 'no_bootstrap', error: error instanceof Error ? error.message : String(error) });
    return [];
  }
}
