/**
 * Groups: the list and the invites waiting (GET /v1/groups, /v1/groups/invites), each open group's messages
 * (the newest page, in the order every member sees; reloaded when a message arrives, since a late message can
 * belong before others), its members, who is typing. Kept current by the group events (chat-events.ts).
 */
import { computed, signal } from '@preact/signals';
import { apiGet, apiPost, isMissingRoute } from '../api/api-client.ts';
import type { GroupInviteView, GroupMemberView, GroupMessageView, GroupView } from '../api/api-types.ts';
import { nameOf } from './contacts.ts';
import { ownCode } from './session.ts';

export const groups = signal<readonly GroupView[]>([]);
export const groupInvites = signal<readonly GroupInviteView[]>([]);
/** False when the daemon serves no group calls (an older version, or groups turned off). */
export const hasGroupsApi = signal(true);

export const GROUP_PAGE_SIZE = 200;
/** Several messages in a burst reload the page once. */
const RELOAD_AFTER_MS = 150;

export function groupOf(id: string): GroupView | undefined {
  return groups.value.find((g) => g.id === id);
}

export function groupName(id: string): string {
  return (
    groupOf(id)?.name ?? groupInvites.value.find((i) => i.group === id)?.name ?? `group ${id.slice(0, 8)}`
  );
}

/** A member as we know them: "You", our contact name, else the start of their code. */
export function memberName(code: string): string {
  if (code === ownCode.value) return 'You';
  const name = nameOf(code);
  return name === code ? `${code.slice(0, 16)}…` : name;
}

export const totalGroupUnread = computed(() => groups.value.reduce((sum, g) => sum + g.unread, 0));

export async function loadGroups(): Promise<void> {
  try {
    const [list, invites] = await Promise.all([
      apiGet<GroupView[]>('/v1/groups'),
      apiGet<GroupInviteView[]>('/v1/groups/invites'),
    ]);
    groups.value = list;
    groupInvites.value = invites;
  } catch (error) {
    if (isMissingRoute(error)) hasGroupsApi.value = false;
    else throw error;
  }
}

export function upsertGroup(group: GroupView): void {
  const list = groups.value;
  const index = list.findIndex((g) => g.id === group.id);
  groups.value = index < 0 ? [...list, group] : list.map((g, i) => (i === index ? group : g));
  if (group.state !== 'invited') groupInvites.value = groupInvites.value.filter((i) => i.group !== group.id);
}

export function addInvite(invite: GroupInviteView): void {
  groupInvites.value = [...groupInvites.value.filter((i) => i.group !== invite.group), invite];
}

export function countGroupUnread(id: string, delta: number | 'clear'): void {
  groups.value = groups.value.map((g) =>
    g.id === id ? { ...g, unread: delta === 'clear' ? 0 : g.unread + delta } : g,
  );
}

export async function createGroup(name: string): Promise<GroupView> {
  const group = await apiPost<GroupView>('/v1/groups', { name });
  upsertGroup(group);
  return group;
}

export async function acceptInvite(id: string): Promise<GroupView> {
  const group = await apiPost<GroupView>('/v1/groups/accept', { group: id });
  groupInvites.value = groupInvites.value.filter((i) => i.group !== id);
  upsertGroup(group);
  return group;
}

export async function declineInvite(id: string): Promise<void> {
  await apiPost('/v1/groups/decline', { group: id });
  groupInvites.value = groupInvites.value.filter((i) => i.group !== id);
}

export async function leaveGroup(id: string): Promise<void> {
  upsertGroup(await apiPost<GroupView>('/v1/groups/leave', { group: id }));
}

/** One group's page: messages, members, typing. */
export class GroupRoom {
  readonly id: string;
  readonly messages = signal<readonly GroupMessageView[]>([]);
  readonly members = signal<readonly GroupMemberView[]>([]);
  readonly typing = signal<ReadonlySet<string>>(new Set());
  readonly hasOlder = signal(false);
  readonly isLoaded = signal(false);
  #reloadTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(id: string) {
    this.id = id;
  }

  async load(): Promise<void> {
    const query = new URLSearchParams({ group: this.id, limit: String(GROUP_PAGE_SIZE) });
    const page = await apiGet<GroupMessageView[]>(`/v1/groups/messages?${query.toString()}`);
    // Older pages already loaded stay: the newest page replaces only what it covers.
    const first = page[0];
    const older = first === undefined ? [] : this.#olderThan(first.id);
    this.messages.value = [...older, ...page];
    if (!this.isLoaded.value) this.hasOlder.value = page.length >= GROUP_PAGE_SIZE;
    this.isLoaded.value = true;
  }

  async loadOlder(): Promise<void> {
    const oldest = this.messages.value[0];
    if (oldest === undefined) return;
    const query = new URLSearchParams({ group: this.id, limit: String(GROUP_PAGE_SIZE), before: oldest.id });
    const page = await apiGet<GroupMessageView[]>(`/v1/groups/messages?${query.toString()}`);
    this.messages.value = [...page, ...this.messages.value];
    this.hasOlder.value = page.length >= GROUP_PAGE_SIZE;
  }

  async loadMembers(): Promise<void> {
    const query = new URLSearchParams({ group: this.id });
    this.members.value = await apiGet<GroupMemberView[]>(`/v1/groups/members?${query.toString()}`);
  }

  /** A message arrived: the page again, soon (it may belong before messages already shown). */
  reloadSoon(): void {
    clearTimeout(this.#reloadTimer);
    this.#reloadTimer = setTimeout(() => void this.load().catch(() => {}), RELOAD_AFTER_MS);
  }

  applyCounts(id: string, counts: Pick<GroupMessageView, 'state' | 'delivered' | 'read' | 'members'>): void {
    this.messages.value = this.messages.value.map((m) => (m.id === id ? { ...m, ...counts } : m));
  }

  setTyping(code: string, isTyping: boolean): void {
    const next = new Set(this.typing.value);
    if (isTyping) next.add(code);
    else next.delete(code);
    this.typing.value = next;
  }

  async send(text: string): Promise<void> {
    const sent = await apiPost<GroupMessageView>('/v1/groups/messages', { group: this.id, text });
    if (!this.messages.value.some((m) => m.id === sent.id))
      this.messages.value = [...this.messages.value, sent];
  }

  async markRead(): Promise<void> {
    countGroupUnread(this.id, 'clear');
    await apiPost('/v1/groups/read', { group: this.id });
  }

  async invite(who: string): Promise<void> {
    upsertGroup(await apiPost<GroupView>('/v1/groups/invite', { group: this.id, who }));
  }

  async remove(who: string): Promise<void> {
    this.members.value = await apiPost<GroupMemberView[]>('/v1/groups/remove', { group: this.id, who });
  }

  async promote(who: string): Promise<void> {
    this.members.value = await apiPost<GroupMemberView[]>('/v1/groups/promote', { group: this.id, who });
  }

  #olderThan(id: string): GroupMessageView[] {
    const list = this.messages.value;
    const index = list.findIndex((m) => m.id === id);
    return index < 0 ? [] : list.slice(0, index);
  }
}

const rooms = new Map<string, GroupRoom>();

export function roomOf(id: string): GroupRoom {
  let room = rooms.get(id);
  if (room === undefined) {
    room = new GroupRoom(id);
    rooms.set(id, room);
  }
  return room;
}

/** Rooms already opened (a reset reloads them). */
export function openedRooms(): GroupRoom[] {
  return [...rooms.values()].filter((r) => r.isLoaded.value);
}
