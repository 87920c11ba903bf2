/**
 * What the group API hands out (docs/CLI.md "Groups"): plain JSON-able views, keys as friend codes, group ids as
 * 64 hex digits. Names: a group's name is what its creator called it (anyone's text: printed through
 * terminalSafe by the app); a member is shown by the name we gave them as a contact, else by its code.
 */
import type { ChatStore } from '../store/chat-store.ts';
import type { GroupRow, GroupState, StoredEntry } from '../store/groups.ts';
import { codeOf } from '../session/views.ts';
import type { DeliveryCounts, GroupMessageState } from './group-delivery.ts';
import type { Membership, Role } from './membership.ts';

export interface GroupView {
  readonly id: string;
  /** The name its creator gave it (from its create op, or the invite until we hold that). */
  readonly name: string | null;
  readonly state: GroupState;
  /** Our role while we are a member. */
  readonly role: Role | null;
  /** Current members, us included (0 until we hold the ops). */
  readonly members: number;
  readonly unread: number;
  /** For an invite: who invited us. */
  readonly invitedBy?: string;
}

export interface GroupMemberView {
  readonly code: string;
  /** Our contact name for them, when they are a contact. */
  readonly name: string | null;
  readonly role: Role;
  readonly isSelf: boolean;
  /** A session with them is up now (for us: true). */
  readonly isOnline: boolean;
}

export interface GroupMessageView {
  readonly id: string;
  readonly group: string;
  readonly from: string;
  /** A file offer's text is the file's name. */
  readonly text: string;
  /** Present when the message offers a file: the transfer's id (`files`, `accept-file <id>`). */
  readonly file?: { readonly id: string };
  readonly ts: number;
  readonly state: GroupMessageState;
  /** Members (not the author) who have it / have read it, out of `members`. */
  readonly delivered: number;
  readonly read: number;
  readonly members: number;
}

export interface GroupInviteView {
  readonly group: string;
  readonly name: string | null;
  readonly from: string;
  readonly receivedAt: number;
}

export function groupIdHex(groupId: Buffer): string {
  return groupId.toString('hex');
}

export function toGroupView(
  row: GroupRow,
  membership: Membership | undefined,
  ownHex: string,
  unread: number,
): GroupView {
  const isMember = row.state === 'member' && membership !== undefined;
  return {
    id: groupIdHex(row.groupId),
    name: membership?.name ?? row.name ?? null,
    state: row.state,
    role: isMember ? (membership.members.get(ownHex)?.role ?? null) : null,
    members: isMember ? membership.members.size : 0,
    unread,
    ...(row.state === 'invited' && row.inviter !== undefined ? { invitedBy: codeOf(row.inviter) } : {}),
  };
}

export function toMemberViews(
  store: ChatStore,
  membership: Membership,
  ownHex: string,
  isOnline: (peer: Buffer) => boolean,
): GroupMemberView[] {
  return [...membership.members.values()]
    .sort((a, b) => a.sincePosition - b.sincePosition)
    .map((m) => {
      const isSelf = m.publicKey.toString('hex') === ownHex;
      const contact = store.contacts.get(m.publicKey);
      return {
        code: codeOf(m.publicKey),
        name: contact?.state === 'accepted' ? (contact.name ?? null) : null,
        role: m.role,
        isSelf,
        isOnline: isSelf || isOnline(m.publicKey),
      };
    });
}

export function toGroupMessageView(entry: StoredEntry, counts: DeliveryCounts | undefined): GroupMessageView {
  return {
    id: entry.hash.toString('hex'),
    group: groupIdHex(entry.groupId),
    from: codeOf(entry.author),
    text: entry.text ?? '',
    ...(entry.fileId === undefined ? {} : { file: { id: entry.fileId.toString('hex') } }),
    ts: entry.createdMs,
    state: counts?.state ?? 'queued',
    delivered: counts?.delivered ?? 0,
    read: counts?.read ?? 0,
    members: counts?.members ?? 0,
  };
}
