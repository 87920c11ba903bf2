/**
 * The event stream applied to the page's state: messages into their conversation (and unread counts, a
 * notification when the tab is hidden, an announcement for screen readers), states onto our messages, presence,
 * typing, requests, friends accepted, file transfers, how each friend is reached. A reset reloads everything.
 */
import type { ChatEvent, FileTransferView } from '../api/api-types.ts';
import { followEvents } from '../api/event-stream.ts';
import { announce } from './announcer.ts';
import {
  addRequest,
  countUnread,
  loadContacts,
  markRead,
  nameOf,
  setPath,
  setPresence,
  setTyping,
  upsertContact,
} from './contacts.ts';
import { conversationOf, loadedConversations } from './conversation.ts';
import { applyTransfer, loadFiles, transfers } from './files.ts';
import {
  addInvite,
  countGroupUnread,
  groupName,
  loadGroups,
  memberName,
  openedRooms,
  roomOf,
  upsertGroup,
} from './groups.ts';
import { openChatCode, screen, show } from './navigation.ts';
import { notifyMessage } from './notifications.ts';
import { ownCode, streamStatus } from './session.ts';

/** A friend's typing shows at most this long without news (the daemon also ends it after 15 s). */
const TYPING_STALE_MS = 20_000;
const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

export function startChatEvents(): () => void {
  return followEvents({
    onEvent: applyEvent,
    onReset: () => void reloadAll(),
    onStatus: (status) => {
      streamStatus.value = status;
    },
  });
}

export async function reloadAll(): Promise<void> {
  await Promise.all([loadContacts(), loadFiles(), loadGroups()]);
  await Promise.all(openedRooms().map((room) => room.load()));
  await Promise.all(loadedConversations().map((c) => c.loadLatest()));
  const open = openChatCode();
  if (open !== undefined && isReading()) await markRead(open);
}

/** The user sees the open conversation: the tab is visible. */
export function isReading(): boolean {
  return document.visibilityState === 'visible';
}

export function applyEvent(event: ChatEvent): void {
  switch (event.event) {
    case 'message': {
      const { from, message } = event;
      conversationOf(from).addMessage(message);
      if (message.from === ownCode.value) return;
      setTyping(from, false);
      if (openChatCode() === from && isReading()) {
        void markRead(from).catch(() => {});
      } else {
        countUnread(from, 1);
      }
      announce(`message from ${nameOf(from)}: ${message.text}`);
      if (document.visibilityState === 'hidden') notifyMessage(from, nameOf(from), message.text);
      return;
    }
    case 'state':
      conversationOf(event.with).applyState(event.id, event.state);
      return;
    case 'presence':
      setPresence(event.code, event.presence, event.lastSeen);
      return;
    case 'typing':
      setTyping(event.code, event.isTyping);
      clearTimeout(typingTimers.get(event.code));
      if (event.isTyping) {
        typingTimers.set(
          event.code,
          setTimeout(() => setTyping(event.code, false), TYPING_STALE_MS),
        );
      }
      return;
    case 'request': {
      const { event: _name, ...request } = event;
      addRequest(request);
      announce(`friend request from ${request.name ?? request.code}`);
      return;
    }
    case 'accepted':
    case 'request_received': {
      const { event: name, ...contact } = event;
      upsertContact(name === 'accepted' ? withoutRequest(contact) : contact);
      if (name === 'accepted') announce(`${contact.name} is now your friend`);
      return;
    }
    case 'file': {
      const { event: _name, ...transfer } = event;
      const before = transfers.value.get(transfer.id);
      applyTransfer(transfer);
      if (before?.state !== transfer.state) announceTransfer(transfer);
      return;
    }
    case 'path':
      setPath(event.code, event.path);
      return;
    case 'group_message': {
      const { group, message } = event;
      const room = roomOf(group);
      const current = screen.value;
      const isOpen = current.kind === 'group' && current.id === group;
      if (room.isLoaded.value || isOpen) room.reloadSoon();
      if (message.from === ownCode.value) return;
      room.setTyping(message.from, false);
      if (isOpen && isReading()) void room.markRead().catch(() => {});
      else countGroupUnread(group, 1);
      announce(`${memberName(message.from)} in ${groupName(group)}: ${message.text}`);
      if (document.visibilityState === 'hidden') {
        notifyMessage(group, `${memberName(message.from)} in ${groupName(group)}`, message.text, () =>
          show({ kind: 'group', id: group }),
        );
      }
      return;
    }
    case 'group_state': {
      const { group, id, state, delivered, read, members } = event;
      roomOf(group).applyCounts(id, { state, delivered, read, members });
      return;
    }
    case 'group_invite': {
      const { event: _name, ...invite } = event;
      addInvite(invite);
      announce(`${nameOf(invite.from)} invites you to the group ${invite.name ?? ''}`);
      return;
    }
    case 'group_member': {
      const room = roomOf(event.group);
      if (room.isLoaded.value) void room.loadMembers().catch(() => {});
      void loadGroups().catch(() => {});
      return;
    }
    case 'group_typing': {
      const room = roomOf(event.group);
      room.setTyping(event.code, event.isTyping);
      const key = `${event.group}/${event.code}`;
      clearTimeout(typingTimers.get(key));
      if (event.isTyping) {
        typingTimers.set(
          key,
          setTimeout(() => room.setTyping(event.code, false), TYPING_STALE_MS),
        );
      }
      return;
    }
    case 'group': {
      const { event: _name, ...group } = event;
      upsertGroup(group);
      return;
    }
    case 'reset':
      void reloadAll();
      return;
  }
}

/** Only the changes worth hearing: an offer, and how a transfer ended. */
function announceTransfer(t: FileTransferView): void {
  const who = nameOf(t.with);
  if (t.direction === 'incoming' && t.state === 'offered') announce(`${who} offers the file ${t.name}`);
  else if (t.state === 'complete') announce(`${t.name} ${t.direction === 'incoming' ? 'received' : 'sent'}`);
  else if (t.state === 'declined' || t.state === 'canceled' || t.state === 'failed')
    announce(`${t.name}: ${t.state}`);
}

function withoutRequest<T extends { request?: unknown }>(contact: T): T {
  const { request: _request, ...rest } = contact;
  return rest as T;
}
