/** Human-readable lines for the chat commands (--json prints the API's objects as they are). */
import type { ContactView, MessageView, RequestView } from './chat-api-types.ts';

export function formatContact(c: ContactView): string {
  const seen =
    c.presence === 'online' ? '' : `  last seen ${c.lastSeen === null ? 'never' : iso(c.lastSeen)}`;
  return `${c.name}  ${c.presence}${seen}  ${c.code}`;
}

export function formatRequest(r: RequestView): string {
  const name = r.name === undefined ? '' : `  ${r.name}`;
  const message = r.message === undefined ? '' : `  "${r.message}"`;
  return `${r.code}${name}${message}  received ${iso(r.receivedAt)}`;
}

/** `ownCode` marks our own messages "me"; others show the contact's name when known. */
export function formatMessage(m: MessageView, ownCode: string, names: ReadonlyMap<string, string>): string {
  const from = m.from === ownCode ? 'me' : (names.get(m.from) ?? m.from);
  return `${iso(m.ts)}  ${from}: ${m.text}  (${m.state})`;
}

/** One line per event of GET /v1/events (`dhtchat events`); unknown events print as their JSON. */
export function formatEvent(e: Record<string, unknown>): string {
  const str = (key: string): string => String(e[key]);
  switch (e['event']) {
    case 'message': {
      const m = e['message'] as Partial<MessageView> | undefined;
      return `message from ${str('from')}: ${m?.text ?? ''}  (${m?.id ?? '?'})`;
    }
    case 'state':
      return `message ${str('id')} to ${str('with')}: ${str('state')}`;
    case 'presence':
      return `${str('code')} is ${str('presence')}`;
    case 'typing':
      return `${str('code')} ${e['isTyping'] === true ? 'is typing…' : 'stopped typing'}`;
    case 'request':
      return `friend request from ${str('code')}${typeof e['message'] === 'string' ? `: "${e['message']}"` : ''}`;
    case 'accepted':
      return `${str('name')} (${str('code')}) is now a friend`;
    case 'request_received':
      return `${str('name')} (${str('code')}) received your friend request`;
    default:
      return JSON.stringify(e);
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
