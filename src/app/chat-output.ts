/**
 * Human-readable lines for the chat commands (--json prints the API's objects as they are). Names, request notes
 * and message text come from other people (a requester chooses their own name and note; a friend writes the
 * text), so every one of them goes through terminalSafe: what a stranger sends must not clear the screen, set the
 * window title or forge a line of ours. Codes, ids, states and times are ours, checked by the daemon.
 */
import type { MessageView, RequestView } from './chat-api-types.ts';
import { formatFileEvent } from './file-output.ts';
import { formatGroupEvent } from './group-output.ts';
import { terminalSafe } from './terminal-text.ts';

/** A friend code's display name when one is known (a contact's name); undefined shows the code itself. */
export type NameOf = (code: string) => string | undefined;

export function formatRequest(r: RequestView): string {
  const name = r.name === undefined ? '' : `  ${terminalSafe(r.name)}`;
  const message = r.message === undefined ? '' : `  "${terminalSafe(r.message)}"`;
  return `${r.code}${name}${message}  received ${iso(r.receivedAt)}`;
}

/** `ownCode` marks our own messages "me"; others show the contact's name when known. */
export function formatMessage(m: MessageView, ownCode: string, names: ReadonlyMap<string, string>): string {
  const from = m.from === ownCode ? 'me' : terminalSafe(names.get(m.from) ?? m.from);
  return `${iso(m.ts)}  ${from}: ${terminalSafe(m.text)}  (${m.state})`;
}

/**
 * One line per event of GET /v1/events (`dhtchat events`). Friends are shown by name when nameOf knows them,
 * else by code; a request shows the name the requester suggested with its code (anyone can pick any name).
 * Unknown events print as their JSON, escaped too: JSON escapes C0 controls but not C1 or bidi controls.
 */
export function formatEvent(e: Record<string, unknown>, nameOf: NameOf = () => undefined): string {
  const str = (key: string): string => terminalSafe(String(e[key]));
  const who = (key: string): string => {
    const code = String(e[key]);
    const name = nameOf(code);
    return terminalSafe(name === undefined || name === code ? code : name);
  };
  switch (e['event']) {
    case 'message': {
      const m = e['message'] as Partial<MessageView> | undefined;
      return `message from ${who('from')}: ${terminalSafe(String(m?.text ?? ''))}  (${terminalSafe(String(m?.id ?? '?'))})`;
    }
    case 'state':
      return `message ${str('id')} to ${who('with')}: ${str('state')}`;
    case 'presence':
      return `${who('code')} is ${str('presence')}`;
    case 'typing':
      return `${who('code')} ${e['isTyping'] === true ? 'is typing…' : 'stopped typing'}`;
    case 'path':
      return e['path'] === null ? `${who('code')}: no path (offline)` : `${who('code')}: path ${str('path')}`;
    case 'request': {
      const name =
        typeof e['name'] === 'string' ? `"${terminalSafe(e['name'])}" (${str('code')})` : str('code');
      const message = typeof e['message'] === 'string' ? `: "${terminalSafe(e['message'])}"` : '';
      return `friend request from ${name}${message}`;
    }
    case 'accepted': {
      const isNamed = typeof e['name'] === 'string' && e['name'] !== e['code'];
      return `${isNamed ? `${str('name')} (${str('code')})` : str('code')} is now a friend`;
    }
    case 'request_received': {
      const isNamed = typeof e['name'] === 'string' && e['name'] !== e['code'];
      return `${isNamed ? `${str('name')} (${str('code')})` : str('code')} received your friend request`;
    }
    case 'file':
      return formatFileEvent(e, nameOf);
    default: {
      const byCode = (code: string): string => {
        const name = nameOf(code);
        return terminalSafe(name === undefined || name === code ? code : name);
      };
      return formatGroupEvent(e, byCode) ?? terminalSafe(JSON.stringify(e));
    }
  }
}

export function printLines(lines: readonly string[], ifEmpty: string): void {
  process.stdout.write(lines.length === 0 ? `${ifEmpty}\n` : `${lines.join('\n')}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
