/**
 * The lines `dhtchat chat <who>` shows: the conversation, marks for our messages' progress, the friend's presence
 * and typing, and the status that sits in the prompt. Pure functions of their inputs (the clock is a parameter).
 * Everything that came from someone else — message text, the friend's name — goes through terminalSafe().
 */
import type { MessageView } from './chat-api-types.ts';
import { terminalSafe } from './terminal-text.ts';

export interface FriendStatus {
  /** The contact's name here (or its code), as the daemon lists it. */
  readonly name: string;
  readonly presence: string;
  readonly lastSeen: number | null;
  readonly isTyping: boolean;
}

/** "14:03", or "2026-01-31 14:03" for another day than `nowMs`'s (local time: it is a person's screen). */
export function clockTime(ms: number, nowMs: number): string {
  const at = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const hhmm = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  if (at.toDateString() === new Date(nowMs).toDateString()) return hhmm;
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${hhmm}`;
}

/** A message of the conversation; ours carry their state ("(delivered)"). */
export function messageLine(m: MessageView, ownCode: string, friend: string, nowMs: number): string {
  const isOurs = m.from === ownCode;
  const who = isOurs ? 'me' : terminalSafe(friend);
  const state = isOurs ? `  (${m.state})` : '';
  return `${clockTime(m.ts, nowMs)}  ${who}: ${terminalSafe(m.text)}${state}`;
}

const STATE_WORDS: Readonly<Record<string, string>> = {
  stored: 'stored in the DHT until they are back',
  delivered: 'delivered ✓',
  read: 'read ✓✓',
};

/** One of our messages moved on (queued → stored → delivered → read); undefined for a state not worth a line. */
export function stateLine(text: string, state: string): string | undefined {
  const words = STATE_WORDS[state];
  if (words === undefined) return undefined;
  return `  ${words}: ${snippet(text)}`;
}

export function presenceLine(status: FriendStatus, nowMs: number): string {
  return `${terminalSafe(status.name)} is ${presenceWords(status, nowMs)}`;
}

export function typingLine(status: FriendStatus): string {
  return `${terminalSafe(status.name)} ${status.isTyping ? 'is typing…' : 'stopped typing'}`;
}

/** The prompt: "[bob · online · typing…] > ". */
export function statusPrompt(status: FriendStatus, nowMs: number): string {
  const typing = status.isTyping ? ' · typing…' : '';
  return `[${terminalSafe(status.name)} · ${presenceWords(status, nowMs)}${typing}] > `;
}

function presenceWords(status: FriendStatus, nowMs: number): string {
  if (status.presence === 'online' || status.lastSeen === null) return terminalSafe(status.presence);
  return `${terminalSafe(status.presence)}, last seen ${clockTime(status.lastSeen, nowMs)}`;
}

/** Our own text, shortened to one screen line's worth (it is ours: only escaped, never trusted to the terminal). */
function snippet(text: string): string {
  const chars = [...text];
  const short = chars.length > 40 ? `${chars.slice(0, 39).join('')}…` : text;
  return terminalSafe(short);
}
