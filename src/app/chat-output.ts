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

export function printLines(lines: readonly string[], ifEmpty: string): void {
  process.stdout.write(lines.length === 0 ? `${ifEmpty}\n` : `${lines.join('\n')}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
