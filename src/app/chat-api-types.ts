/**
 * What the daemon's local API serves, as the chat contract (docs/CLI.md, "## Chat") spells it. ChatService is
 * the part of ChatNode (src/chat/chat-node.ts) the API calls, so the server and its tests do not need a network.
 * The JSON shapes here are the CLI's --json output, field for field.
 */

import type {
  ChatNodeEvents,
  ContactView,
  FileTransferView,
  FoundMessage,
  GroupInviteView,
  GroupMemberView,
  GroupMessageView,
  GroupService,
  GroupView,
  MessageState,
  MessageView,
  ProfileView,
  RequestView,
  TypingResult,
} from '../chat/index.ts';

export type {
  ChatNodeEvents,
  ContactView,
  FileTransferView,
  FoundMessage,
  GroupInviteView,
  GroupMemberView,
  GroupMessageView,
  GroupView,
  MessageView,
  ProfileView,
  RequestView,
  TypingResult,
};

/** The events GET /v1/events streams, each as `{"event": name, ...the event's fields}`. */
export const CHAT_EVENT_NAMES = [
  'message',
  'state',
  'presence',
  'request',
  'typing',
  'accepted',
  'request_received',
  'file',
  'path',
  'group_message',
  'group_state',
  'group_invite',
  'group_member',
  'group_typing',
  'group',
] as const;
export type ChatEventName = (typeof CHAT_EVENT_NAMES)[number];

/** A message's state, in the exact strings of the contract. */
export type MessageStateName = MessageState;

export interface SentMessage {
  readonly id: string;
  readonly state: MessageStateName;
}

/** Paging back through a conversation: the newest `limit` before a message id (hex) or a time (ms). */
export interface MessagePage {
  readonly limit?: number;
  readonly beforeId?: string;
  readonly beforeMs?: number;
}

export interface ChatService {
  readonly code: string;
  /** Our code is being shown (GET /v1/id): requests are looked for every few seconds for a while. */
  noteCodeShown?(): void;
  addFriend(code: string, opts?: { name?: string; message?: string }): Promise<ContactView>;
  requests(): RequestView[];
  accept(codeOrName: string): Promise<ContactView>;
  decline(codeOrName: string): void;
  block(codeOrName: string): void;
  unblock(codeOrName: string): ContactView;
  contacts(): ContactView[];
  blocked(): ContactView[];
  rename(codeOrName: string, name: string): ContactView;
  remove(codeOrName: string, opts?: { isHistoryForgotten?: boolean }): ContactView;
  profile(): ProfileView;
  setProfileName(name: string): Promise<ProfileView>;
  send(codeOrName: string, text: string): Promise<SentMessage>;
  messages(codeOrName: string, page?: MessagePage): MessageView[];
  search(text: string, opts?: { with?: string; limit?: number }): FoundMessage[];
  markRead(codeOrName: string): void;
  /** Tells the friend we are (or stopped) typing; they show it until we stop or it goes stale. */
  setTyping(codeOrName: string, isTyping: boolean): TypingResult;
  /** Offers a file (an absolute path on the daemon's machine) to a friend. */
  sendFile(codeOrName: string, path: string): Promise<FileTransferView>;
  /** Offers a file to a group we are a member of (its id or name); absent: a daemon without groups. */
  sendFileToGroup?(groupIdOrName: string, path: string): Promise<FileTransferView>;
  /** Every file transfer, newest first. */
  files(): FileTransferView[];
  /** Accepts an offered file (id or a unique prefix of 4+ hex digits); `to`: an absolute directory or new path. */
  acceptFile(id: string, opts?: { to?: string }): Promise<FileTransferView>;
  /** Cancels a transfer either way (declines an offer). */
  cancelFile(id: string): Promise<FileTransferView>;
  /** Private groups (src/chat/groups/group-service.ts); without it the /v1/groups calls are 404s. */
  readonly groups?: GroupApi;
  on<E extends ChatEventName>(event: E, listener: (...args: ChatNodeEvents[E]) => void): unknown;
  off<E extends ChatEventName>(event: E, listener: (...args: ChatNodeEvents[E]) => void): unknown;
}

/** What the API calls of the group service (docs/CLI.md "Groups"). */
export type GroupApi = Pick<
  GroupService,
  | 'list'
  | 'invites'
  | 'create'
  | 'invite'
  | 'accept'
  | 'decline'
  | 'leave'
  | 'remove'
  | 'promote'
  | 'members'
  | 'send'
  | 'messages'
  | 'markRead'
  | 'setTyping'
>;

/** The file the daemon writes in its data dir (mode 0600) so that clients find it; removed on a clean exit. */
export const API_FILE = 'api.json';

export interface ApiFile {
  readonly port: number;
  /** 32 random bytes, hex: sent as `Authorization: Bearer <token>`. */
  readonly token: string;
  readonly pid: number;
}
