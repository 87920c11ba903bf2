/**
 * Human-readable lines for the group commands and events (--json prints the API's objects as they are). A
 * group's name is its creator's text and members' messages are theirs: every one goes through terminalSafe.
 * Group ids are printed whole (64 hex digits: what `--json` gives and every command accepts).
 */
import type { GroupInviteView, GroupMemberView, GroupMessageView, GroupView } from './chat-api-types.ts';
import { terminalSafe } from './terminal-text.ts';

/** `book club  member (admin)  5 members  2 unread  <id>`. */
export function formatGroupLine(g: GroupView): string {
  const role = g.role === null ? '' : ` (${g.role})`;
  const members = g.state === 'member' ? `  ${g.members} member${g.members === 1 ? '' : 's'}` : '';
  const unread = g.unread > 0 ? `  ${g.unread} unread` : '';
  const from = g.invitedBy === undefined ? '' : `  from ${g.invitedBy}`;
  return `${groupName(g.name)}  ${g.state}${role}${members}${unread}${from}  ${g.id}`;
}

export function formatInvite(i: GroupInviteView): string {
  return `${groupName(i.name)}  from ${i.from}  ${i.group}  received ${iso(i.receivedAt)}`;
}

/** `Bob  admin  online  dhtchat:…` (`me` for ourselves; a member who is not a contact by its code). */
export function formatMember(m: GroupMemberView): string {
  const who = m.isSelf ? 'me' : m.name === null ? m.code : terminalSafe(m.name);
  return `${who}  ${m.role}  ${m.isOnline ? 'online' : 'offline'}  ${m.code}`;
}

/**
 * `<time>  Bob: text  (delivered 3/4, read 1)`: `me` for our own, a contact's name when known, else the code;
 * our own messages show how many members have them and have read them.
 */
export function formatGroupMessage(
  m: GroupMessageView,
  ownCode: string,
  names: ReadonlyMap<string, string>,
): string {
  const isOwn = m.from === ownCode;
  const from = isOwn ? 'me' : terminalSafe(names.get(m.from) ?? m.from);
  const counts = isOwn ? `${m.state} ${m.delivered}/${m.members}, read ${m.read}` : m.state;
  return `${iso(m.ts)}  ${from}: ${messageText(m, isOwn)}  (${counts})`;
}

/** A text as it is; a file offer as `sent a file: name (dhtchat accept-file <id>)`. */
function messageText(m: Partial<GroupMessageView>, isOwn: boolean): string {
  const text = terminalSafe(String(m.text ?? ''));
  if (m.file === undefined) return text;
  const id = terminalSafe(String(m.file.id)).slice(0, 8);
  return isOwn
    ? `sent a file: ${text} (${id})`
    : `sent a file: ${text} (accept with: dhtchat accept-file ${id})`;
}

/** One line per group event of GET /v1/events (`dhtchat events`); undefined: not a group event. */
export function formatGroupEvent(
  e: Record<string, unknown>,
  who: (code: string) => string,
): string | undefined {
  const str = (key: string): string => terminalSafe(String(e[key]));
  const short = (): string => String(e['group']).slice(0, 12);
  switch (e['event']) {
    case 'group_message': {
      const m = e['message'] as Partial<GroupMessageView> | undefined;
      const name = typeof e['name'] === 'string' ? terminalSafe(e['name']) : short();
      return `[${name}] ${who(String(m?.from))}: ${messageText(m ?? {}, false)}  (${terminalSafe(String(m?.id ?? '?'))})`;
    }
    case 'group_state':
      return `group message ${str('id')}: ${str('state')} ${str('delivered')}/${str('members')}, read ${str('read')}`;
    case 'group_invite':
      return `group invite from ${who(String(e['from']))}: ${groupName(typeof e['name'] === 'string' ? e['name'] : null)} (${str('group')})`;
    case 'group_member': {
      const change = String(e['change']);
      const verb =
        change === 'added'
          ? 'joined'
          : change === 'promoted'
            ? 'is now an admin of'
            : `${change === 'left' ? 'left' : 'was removed from'}`;
      return `${who(String(e['code']))} ${verb} group ${short()}`;
    }
    case 'group_typing':
      return `${who(String(e['code']))} ${e['isTyping'] === true ? 'is typing…' : 'stopped typing'} in group ${short()}`;
    case 'group':
      return `group ${groupName(typeof e['name'] === 'string' ? e['name'] : null)} (${str('id')}): you are ${
        e['state'] === 'member' ? 'a member' : str('state')
      }`;
    default:
      return undefined;
  }
}

function groupName(name: string | null): string {
  return name === null ? '(unnamed)' : `"${terminalSafe(name)}"`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
