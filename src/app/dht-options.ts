/** Options and helpers the one-shot dht commands share. */
import { type Command, Option } from 'commander';
import { type HostPort, parseDurationMs, parseHostPortList } from './parse-args.ts';

/** Options every one-shot command shares, as parsed by commander. */
export interface OneShotFlags {
  bootstrap?: HostPort[];
  allowPrivate?: boolean;
  json?: boolean;
  timeout: number;
}

export const ONE_SHOT_TIMEOUT_MS = 60_000;

export function addJsonOption(command: Command): Command {
  return command.option('--json', 'print one JSON object on stdout');
}

export function addTimeoutOption(command: Command): Command {
  return command.addOption(
    new Option('--timeout <duration>', 'give up after this long (e.g. 30s)')
      .argParser(parseDurationMs)
      .default(ONE_SHOT_TIMEOUT_MS, '60s'),
  );
}

export function addNetworkOptions(command: Command): Command {
  command
    .option(
      '--bootstrap <host:port,...>',
      'nodes to join through (default: the Mainline routers)',
      parseHostPortList,
    )
    .option('--allow-private', 'accept and hand out loopback/private addresses (local test networks)');
  addTimeoutOption(command);
  return addJsonOption(command);
}

/** A usage error found after parsing (conflicting options): one line, exit code 2. */
export function usageError(command: Command, message: string): never {
  command.error(`error: ${message}`, { exitCode: 2, code: 'dhtchat.usage' });
}
