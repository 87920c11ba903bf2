/**
 * From what the user typed (a friend code or a name) to a contact's key, so that a name can never land on
 * someone the user did not mean:
 *
 * 1. A friend code picks its owner (a contact, or with `isRequesterAllowed` a pending requester).
 * 2. A contact's exact name picks it — names are ours and unique under the name keys, so this is the name the
 *    user gave. Not when a pending requester's suggested name reads alike and requesters are in play
 *    (accept, decline, block): a stranger who calls themself "Alice" must not turn `block Alice` into a block of
 *    the friend Alice without the user seeing both.
 * 3. Otherwise every contact whose name reads alike (case, look-alike characters: src/chat/name-key.ts), and with
 *    `isRequesterAllowed` every pending requester whose suggested name does: one is the answer; several are
 *    refused with CHAT_NAME_AMBIGUOUS listing them (name and code); none is CHAT_UNKNOWN_FRIEND.
 *
 * Blocked contacts are found only with `isBlockedAllowed` (unblock, block). Names in the messages are quoted as
 * they are; the command line escapes every error line before printing (a requester's name is remote input).
 */
import { DhtchatError } from '../../runtime/index.ts';
import { NameErrorCode } from '../contact-name.ts';
import { decodeFriendCode, encodeFriendCode, FRIEND_CODE_PREFIX } from '../friend-code.ts';
import { areConfusable, nameKeys } from '../name-key.ts';
import type { ChatStore } from '../store/chat-store.ts';
import type { Contact } from '../store/contacts.ts';
import { ChatStoreErrorCode } from '../store/store-errors.ts';

/** A pending incoming request and the name its sender suggested (remote input, not validated). */
export interface Requester {
  readonly peer: Buffer;
  readonly name: string | undefined;
}

export interface ResolveOptions {
  /** Pending requesters may be meant (accept, decline, block). */
  readonly isRequesterAllowed?: boolean;
  /** Blocked contacts may be meant (block, unblock). */
  readonly isBlockedAllowed?: boolean;
  /** The pending requesters, when isRequesterAllowed. */
  readonly requesters?: () => readonly Requester[];
}

interface Candidate {
  readonly peer: Buffer;
  readonly label: string;
}

/** A contact's (or requester's) key for what the user typed; see the top of this file. */
export function resolveWho(store: ChatStore, typed: string, opts: ResolveOptions = {}): Buffer {
  const text = typed.trim();
  const isAllowed = (c: Contact): boolean => opts.isBlockedAllowed === true || c.state !== 'blocked';
  if (text.toLowerCase().startsWith(FRIEND_CODE_PREFIX)) {
    const peer = decodeFriendCode(text);
    const contact = store.contacts.get(peer);
    if (contact !== undefined && isAllowed(contact)) return peer;
    const isRequester =
      opts.isRequesterAllowed === true && store.requests.get(peer, 'incoming') !== undefined;
    if (contact === undefined && isRequester) return peer;
    throw unknown(typed);
  }
  const requesters = opts.isRequesterAllowed === true ? confusableRequesters(text, opts.requesters) : [];
  const exact = store.contacts.findByName(text);
  if (exact !== undefined && isAllowed(exact) && requesters.length === 0) return exact.publicKey;
  const contacts: Candidate[] = store.contacts
    .findConfusable(text)
    .filter(isAllowed)
    .map((c) => ({ peer: c.publicKey, label: `"${c.name ?? ''}" (${encodeFriendCode(c.publicKey)})` }));
  const candidates = dedupe([...contacts, ...requesters]);
  const [only] = candidates;
  if (only === undefined) throw unknown(typed);
  if (candidates.length === 1) return only.peer;
  throw new DhtchatError(
    NameErrorCode.ambiguous,
    `"${text}" could mean ${candidates.length} people: ${candidates.map((c) => c.label).join(', ')}; ` +
      'use the friend code',
  );
}

/** An accepted contact's key; CHAT_UNKNOWN_FRIEND (saying why) for anyone else. */
export function resolveFriend(store: ChatStore, typed: string): Buffer {
  const peer = resolveWho(store, typed);
  const state = store.contacts.get(peer)?.state;
  if (state !== 'accepted') {
    throw new DhtchatError(
      ChatStoreErrorCode.unknownFriend,
      `"${typed}" is not a friend yet (${state ?? 'unknown'}): they must accept your request first`,
    );
  }
  return peer;
}

function confusableRequesters(text: string, list: ResolveOptions['requesters']): Candidate[] {
  if (list === undefined) return [];
  const keys = nameKeys(text);
  return list()
    .filter((r) => r.name !== undefined && r.name !== '' && areConfusable(keys, nameKeys(r.name)))
    .map((r) => ({
      peer: r.peer,
      label: `"${r.name ?? ''}" (${encodeFriendCode(r.peer)}, friend request)`,
    }));
}

function dedupe(candidates: readonly Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return candidates.filter((c) => {
    const hex = c.peer.toString('hex');
    if (seen.has(hex)) return false;
    seen.add(hex);
    return true;
  });
}

function unknown(typed: string): DhtchatError {
  return new DhtchatError(ChatStoreErrorCode.unknownFriend, `no contact "${typed}"`);
}
