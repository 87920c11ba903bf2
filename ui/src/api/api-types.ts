/**
 * The daemon's JSON shapes as the web client reads them (docs/CLI.md "Chat", the local API). Written out here
 * rather than imported from src/: the client talks to the daemon over HTTP only, and a field the daemon adds
 * later (marked optional) must not break it.
 */

export type Presence = 'online' | 'away' | 'offline';
export type MessageState = 'queued' | 'stored' | 'delivered' | 'read';

export interface ContactView {
  readonly name: string;
  readonly code: string;
  readonly presence: Presence;
  readonly lastSeen: number | null;
  /** The name they give themself (their profile), when the daemon knows it. */
  readonly profileName?: string | null;
  /** Only on a pending request we sent: whether their daemon received it yet. */
  readonly request?: 'sent' | 'received';
  /** How the daemon reaches them now; null when offline (daemons before relays send none). */
  readonly path?: FriendPath | null;
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

export interface FoundMessage extends MessageView {
  readonly with: string;
}

export interface ProfileView {
  readonly name: string | null;
  readonly code: string;
}

export interface SentMessage {
  readonly id: string;
  readonly state: MessageState;
}

export type NatBehaviour = 'none' | 'port-kept' | 'port-changed' | 'unknown';
export type FriendPath = 'direct' | 'punched' | 'mapped' | 'relayed' | 'dht';

export type GroupState = 'invited' | 'joining' | 'member' | 'left' | 'removed' | 'declined';
export type GroupRole = 'admin' | 'member';
export type GroupMessageState = 'queued' | 'sent' | 'delivered' | 'read';

/** A group (GET /v1/groups, the `group` event); ids are 64 hex digits. */
export interface GroupView {
  readonly id: string;
  readonly name: string | null;
  readonly state: GroupState;
  readonly role: GroupRole | null;
  readonly members: number;
  readonly unread: number;
  readonly invitedBy?: string;
}

export interface GroupMemberView {
  readonly code: string;
  readonly name: string | null;
  readonly role: GroupRole;
  readonly isSelf: boolean;
  readonly isOnline: boolean;
}

export interface GroupMessageView {
  readonly id: string;
  readonly group: string;
  readonly from: string;
  readonly text: string;
  readonly ts: number;
  readonly state: GroupMessageState;
  /** Other members who have it / have read it, out of `members`. */
  readonly delivered: number;
  readonly read: number;
  readonly members: number;
  /** Present when the message offers a file (its text is the file's name): the transfer's id. */
  readonly file?: { readonly id: string };
}

export interface GroupInviteView {
  readonly group: string;
  readonly name: string | null;
  readonly from: string;
  readonly receivedAt: number;
}

export type TransferState =
  | 'offered'
  | 'accepted'
  | 'transferring'
  | 'complete'
  | 'canceled'
  | 'declined'
  | 'failed';

/** A file transfer (GET /v1/files, the `file` event). */
export interface FileTransferView {
  readonly id: string;
  readonly with: string;
  readonly direction: 'outgoing' | 'incoming';
  readonly name: string;
  readonly size: number;
  readonly state: TransferState;
  readonly bytesDone: number;
  readonly bytesPerSec: number;
  readonly reason: string | null;
  readonly path: string | null;
  readonly createdAt: number;
}

export interface NetworkView {
  readonly dht: {
    readonly nodes: number;
    readonly nodesV4: number;
    readonly nodesV6: number;
    readonly externalAddress: string | null;
    readonly udpPort: number;
  };
  readonly nat: {
    readonly behaviour: NatBehaviour;
    readonly observedEndpoint: string | null;
    readonly introducers: readonly string[];
  };
  /** Sessions with strangers open now, and the most allowed (daemons before relays send none). */
  readonly strangers?: { readonly active: number; readonly limit: number };
  readonly friends: readonly {
    readonly code: string;
    readonly name: string;
    readonly presence: string;
    readonly path: FriendPath;
    readonly remote: string | null;
    readonly isInitiator: boolean | null;
  }[];
}

/** One event of GET /v1/events. */
export type ChatEvent =
  | { readonly event: 'message'; readonly from: string; readonly message: MessageView }
  | { readonly event: 'state'; readonly with: string; readonly id: string; readonly state: MessageState }
  | {
      readonly event: 'presence';
      readonly code: string;
      readonly presence: Presence;
      readonly lastSeen: number | null;
    }
  | ({ readonly event: 'request' } & RequestView)
  | { readonly event: 'typing'; readonly code: string; readonly isTyping: boolean }
  | ({ readonly event: 'accepted' } & ContactView)
  | ({ readonly event: 'request_received' } & ContactView)
  | ({ readonly event: 'file' } & FileTransferView)
  | { readonly event: 'path'; readonly code: string; readonly path: FriendPath | null }
  | {
      readonly event: 'group_message';
      readonly group: string;
      readonly name: string | null;
      readonly message: GroupMessageView;
    }
  | {
      readonly event: 'group_state';
      readonly group: string;
      readonly id: string;
      readonly state: GroupMessageState;
      readonly delivered: number;
      readonly read: number;
      readonly members: number;
    }
  | ({ readonly event: 'group_invite' } & GroupInviteView)
  | { readonly event: 'group_member'; readonly group: string; readonly code: string; readonly change: string }
  | {
      readonly event: 'group_typing';
      readonly group: string;
      readonly code: string;
      readonly isTyping: boolean;
    }
  | ({ readonly event: 'group' } & GroupView)
  | { readonly event: 'reset'; readonly reason: string };
