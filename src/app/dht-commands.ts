/**
 * The `dhtchat dht ...` command group: one long-running node and one-shot queries. Each subcommand is defined in
 * its own file (options they share: dht-options.ts); this file only assembles the group.
 */
import type { Command } from 'commander';
import { registerDhtItemCommands } from './dht-item-commands.ts';
import { registerDhtNodeCommand } from './dht-node-command.ts';
import { registerDhtQueryCommands } from './dht-query-commands.ts';

export function registerDhtCommands(program: Command): void {
  const dht = program.command('dht').description('run or query a BitTorrent Mainline DHT node');
  registerDhtNodeCommand(dht);
  registerDhtQueryCommands(dht);
  registerDhtItemCommands(dht);
}
