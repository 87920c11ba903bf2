/**
 * Who you know (docs/CLI.md, "## Chat"): add, requests, accept, decline, block, unblock, blocked, contacts,
 * rename, remove — each a client of the running daemon's local API.
 *
 * Names: a name argument picks a contact by its exact name, else by a name that reads alike (case, look-alike
 * characters); one that could mean two contacts is refused with both listed (CHAT_NAME_AMBIGUOUS, exit 2). A
 * friend code always works.
 */
import type { Command } from 'commander';
import { callDaemon } from './chat-api-client.ts';
import type { ContactView, RequestView } from './chat-api-types.ts';
import { dataDirOf, loadChat } from './chat-data-dir.ts';
import { parseDisplayName } from './chat-identity-commands.ts';
import { formatRequest, printJson, printLines } from './chat-output.ts';
import { formatBlocked, formatContactLine, nameAndCode } from './contact-output.ts';

interface JsonFlag {
  json?: boolean;
}

export function registerContactCommands(program: Command): void {
  registerRequestCommands(program);
  registerBlockCommands(program);
  registerListCommands(program);
}

function registerRequestCommands(program: Command): void {
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
      else process.stdout.write(`request sent to ${nameAndCode(contact)}\n`);
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
      else if (contact.name !== contact.code) process.stdout.write(`accepted ${nameAndCode(contact)}\n`);
      else {
        // Their suggested name was missing, unusable, or read like a contact's: they stay unnamed until named.
        process.stdout.write(
          `accepted ${contact.code} (to name them: dhtchat rename ${contact.code} NAME)\n`,
        );
      }
    });

  program
    .command('decline')
    .description('decline a friend request')
    .argument('<code|name>', 'who')
    .action(async (who: string, _flags: unknown, cmd: Command) => {
      await callDaemon(dataDirOf(cmd), 'POST', '/v1/requests/decline', { who });
      process.stdout.write(`declined ${who}\n`);
    });
}

function registerBlockCommands(program: Command): void {
  program
    .command('block')
    .description('block a contact or requester for good')
    .argument('<code|name>', 'who')
    .action(async (who: string, _flags: unknown, cmd: Command) => {
      await callDaemon(dataDirOf(cmd), 'POST', '/v1/block', { who });
      process.stdout.write(`blocked ${who}\n`);
    });

  program
    .command('unblock')
    .description('lift a block: they may send you a friend request again (the conversation is kept)')
    .argument('<code|name>', 'who')
    .option('--json', 'print the contact as it was, as JSON')
    .action(async (who: string, flags: JsonFlag, cmd: Command) => {
      const contact = (await callDaemon(dataDirOf(cmd), 'POST', '/v1/unblock', { who })) as ContactView;
      if (flags.json) printJson(contact);
      else process.stdout.write(`unblocked ${nameAndCode(contact)}: they may send you a request again\n`);
    });

  program
    .command('blocked')
    .description('list who you blocked')
    .option('--json', 'print [{"name","code","presence","lastSeen","profileName"}]')
    .action(async (flags: JsonFlag, cmd: Command) => {
      const list = (await callDaemon(dataDirOf(cmd), 'GET', '/v1/blocked')) as ContactView[];
      if (flags.json) printJson(list);
      else printLines(list.map(formatBlocked), 'nobody is blocked');
    });
}

function registerListCommands(program: Command): void {
  program
    .command('contacts')
    .description('list contacts with presence')
    .option('--json', 'print [{"name","code","presence","lastSeen","profileName"}]')
    .action(async (flags: JsonFlag, cmd: Command) => {
      const list = (await callDaemon(dataDirOf(cmd), 'GET', '/v1/contacts')) as ContactView[];
      if (flags.json) printJson(list);
      else printLines(list.map(formatContactLine), 'no contacts yet');
    });

  program
    .command('rename')
    .description('change what you call a contact (only you see it; names that read alike are refused)')
    .argument('<code|name>', 'the contact')
    .argument('<new-name>', 'the new name (1-64 characters)', parseDisplayName)
    .option('--json', 'print the contact as JSON')
    .action(async (who: string, name: string, flags: JsonFlag, cmd: Command) => {
      const body = { who, name };
      const contact = (await callDaemon(dataDirOf(cmd), 'POST', '/v1/contacts/rename', body)) as ContactView;
      if (flags.json) printJson(contact);
      else process.stdout.write(`renamed: ${nameAndCode(contact)}\n`);
    });

  program
    .command('remove')
    .description('remove a contact: they become a stranger (a later request of theirs is a new one)')
    .argument('<code|name>', 'the contact')
    .option('--forget', 'also delete the conversation (kept otherwise: `messages <code>` still shows it)')
    .option('--json', 'print the contact as it was, as JSON')
    .action(async (who: string, flags: JsonFlag & { forget?: boolean }, cmd: Command) => {
      const body = { who, forget: flags.forget === true };
      const contact = (await callDaemon(dataDirOf(cmd), 'POST', '/v1/contacts/remove', body)) as ContactView;
      if (flags.json) printJson(contact);
      else if (flags.forget === true) {
        process.stdout.write(`removed ${nameAndCode(contact)} and deleted the conversation\n`);
      } else {
        process.stdout.write(
          `removed ${nameAndCode(contact)}; the conversation is kept (dhtchat messages ${contact.code})\n`,
        );
      }
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
