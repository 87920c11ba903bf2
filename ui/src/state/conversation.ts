/**
 * One conversation in the page: the messages loaded so far (the newest page first, older pages as the user
 * scrolls up: GET /v1/messages with limit/before), new ones from the event stream, our sends shown at once and
 * confirmed by the daemon, and each message's state moving only forward (sent → in the DHT → delivered → read),
 * as in the daemon.
 *
 * A state event can overtake the answer to our own send (the daemon emits it before it answers): it is kept until
 * the answer names the id. A state for an id we never sent from here (the CLI sent it) reloads the newest page.
 */
import { signal } from '@preact/signals';
import { apiGet, apiPost } from '../api/api-client.ts';
import type { MessageState, MessageView, SentMessage } from '../api/api-types.ts';

/** A message as shown: the daemon's view, or our send on its way (`isSending`), or one that failed. */
export interface ChatLine extends MessageView {
  readonly isSending?: boolean;
  readonly failure?: string;
}

export const PAGE_SIZE = 200;
/** Paging back for a search hit stops after this many pages. */
const MAX_PAGES_FOR_JUMP = 60;
const MAX_EARLY_STATES = 256;
const RANK: Record<MessageState, number> = { queued: 0, stored: 1, delivered: 2, read: 3 };

export function laterState(a: MessageState, b: MessageState | undefined): MessageState {
  return b !== undefined && RANK[b] > RANK[a] ? b : a;
}

export class Conversation {
  readonly code: string;
  readonly lines = signal<readonly ChatLine[]>([]);
  readonly hasOlder = signal(true);
  readonly isLoadingOlder = signal(false);
  readonly isLoaded = signal(false);
  readonly #earlyStates = new Map<string, MessageState>();
  #sendsInFlight = 0;
  #localSeq = 0;
  #refresh: Promise<void> | undefined;

  constructor(code: string) {
    this.code = code;
  }

  /** The newest page, replacing what was loaded (first open, and after a reset). */
  async loadLatest(): Promise<void> {
    const page = await this.#page();
    const sending = this.lines.value.filter((l) => l.isSending === true || l.failure !== undefined);
    this.lines.value = [...page, ...sending];
    this.hasOlder.value = page.length >= PAGE_SIZE;
    this.isLoaded.value = true;
  }

  /** The page before the oldest loaded message; ends paging when nothing older comes back. */
  async loadOlder(): Promise<void> {
    if (!this.hasOlder.value || this.isLoadingOlder.value) return;
    const oldest = this.lines.value[0];
    if (oldest === undefined) {
      this.hasOlder.value = false;
      return;
    }
    this.isLoadingOlder.value = true;
    try {
      const page = await this.#page(oldest.id);
      const known = new Set(this.lines.value.map((l) => l.id));
      const older = page.filter((m) => !known.has(m.id));
      // A daemon without paging answers the newest messages again: nothing new means nothing older.
      this.hasOlder.value = older.length > 0 && page.length >= PAGE_SIZE;
      if (older.length > 0) this.lines.value = [...older, ...this.lines.value];
    } finally {
      this.isLoadingOlder.value = false;
    }
  }

  /** Pages back until the message is loaded (a search hit); false if it was not found. */
  async reveal(id: string): Promise<boolean> {
    for (let pages = 0; pages < MAX_PAGES_FOR_JUMP; pages++) {
      if (this.lines.value.some((l) => l.id === id)) return true;
      if (!this.hasOlder.value) return false;
      await this.loadOlder();
    }
    return this.lines.value.some((l) => l.id === id);
  }

  /** A message from the event stream (theirs, or ours sent elsewhere). */
  addMessage(message: MessageView): void {
    if (this.lines.value.some((l) => l.id === message.id)) return;
    this.lines.value = [...this.lines.value, message];
  }

  applyState(id: string, state: MessageState): void {
    const lines = this.lines.value;
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i];
      if (line?.id !== id) continue;
      const next = laterState(line.state, state);
      if (next !== line.state) this.lines.value = lines.map((l, j) => (j === i ? { ...l, state: next } : l));
      return;
    }
    this.#earlyStates.set(id, laterState(state, this.#earlyStates.get(id)));
    if (this.#earlyStates.size > MAX_EARLY_STATES) {
      const first = this.#earlyStates.keys().next().value;
      if (first !== undefined) this.#earlyStates.delete(first);
    }
    // Not ours from this page: sent from the CLI or another tab; the newest page has it.
    if (this.#sendsInFlight === 0 && this.isLoaded.value) void this.#refreshLatest();
  }

  /** Shows the message at once, then as the daemon answered (its id and state), or with the error. */
  async send(text: string, fromCode: string): Promise<void> {
    const localId = `local-${++this.#localSeq}`;
    const line: ChatLine = {
      id: localId,
      from: fromCode,
      text,
      ts: Date.now(),
      state: 'queued',
      isSending: true,
    };
    this.lines.value = [...this.lines.value, line];
    this.#sendsInFlight++;
    try {
      const sent = await apiPost<SentMessage>('/v1/messages', { to: this.code, text });
      const state = laterState(sent.state, this.#earlyStates.get(sent.id));
      this.#earlyStates.delete(sent.id);
      this.#replace(localId, (l) => ({ ...l, id: sent.id, state, isSending: false }));
    } catch (error) {
      const failure = error instanceof Error ? error.message : String(error);
      this.#replace(localId, (l) => ({ ...l, isSending: false, failure }));
    } finally {
      this.#sendsInFlight--;
    }
  }

  /** Drops a failed send from the page (it never reached the daemon). */
  discard(localId: string): void {
    this.lines.value = this.lines.value.filter((l) => l.id !== localId);
  }

  #replace(id: string, change: (line: ChatLine) => ChatLine): void {
    this.lines.value = this.lines.value.map((l) => (l.id === id ? change(l) : l));
  }

  async #page(beforeId?: string): Promise<MessageView[]> {
    const query = new URLSearchParams({ with: this.code, limit: String(PAGE_SIZE) });
    if (beforeId !== undefined) query.set('before', beforeId);
    return apiGet<MessageView[]>(`/v1/messages?${query}`);
  }

  #refreshLatest(): Promise<void> {
    this.#refresh ??= (async () => {
      try {
        const page = await this.#page();
        for (const message of page) {
          this.addMessage(message);
          this.applyState(message.id, laterState(message.state, this.#earlyStates.get(message.id)));
        }
      } finally {
        this.#refresh = undefined;
      }
    })();
    return this.#refresh;
  }
}

const conversations = new Map<string, Conversation>();

export function conversationOf(code: string): Conversation {
  let conversation = conversations.get(code);
  if (conversation === undefined) {
    conversation = new Conversation(code);
    conversations.set(code, conversation);
  }
  return conversation;
}

export function loadedConversations(): Conversation[] {
  return [...conversations.values()].filter((c) => c.isLoaded.value);
}
