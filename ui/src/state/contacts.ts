/**
 * Contacts, friend requests, unread counts and who is typing: loaded from the API, then kept current by the
 * event stream (chat-events.ts). Every action goes to the daemon and updates the lists from its answer.
 */
import { computed, signal } from '@preact/signals';
import { apiGet, apiPost, isMissingRoute } from '../api/api-client.ts';
import type { ContactView, FriendPath, Presence, RequestView } from '../api/api-types.ts';

export const contacts = signal<readonly ContactView[]>([]);
export const requests = signal<readonly RequestView[]>([]);
/** Incoming messages not read yet, by friend code. */
export const unread = signal<Readonly<Record<string, number>>>({});
/** Friend codes currently typing to us. */
export const typing = signal<ReadonlySet<string>>(new Set());
/** True once the lists were loaded (before that, the first-run screens cannot tell a first run). */
export const isContactsLoaded = signal(false);
/** False when the daemon has no rename/remove calls yet (an older version). */
export const canEditContacts = signal(true);

export const totalUnread = computed(() => Object.values(unread.value).reduce((a, b) => a + b, 0));

export function contactOf(code: string): ContactView | undefined {
  return contacts.value.find((c) => c.code === code);
}

/** A contact's display name: our name for them, else their code. */
export function nameOf(code: string): string {
  return contactOf(code)?.name ?? requests.value.find((r) => r.code === code)?.name ?? code;
}

export function isPending(contact: ContactView): boolean {
  return contact.request !== undefined;
}

export async function loadContacts(): Promise<void> {
  const [list, pending, counts] = await Promise.all([
    apiGet<ContactView[]>('/v1/contacts'),
    apiGet<RequestView[]>('/v1/requests'),
    apiGet<Record<string, number>>('/v1/unread'),
  ]);
  contacts.value = list;
  requests.value = pending;
  unread.value = counts;
  isContactsLoaded.value = true;
}

export function upsertContact(contact: ContactView): void {
  const list = contacts.value;
  const index = list.findIndex((c) => c.code === contact.code);
  contacts.value = index < 0 ? [...list, contact] : list.map((c, i) => (i === index ? contact : c));
}

export function setPresence(code: string, presence: Presence, lastSeen: number | null): void {
  contacts.value = contacts.value.map((c) => (c.code === code ? { ...c, presence, lastSeen } : c));
  if (presence !== 'online') setTyping(code, false);
}

export function setPath(code: string, path: FriendPath | null): void {
  contacts.value = contacts.value.map((c) => (c.code === code ? { ...c, path } : c));
}

export function addRequest(request: RequestView): void {
  requests.value = [...requests.value.filter((r) => r.code !== request.code), request];
}

export function setTyping(code: string, isTyping: boolean): void {
  const next = new Set(typing.value);
  if (isTyping) next.add(code);
  else next.delete(code);
  typing.value = next;
}

export function countUnread(code: string, delta: number | 'clear'): void {
  const current = unread.value[code] ?? 0;
  const next = delta === 'clear' ? 0 : current + delta;
  if (next === current) return;
  const copy = { ...unread.value };
  if (next === 0) delete copy[code];
  else copy[code] = next;
  unread.value = copy;
}

export async function addFriend(
  code: string,
  opts: { name?: string; message?: string },
): Promise<ContactView> {
  const contact = await apiPost<ContactView>('/v1/contacts', { code, ...opts });
  upsertContact(contact);
  requests.value = requests.value.filter((r) => r.code !== contact.code);
  return contact;
}

export async function acceptRequest(code: string): Promise<ContactView> {
  const contact = await apiPost<ContactView>('/v1/requests/accept', { who: code });
  upsertContact(contact);
  requests.value = requests.value.filter((r) => r.code !== code);
  return contact;
}

export async function declineRequest(code: string): Promise<void> {
  await apiPost('/v1/requests/decline', { who: code });
  requests.value = requests.value.filter((r) => r.code !== code);
}

export async function blockContact(code: string): Promise<void> {
  await apiPost('/v1/block', { who: code });
  requests.value = requests.value.filter((r) => r.code !== code);
  contacts.value = contacts.value.filter((c) => c.code !== code);
}

export async function renameContact(code: string, name: string): Promise<void> {
  try {
    upsertContact(await apiPost<ContactView>('/v1/contacts/rename', { who: code, name }));
  } catch (error) {
    if (isMissingRoute(error)) canEditContacts.value = false;
    throw error;
  }
}

export async function removeContact(code: string, isHistoryForgotten: boolean): Promise<void> {
  try {
    await apiPost('/v1/contacts/remove', { who: code, forget: isHistoryForgotten });
  } catch (error) {
    if (isMissingRoute(error)) canEditContacts.value = false;
    throw error;
  }
  contacts.value = contacts.value.filter((c) => c.code !== code);
  countUnread(code, 'clear');
}

/** Their messages are seen: the daemon marks them read (and tells them). Cheap when nothing is unread. */
export async function markRead(code: string): Promise<void> {
  countUnread(code, 'clear');
  await apiPost('/v1/read', { who: code });
}
