/**
 * What ChatNode hands out: plain JSON-able views of contacts, requests and messages, in the exact shapes of the
 * CLI contract (`contacts --json`, `requests --json`, `messages --json`), keys shown as friend codes; and the
 * way back: a friend code or a name to a contact's key.
 */
import { DhtchatError } from '../../runtime/index.ts';
import { decodeFriendCode, encodeFriendCode } from '../friend-code.ts';
import type { ChatStore } from '../store/chat-store.ts';
import type { Contact, Presence } from '../store/contacts.ts';
import type { MessageState } from '../store/message-state.ts';
import type { StoredMessage } from '../store/messages.ts';
import { ChatStoreErrorCode } from '../store/store-errors.ts';

export interface ContactView {
  /** The contact's name, or its friend code when it has none. */
  readonly name: string;
  readonly code: string;
  readonly presence: Presence;
  readonly lastSeen: number | null;
  /** Only for a contact we sent a request to and who has not accepted: has their daemon received it yet? */
  readonly request?: 'sent' | 'received';
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

export function codeOf(peer: Buffer): string {
  return encodeFriendCode(peer);
}

export function toView(m: StoredMessage): MessageView {
  return { id: m.id.toString('hex'), from: codeOf(m.sender), text: m.text, ts: m.createdMs, state: m.state };
}

export function toContactView(c: Contact, request?: 'sent' | 'received'): ContactView {
  const code = codeOf(c.publicKey);
  return {
    name: c.name ?? code,
    code,
    presence: c.presence,
    lastSeen: c.lastSeenMs ?? null,
    ...(request === undefined ? {} : { request }),
  };
}

/** A requester's suggested name, if it is a valid contact name not taken yet (else the contact stays unnamed). */
export function usableName(store: ChatStore, name: string | undefined): string | undefined {
  if (name === undefined || name.length === 0 || name.length > 64) return undefined;
  if (/[\u0000-\u001f\u007f]/.test(name) || name.trim() !== name || /^dhtchat:/i.test(name)) return undefined;
  return store.contacts.findByName(name) === undefined ? name : undefined;
}

/** A contact by friend code or name; `anyState` also finds pending, declined and blocked ones. */
export function resolveContact(store: ChatStore, codeOrName: string, anyState: boolean): Buffer {
  const text = codeOrName.trim();
  let contact: Contact | undefined;
  if (text.toLowerCase().startsWith('dhtchat:')) {
    const peer = decodeFriendCode(text);
    contact = store.contacts.get(peer);
    if (contact === undefined && anyState && store.requests.get(peer, 'incoming') !== undefined) return peer;
  } else {
    contact = store.contacts.findByName(text);
  }
  if (contact === undefined || (!anyState && contact.state === 'blocked')) {
    throw new DhtchatError(ChatStoreErrorCode.unknownFriend, `no contact "${codeOrName}"`);
  }
  return contact.publicKey;
}

/** An accepted contact's key; CHAT_UNKNOWN_FRIEND (saying why) for anyone else. */
export function resolveFriend(store: ChatStore, codeOrName: string): Buffer {
  const peer = resolveContact(store, codeOrName, false);
  const state = store.contacts.get(peer)?.state;
  if (state !== 'accepted') {
    throw new DhtchatError(
      ChatStoreErrorCode.unknownFriend,
      `"${codeOrName}" is not a friend yet (${state ?? 'unknown'}): they must accept your request first`,
    );
  }
  return peer;
}
