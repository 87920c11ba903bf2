/**
 * The chat commands (docs/CLI.md, "## Chat"), registered on the program with the global `--data-dir`:
 *   init, id (chat-identity-commands.ts) · daemon (daemon-command.ts) · testnet (testnet-command.ts)
 *   add, requests, accept, decline, block, unblock, blocked, contacts, rename, remove (contact-commands.ts) ·
 *   send, messages, search (message-commands.ts) · profile (profile-command.ts) · typing, events (below):
 *   clients of the running daemon's local API.
 */
import type { Command } from 'commander';
import { callDaemon, followDaemonEvents } from './chat-api-client.ts';
import type { TypingResult } from './chat-api-types.ts';
import { dataDirOf } from './chat-data-dir.ts';
import { registerChatIdentityCommands } from './chat-identity-commands.ts';
import { formatEvent, printJson } from './chat-output.ts';
import { registerContactCommands } from './contact-commands.ts';
import { nameAndCode } from './contact-output.ts';
import { registerDaemonCommand } from './daemon-command.ts';
import { registerMessageCommands } from './message-commands.ts';
import { registerProfileCommand } from './profile-command.ts';
import { registerTestnetCommand } from './testnet-command.ts';

interface JsonFlag {
  json?: boolean;
}

export function registerChatCommands(program: Command): void {
  // Program options are read before the subcommand name only (so `dht node --data-dir` stays its own option).
  program.enablePositionalOptions();
  program.option('--data-dir <D>', 'chat data directory (default: $XDG_DATA_HOME/dhtchat)');
  registerChatIdentityCommands(program);
  registerDaemonCommand(program);
  registerTestnetCommand(program);
  registerContactCommands(program);
  registerMessageCommands(program);
  registerProfileCommand(program);
  registerLiveCommands(program);
}

function registerLiveCommands(program: Command): void {
  program
    .command('typing')
    .description('show a friend that you are typing (until --stop, a message, or about 15 s pass)')
    .argument('<name|code>', 'the friend')
    .option('--stop', 'you stopped typing')
    .option('--json', 'print {"to":{contact},"isSent"}')
    .action(async (who: string, flags: JsonFlag & { stop?: boolean }, cmd: Command) => {
      const isTyping = flags.stop !== true;
      const body = { who, isTyping };
      const result = (await callDaemon(dataDirOf(cmd), 'POST', '/v1/typing', body)) as TypingResult;
      if (flags.json) printJson(result);
      else if (!result.isSent) {
        process.stdout.write(`${nameAndCode(result.to)} is not online: nothing sent (typing is not kept)\n`);
      } else {
        process.stdout.write(
          `told ${nameAndCode(result.to)} you ${isTyping ? 'are typing' : 'stopped typing'}\n`,
        );
      }
    });

  program
    .command('events')
    .description('follow what happens (messages, states, presence, requests, typing) until interrupted')
    .option('--json', 'one JSON object per line: {"event",...}')
    .action(async (flags: JsonFlag, cmd: Command) => {
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await followDaemonEvents(
          dataDirOf(cmd),
          (event) => process.stdout.write(`${flags.json ? JSON.stringify(event) : formatEvent(event)}\n`),
          stop.signal,
        );
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
