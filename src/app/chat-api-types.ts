/**
 * What the daemon's local API serves, as the chat contract (docs/CLI.md, "## Chat") spells it. ChatService is
 * the part of ChatNode (src/chat/chat-node.ts) the API calls, so the server and its tests do not need a network.
 * The JSON shapes here are the CLI's --json output, field for field.
 */

/** A message's state, in the exact strings of the contract. */
export type MessageStateName = 'queued' | 'stored' | 'delivered' | 'read';

export interface ContactView {
  readonly name: string;
  readonly code: string;
  readonly presence: 'online' | 'away' | 'offline';
  readonly lastSeen: number | null;
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
  readonly state: MessageStateName;
}

export interface SentMessage {
  readonly id: string;
  readonly state: MessageStateName;
}

export interface ChatService {
  readonly code: string;
  addFriend(code: string, opts?: { name?: string; message?: string }): Promise<ContactView>;
  requests(): RequestView[];
  accept(codeOrName: string): Promise<ContactView>;
  decline(codeOrName: string): void;
  block(codeOrName: string): void;
  contacts(): ContactView[];
  send(codeOrName: string, text: string): Promise<SentMessage>;
  messages(codeOrName: string): MessageView[];
  markRead(codeOrName: string): void;
}

/** The file the daemon writes in its data dir (mode 0600) so that clients find it; removed on a clean exit. */
export const API_FILE = 'api.json';

export interface ApiFile {
  readonly port: number;
  /** 32 random bytes, hex: sent as `Authorization: Bearer <token>`. */
  readonly token: string;
  readonly pid: number;
}
