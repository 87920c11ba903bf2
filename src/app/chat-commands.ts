/**
 * The chat commands (docs/CLI.md, "## Chat"), registered on the program with the global `--data-dir`:
 *   init, id (chat-identity-commands.ts) · daemon (daemon-command.ts) · testnet (testnet-command.ts)
 *   add, requests, accept, decline, block, unblock, blocked, contacts, rename, remove (contact-commands.ts) ·
 *   send, messages, search (message-commands.ts) · send-file, files, accept-file, cancel (file-commands.ts) ·
 *   groups, group … (group-commands.ts) · profile (profile-command.ts) · typing (below) · events
 *   (events-command.ts) · export, import (backup-commands.ts) · chat (chat-interactive-command.ts) · web
 *   (web-command.ts): clients of the running daemon's local API · demo (demo-command.ts).
 */
import type { Command } from 'commander';
import { registerBackupCommands } from './backup-commands.ts';
import { callDaemon } from './chat-api-client.ts';
import type { TypingResult } from './chat-api-types.ts';
import { dataDirOf } from './chat-data-dir.ts';
import { registerChatIdentityCommands } from './chat-identity-commands.ts';
import { registerInteractiveChatCommand } from './chat-interactive-command.ts';
import { printJson } from './chat-output.ts';
import { registerContactCommands } from './contact-commands.ts';
import { nameAndCode } from './contact-output.ts';
import { registerDaemonCommand } from './daemon-command.ts';
import { registerDemoCommand } from './demo-command.ts';
import { registerEventsCommand } from './events-command.ts';
import { registerFileCommands } from './file-commands.ts';
import { registerGroupCommands } from './group-commands.ts';
import { registerMessageCommands } from './message-commands.ts';
import { registerProfileCommand } from './profile-command.ts';
import { registerTestnetCommand } from './testnet-command.ts';
import { registerWebCommand } from './web-command.ts';

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
  registerFileCommands(program);
  registerGroupCommands(program);
  registerProfileCommand(program);
  registerLiveCommands(program);
  registerEventsCommand(program);
  registerBackupCommands(program);
  registerInteractiveChatCommand(program);
  registerWebCommand(program);
  registerDemoCommand(program);
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
}
