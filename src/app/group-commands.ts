/**
 * Private groups (docs/CLI.md "Groups"): `groups` and `group create|invite|invites|accept|decline|leave|remove|
 * promote|members|send|messages` — clients of the running daemon's local API (/v1/groups…). `send` and
 * `messages` also take a group (message-commands.ts asks group-target.ts).
 *
 * A group is named by its id (64 hex digits, as --json and the lines print) or its name (exactly, else ignoring
 * case; two groups of one name must be named by id: CHAT_NAME_AMBIGUOUS, exit 2). A member is named by a friend
 * code, or by the name of a contact who is a member.
 */
import type { Command } from 'commander';
import { callDaemon } from './chat-api-client.ts';
import type { GroupInviteView, GroupMemberView, GroupView } from './chat-api-types.ts';
import { dataDirOf } from './chat-data-dir.ts';
import { printJson, printLines } from './chat-output.ts';
import { formatGroupLine, formatInvite, formatMember } from './group-output.ts';
import { type GroupMessagesFlags, sendToGroup, showGroupMessages } from './group-target.ts';
import { checkMessage, readStdinText } from './message-commands.ts';
import { terminalSafe } from './terminal-text.ts';

interface JsonFlag {
  json?: boolean;
}

export function registerGroupCommands(program: Command): void {
  program
    .command('groups')
    .description('list your groups (and the invites waiting for an answer)')
    .option('--json', 'print [{"id","name","state","role","members","unread","invitedBy"?}]')
    .action(async (flags: JsonFlag, cmd: Command) => {
      const list = (await callDaemon(dataDirOf(cmd), 'GET', '/v1/groups')) as GroupView[];
      if (flags.json) printJson(list);
      else printLines(list.map(formatGroupLine), 'no groups (dhtchat group create NAME)');
    });

  const group = program.command('group').description('private groups: create, invite, leave, members, ...');
  group
    .command('create')
    .description('create a group (you are its admin)')
    .argument('<name>', 'what to call it (members see it)')
    .option('--json', 'print the group as JSON')
    .action(async (name: string, flags: JsonFlag, cmd: Command) => {
      const view = (await callDaemon(dataDirOf(cmd), 'POST', '/v1/groups', { name })) as GroupView;
      if (flags.json) printJson(view);
      else process.stdout.write(`created group "${terminalSafe(name)}" ${view.id}\n`);
    });

  group
    .command('invite')
    .description('invite a friend (admins): they see it like a request and accept')
    .argument('<group>', 'the group (name or id)')
    .argument('<friend>', 'a friend (name or code)')
    .action(async (groupTyped: string, who: string, _flags: unknown, cmd: Command) => {
      await callDaemon(dataDirOf(cmd), 'POST', '/v1/groups/invite', { group: groupTyped, who });
      process.stdout.write(`invited ${terminalSafe(who)} (they are told when they are online)\n`);
    });

  group
    .command('invites')
    .description('list group invites waiting for an answer')
    .option('--json', 'print [{"group","name","from","receivedAt"}]')
    .action(async (flags: JsonFlag, cmd: Command) => {
      const list = (await callDaemon(dataDirOf(cmd), 'GET', '/v1/groups/invites')) as GroupInviteView[];
      if (flags.json) printJson(list);
      else printLines(list.map(formatInvite), 'no group invites');
    });

  group
    .command('accept')
    .description('accept a group invite (you join when the inviter is online)')
    .argument('<group>', 'the group (name or id)')
    .option('--json', 'print the group as JSON')
    .action(async (groupTyped: string, flags: JsonFlag, cmd: Command) => {
      const view = (await callDaemon(dataDirOf(cmd), 'POST', '/v1/groups/accept', {
        group: groupTyped,
      })) as GroupView;
      if (flags.json) printJson(view);
      else process.stdout.write(`accepted: joining ${view.id}\n`);
    });

  group
    .command('decline')
    .description('decline a group invite')
    .argument('<group>', 'the group (name or id)')
    .action(async (groupTyped: string, _flags: unknown, cmd: Command) => {
      await callDaemon(dataDirOf(cmd), 'POST', '/v1/groups/decline', { group: groupTyped });
      process.stdout.write('declined\n');
    });

  group
    .command('leave')
    .description('leave a group (the others get a new key: nothing sent after reaches you)')
    .argument('<group>', 'the group (name or id)')
    .action(async (groupTyped: string, _flags: unknown, cmd: Command) => {
      const view = (await callDaemon(dataDirOf(cmd), 'POST', '/v1/groups/leave', {
        group: groupTyped,
      })) as GroupView;
      process.stdout.write(`left ${view.id}\n`);
    });

  for (const [name, description] of [
    ['remove', 'remove a member (admins): nothing sent after reaches them'],
    ['promote', 'make a member an admin (admins)'],
  ] as const) {
    group
      .command(name)
      .description(description)
      .argument('<group>', 'the group (name or id)')
      .argument('<member>', 'a friend code, or the name of a contact who is a member')
      .option('--json', 'print the members as JSON')
      .action(async (groupTyped: string, who: string, flags: JsonFlag, cmd: Command) => {
        const body = { group: groupTyped, who };
        const list = (await callDaemon(
          dataDirOf(cmd),
          'POST',
          `/v1/groups/${name}`,
          body,
        )) as GroupMemberView[];
        if (flags.json) printJson(list);
        else printLines(list.map(formatMember), 'no members');
      });
  }

  group
    .command('members')
    .description("list a group's members")
    .argument('<group>', 'the group (name or id)')
    .option('--json', 'print [{"code","name","role","isSelf","isOnline"}]')
    .action(async (groupTyped: string, flags: JsonFlag, cmd: Command) => {
      const query = new URLSearchParams({ group: groupTyped });
      const list = (await callDaemon(
        dataDirOf(cmd),
        'GET',
        `/v1/groups/members?${query}`,
      )) as GroupMemberView[];
      if (flags.json) printJson(list);
      else printLines(list.map(formatMember), 'no members');
    });

  group
    .command('typing')
    .description('show the members online that you are typing (until --stop, a message, or about 15 s pass)')
    .argument('<group>', 'the group (name or id)')
    .option('--stop', 'you stopped typing')
    .option('--json', 'print {"sent": members told}')
    .action(async (groupTyped: string, flags: JsonFlag & { stop?: boolean }, cmd: Command) => {
      const isTyping = flags.stop !== true;
      const body = { group: groupTyped, isTyping };
      const result = (await callDaemon(dataDirOf(cmd), 'POST', '/v1/groups/typing', body)) as {
        sent: number;
      };
      if (flags.json) printJson(result);
      else process.stdout.write(`told ${result.sent} member${result.sent === 1 ? '' : 's'} online\n`);
    });

  group
    .command('send')
    .description('send a message to a group (also: dhtchat send <group> <text>)')
    .argument('<group>', 'the group (name or id)')
    .argument('<text>', 'the message (UTF-8, at most 16 KiB); - reads it from standard input')
    .option('--json', 'print the message as JSON')
    .action(async (groupTyped: string, given: string, flags: JsonFlag, cmd: Command) => {
      const text = checkMessage(given === '-' ? await readStdinText(process.stdin) : given);
      await sendToGroup(dataDirOf(cmd), groupTyped, text, flags.json === true);
    });

  group
    .command('messages')
    .description("show a group's messages (and mark them read; also: dhtchat messages <group>)")
    .argument('<group>', 'the group (name or id)')
    .option('--json', 'print [{"id","group","from","text","ts","state","delivered","read","members"}]')
    .option('--peek', 'do not mark the messages read')
    .option('--limit <N>', 'how many of the newest messages (1-1000)')
    .option('--before <id>', 'page back: only messages before this id (not marked read)')
    .action(async (groupTyped: string, flags: GroupMessagesFlags, cmd: Command) => {
      await showGroupMessages(dataDirOf(cmd), groupTyped, flags);
    });
}
