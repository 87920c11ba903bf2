/**
 * The chat commands (docs/CLI.md, "## Chat"), registered on the program with the global `--data-dir`:
 *   init, id (chat-identity-commands.ts) · daemon (daemon-command.ts) · testnet (testnet-command.ts)
 *   add, requests, accept, decline, block, contacts, send, messages, typing, events (events-command.ts),
 *   web (web-command.ts): clients of the running daemon's local API · demo (demo-command.ts)
 */
import type { Command } from 'commander';
import { registerBackupCommands } from './backup-commands.ts';
import { registerInteractiveChatCommand } from './chat-interactive-command.ts';
import { callDaemon } from './chat-api-client.ts';
import type { ContactView, MessageView, RequestView, SentMessage } from './chat-api-types.ts';
import { dataDirOf, loadChat } from './chat-data-dir.ts';
import { parseDisplayName, registerChatIdentityCommands } from './chat-identity-commands.ts';
import {
  formatContact,
  formatContactRef,
  formatMessage,
  formatRequest,
  printJson,
  printLines,
} from './chat-output.ts';
import { registerDaemonCommand } from './daemon-command.ts';
import { registerDemoCommand } from './demo-command.ts';
import { registerEventsCommand } from './events-command.ts';
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
  registerClientCommands(program);
  registerLiveCommands(program);
  registerEventsCommand(program);
  registerBackupCommands(program);
  registerInteractiveChatCommand(program);
  registerWebCommand(program);
  registerDemoCommand(program);
}

function registerClientCommands(program: Command): void {
  program
    .command('add')
    .description('send a friend request to a friend code (the daemon keeps trying until it is answered)')
    .argument('<friend-code>', 'dhtchat:... code of the friend')
    .option('--name <N>', 'what to call this friend here', parseDisplayName)
    .option('--message <TEXT>', 'a note sent with the request')
    .option('--json', 'print the contact as JSON')
    .action(async (text: string, flags: JsonFlag & { name?: string; message?: string }, cmd: Command) => {
      const code = await checkFriendCode(text, cmd);
      const body = { code, ...pick(flags, ['name', 'message']) };
      const contact = (await callDaemon(dataDirOf(cmd), 'POST', '/v1/contacts', body)) as ContactView;
      if (flags.json) printJson(contact);
      else process.stdout.write(`request sent to ${formatContactRef(contact)}\n`);
    });

  program
    .command('requests')
    .description('list friend requests waiting for an answer')
    .option('--json', 'print [{"code","name","message","receivedAt"}]')
    .action(async (flags: JsonFlag, cmd: Command) => {
      const list = (await callDaemon(dataDirOf(cmd), 'GET', '/v1/requests')) as RequestView[];
      if (flags.json) printJson(list);
      else printLines(list.map(formatRequest), 'no pending friend requests');
    });

  program
    .command('accept')
    .description('accept a friend request')
    .argument('<code|name>', 'the requester')
    .option('--json', 'print the new contact as JSON')
    .action(async (who: string, flags: JsonFlag, cmd: Command) => {
      const contact = (await callDaemon(dataDirOf(cmd), 'POST', '/v1/requests/accept', {
        who,
      })) as ContactView;
      if (flags.json) printJson(contact);
      else process.stdout.write(`accepted ${formatContactRef(contact)}\n`);
    });

  for (const [verb, path, done] of [
    ['decline', '/v1/requests/decline', 'declined'],
    ['block', '/v1/block', 'blocked'],
  ] as const) {
    program
      .command(verb)
      .description(verb === 'decline' ? 'decline a friend request' : 'block a contact or requester for good')
      .argument('<code|name>', 'who')
      .action(async (who: string, _flags: unknown, cmd: Command) => {
        await callDaemon(dataDirOf(cmd), 'POST', path, { who });
        process.stdout.write(`${done} ${who}\n`);
      });
  }

  program
    .command('contacts')
    .description('list contacts with presence')
    .option('--json', 'print [{"name","code","presence","lastSeen"}]')
    .action(async (flags: JsonFlag, cmd: Command) => {
      const list = (await callDaemon(dataDirOf(cmd), 'GET', '/v1/contacts')) as ContactView[];
      if (flags.json) printJson(list);
      else printLines(list.map(formatContact), 'no contacts yet');
    });

  program
    .command('send')
    .description('send a message (kept and retried until delivered)')
    .argument('<name|code>', 'the contact')
    .argument('<text>', 'the message (UTF-8, at most 16 KiB)')
    .option('--json', 'print {"id","state"}')
    .action(async (to: string, text: string, flags: JsonFlag, cmd: Command) => {
      const sent = (await callDaemon(dataDirOf(cmd), 'POST', '/v1/messages', { to, text })) as SentMessage;
      if (flags.json) printJson(sent);
      else process.stdout.write(`${sent.id} ${sent.state}\n`);
    });

  program
    .command('messages')
    .description("show the conversation with a contact (and mark the contact's messages read)")
    .argument('<name|code>', 'the contact')
    .option('--json', 'print [{"id","from","text","ts","state"}]')
    .option('--peek', 'do not mark the messages read')
    .action(async (who: string, flags: JsonFlag & { peek?: boolean }, cmd: Command) => {
      const dataDir = dataDirOf(cmd);
      const query = `/v1/messages?with=${encodeURIComponent(who)}`;
      const list = (await callDaemon(dataDir, 'GET', query)) as MessageView[];
      if (!flags.peek) await callDaemon(dataDir, 'POST', '/v1/read', { who });
      if (flags.json) {
        printJson(list);
        return;
      }
      const { code } = (await callDaemon(dataDir, 'GET', '/v1/id')) as { code: string };
      const contacts = (await callDaemon(dataDir, 'GET', '/v1/contacts')) as ContactView[];
      const names = new Map(contacts.map((c) => [c.code, c.name]));
      printLines(
        list.map((m) => formatMessage(m, code, names)),
        'no messages yet',
      );
    });
}

function registerLiveCommands(program: Command): void {
  program
    .command('typing')
    .description('show a friend that you are typing (until --stop, a message, or about 15 s pass)')
    .argument('<name|code>', 'the friend')
    .option('--stop', 'you stopped typing')
    .action(async (who: string, flags: { stop?: boolean }, cmd: Command) => {
      await callDaemon(dataDirOf(cmd), 'POST', '/v1/typing', { who, isTyping: flags.stop !== true });
    });
}

/** A mistyped code is a usage error (one line, exit 2) before any daemon is asked. */
async function checkFriendCode(text: string, cmd: Command): Promise<string> {
  const result = (await loadChat()).parseFriendCode(text);
  if (!result.ok) cmd.error(`error: invalid friend code: ${result.message}`, { exitCode: 2 });
  return text.trim().toLowerCase();
}

function pick<T extends object>(value: T, keys: readonly (keyof T)[]): Partial<T> {
  const out: Partial<T> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
