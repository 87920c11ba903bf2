/**
 * What ChatNode hands out: plain JSON-able views of contacts, requests and messages, in the exact shapes of the
 * CLI contract (`contacts --json`, `requests --json`, `messages --json`), keys shown as friend codes. The way
 * back (a code or a name to a key) is contact-resolver.ts.
 */
import { isValidName } from '../contact-name.ts';
import { encodeFriendCode } from '../friend-code.ts';
import type { ChatStore } from '../store/chat-store.ts';
import type { Contact, Presence } from '../store/contacts.ts';
import type { MessageState } from '../store/message-state.ts';
import type { ContactPath } from './path.ts';
import type { StoredMessage } from '../store/messages.ts';

export interface ContactView {
  /** The contact's name (ours for them), or its friend code when it has none. */
  readonly name: string;
  readonly code: string;
  readonly presence: Presence;
  readonly lastSeen: number | null;
  /** The name they give themself (their profile), when they sent one; never used to pick a contact. */
  readonly profileName: string | null;
  /** Only for a contact we sent a request to and who has not accepted: has their daemon received it yet? */
  readonly request?: 'sent' | 'received';
  /**
   * How we reach them now (path.ts): direct, punched, mapped, relayed, dht (no session), or null (offline).
   * Present in every view ChatNode builds (optional only so that hand-made views in tests stay valid).
   */
  readonly path?: ContactPath | null;
}
/** Our own profile: the name friends are sent, and our friend code. */
export interface ProfileView {
  readonly name: string | null;
  readonly code: string;
}
/** A message found by search: which conversation it is in, then the message. */
export interface FoundMessage extends MessageView {
  readonly with: string;
}
export interface RequestView {
  readonly code: string;
  readonly name?: string;
  readonly message?: string;
  readonly receivedAt: number;
}
export interface MessageView {
  readonly id: string;
  readonly from: string;
  readonly text: string;
  readonly ts: number;
  readonly state: MessageState;
}

/** Friend codes of the keys seen lately: every message and state event names its peer (a bech32m checksum each). */
const recentCodes = new Map<string, string>();
const MAX_RECENT_CODES = 1024;

export function codeOf(peer: Buffer): string {
  const key = peer.toString('latin1');
  let code = recentCodes.get(key);
  if (code === undefined) {
    if (recentCodes.size >= MAX_RECENT_CODES) recentCodes.clear();
    code = encodeFriendCode(peer);
    recentCodes.set(key, code);
  }
  return code;
}

export function toView(m: StoredMessage): MessageView {
  return { id: m.id.toString('hex'), from: codeOf(m.sender), text: m.text, ts: m.createdMs, state: m.state };
}

/** `request`: only for a contact we sent a request to (pending); `path`: how we reach them now (path.ts). */
export function toContactView(
  c: Contact,
  extras: { request?: 'sent' | 'received' | undefined; path?: ContactPath | null } = {},
): ContactView {
  const code = codeOf(c.publicKey);
  return {
    name: c.name ?? code,
    code,
    presence: c.presence,
    lastSeen: c.lastSeenMs ?? null,
    profileName: c.profileName ?? null,
    ...(extras.request === undefined ? {} : { request: extras.request }),
    path: extras.path ?? null,
  };
}

/**
 * A requester's suggested name, when we may adopt it as the contact's name: valid (contact-name.ts) and not
 * reading like any contact's name (name-key.ts). Otherwise the contact stays unnamed (shown by its friend code)
 * until the user names it: a stranger cannot pick a name that passes for a friend's.
 */
export function usableName(store: ChatStore, name: string | undefined): string | undefined {
  if (name === undefined || !isValidName(name)) return undefined;
  return store.contacts.findConfusable(name).length === 0 ? name : undefined;
}
