/**
 * `dhtchat chat <name|code>`: a conversation with one friend, live, as a client of the running daemon's local API.
 *
 * Opens with the last 20 messages (and marks the friend's read), then follows GET /v1/events: the friend's
 * messages (marked read while the window is open), our messages' progress (stored / delivered / read), presence
 * and typing. Each line typed is sent (POST /v1/messages); empty lines are ignored; `/quit`, Ctrl-D or Ctrl-C
 * leave. While the user types, a typing frame goes out at most every 5 s (the friend's indicator fades 15 s after
 * the last), and a "stopped" one when the input is cleared. On a terminal the friend's name, presence and typing
 * sit in the prompt (chat-screen.ts); from a pipe, lines in are messages out and every event is a printed line.
 *
 * Exit 0 when the user leaves, when the input ends (after every line read was sent), and when the daemon goes away
 * (after a line saying so: the chat is over, nothing failed here). Exit 1 only when it cannot start (no daemon,
 * no such friend).
 */
import type { Command } from 'commander';
import { DhtchatError } from '../runtime/index.ts';
import { callDaemon, followDaemonEvents } from './chat-api-client.ts';
import type { ContactView, MessageView, SentMessage } from './chat-api-types.ts';
import { dataDirOf } from './chat-data-dir.ts';
import { type ChatScreen, openChatScreen } from './chat-screen.ts';
import {
  type FriendStatus,
  messageLine,
  presenceLine,
  stateLine,
  statusPrompt,
  typingLine,
} from './chat-view-lines.ts';
import { terminalSafe } from './terminal-text.ts';

const HISTORY_MESSAGES = 20;
/** A fresh typing frame this often while the user keeps typing (the friend's indicator lasts 15 s). */
const TYPING_REFRESH_MS = 5_000;
/** Messages arriving in a burst are marked read with one call. */
const READ_DELAY_MS = 300;
/** The event stream may connect after the history was read: one more look catches what fell in between. */
const CATCH_UP_AFTER_MS = 1_000;
const STATE_ORDER = ['queued', 'stored', 'delivered', 'read'];

export function registerInteractiveChatCommand(program: Command): void {
  program
    .command('chat')
    .description(
      'talk with a friend: their messages, receipts and typing appear live; each line you type is sent',
    )
    .argument('<name|code>', 'the friend')
    .action(async (who: string, _flags: unknown, cmd: Command) => {
      await new InteractiveChat(dataDirOf(cmd)).run(who);
    });
}

class InteractiveChat {
  readonly #dataDir: string;
  readonly #stop = new AbortController();
  /** Our messages in this window: text and last state shown. */
  readonly #ours = new Map<string, { text: string; state: string }>();
  /** A state that arrived before the send call returned the message's id. */
  readonly #earlyStates = new Map<string, string>();
  readonly #shown = new Set<string>();
  readonly #sends = new Set<Promise<void>>();
  #ownCode = '';
  #friend = '';
  #status: FriendStatus = { name: '', presence: 'offline', lastSeen: null, isTyping: false };
  #screen: ChatScreen | undefined;
  #typingSentMs: number | undefined;
  #readTimer: NodeJS.Timeout | undefined;
  #ended: (() => void) | undefined;

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  async run(who: string): Promise<void> {
    // Not GET /v1/id: that one tells the daemon our code is being shown (request-beacon.ts).
    this.#ownCode = ((await this.#call('GET', '/v1/profile')) as { code: string }).code;
    const contact = await this.#findFriend(who);
    this.#friend = contact.code;
    this.#status = {
      name: contact.name,
      presence: contact.presence,
      lastSeen: contact.lastSeen,
      isTyping: false,
    };
    const history = await this.#history();
    const ended = new Promise<void>((resolve) => {
      this.#ended = resolve;
    });
    const screen = openChatScreen({
      onLine: (text) => this.#onLine(text),
      onInput: (text) => this.#onInput(text),
      onEnd: () => this.#end(),
    });
    this.#screen = screen;
    screen.setStatus(statusPrompt(this.#status, Date.now()));
    if (history.length > HISTORY_MESSAGES) {
      screen.print(`(${history.length - HISTORY_MESSAGES} earlier messages: dhtchat messages ${who})`);
    }
    for (const m of history.slice(-HISTORY_MESSAGES)) this.#showMessage(m);
    this.#markRead();
    const onSignal = (): void => this.#end();
    process.once('SIGTERM', onSignal);
    const following = followDaemonEvents(this.#dataDir, (e) => this.#onEvent(e), this.#stop.signal);
    following.then(
      () => this.#daemonGone(),
      () => this.#daemonGone(),
    );
    const catchUp = setTimeout(() => void this.#catchUp(), CATCH_UP_AFTER_MS);
    await ended;
    clearTimeout(catchUp);
    clearTimeout(this.#readTimer);
    process.off('SIGTERM', onSignal);
    this.#stop.abort();
    await Promise.allSettled([...this.#sends]);
    if (this.#typingSentMs !== undefined) await this.#setTyping(false);
    screen.close();
  }

  async #findFriend(who: string): Promise<ContactView> {
    const text = who.trim();
    const contacts = (await this.#call('GET', '/v1/contacts')) as ContactView[];
    const found = contacts.find((c) => c.name === text || c.code === text.toLowerCase());
    if (found === undefined) {
      throw new DhtchatError('CHAT_UNKNOWN_FRIEND', `no friend "${who}" (dhtchat contacts lists them)`);
    }
    return found;
  }

  async #history(): Promise<MessageView[]> {
    const path = `/v1/messages?with=${encodeURIComponent(this.#friend)}`;
    return (await this.#call('GET', path)) as MessageView[];
  }

  #onLine(text: string): void {
    const trimmed = text.trim();
    if (trimmed === '') return;
    if (trimmed === '/quit') {
      this.#end();
      return;
    }
    this.#typingSentMs = undefined; // the message itself ends the friend's typing indicator
    const sending = this.#send(text).finally(() => this.#sends.delete(sending));
    this.#sends.add(sending);
  }

  async #send(text: string): Promise<void> {
    try {
      const sent = (await this.#call('POST', '/v1/messages', { to: this.#friend, text })) as SentMessage;
      this.#ours.set(sent.id, { text, state: sent.state });
      this.#showMessage({ id: sent.id, from: this.#ownCode, text, ts: Date.now(), state: sent.state });
      const early = this.#earlyStates.get(sent.id);
      this.#earlyStates.delete(sent.id);
      if (early !== undefined) this.#onState(sent.id, early);
    } catch (error) {
      this.#print(`error: ${terminalSafe(error instanceof Error ? error.message : String(error))}`);
    }
  }

  #onInput(text: string): void {
    if (text.trim() === '') {
      if (this.#typingSentMs !== undefined) void this.#setTyping(false);
      return;
    }
    const now = Date.now();
    if (this.#typingSentMs === undefined || now - this.#typingSentMs >= TYPING_REFRESH_MS) {
      this.#typingSentMs = now;
      void this.#setTyping(true);
    }
  }

  async #setTyping(isTyping: boolean): Promise<void> {
    if (!isTyping) this.#typingSentMs = undefined;
    // Typing is news only while both are online: a failure (friend offline) changes nothing for the user.
    await this.#call('POST', '/v1/typing', { who: this.#friend, isTyping }).catch(() => undefined);
  }

  #onEvent(e: Record<string, unknown>): void {
    switch (e['event']) {
      case 'message': {
        const m = e['message'] as MessageView | undefined;
        if (e['from'] !== this.#friend || m === undefined || this.#shown.has(m.id)) return;
        this.#showMessage(m);
        this.#markReadSoon();
        return;
      }
      case 'state':
        if (e['with'] === this.#friend) this.#onState(String(e['id']), String(e['state']));
        return;
      case 'presence': {
        if (e['code'] !== this.#friend) return;
        const presence = String(e['presence']);
        const isNews = presence !== this.#status.presence;
        this.#updateStatus({ presence, lastSeen: (e['lastSeen'] as number | null) ?? null });
        if (isNews) this.#print(presenceLine(this.#status, Date.now()));
        return;
      }
      case 'typing':
        if (e['code'] !== this.#friend) return;
        this.#updateStatus({ isTyping: e['isTyping'] === true });
        if (this.#screen?.isTerminal === false) this.#print(typingLine(this.#status));
        return;
    }
  }

  #onState(id: string, state: string): void {
    const ours = this.#ours.get(id);
    if (ours === undefined) {
      this.#earlyStates.set(id, state);
      return;
    }
    if (STATE_ORDER.indexOf(state) <= STATE_ORDER.indexOf(ours.state)) return;
    ours.state = state;
    const line = stateLine(ours.text, state);
    if (line !== undefined) this.#print(line);
  }

  #showMessage(m: MessageView): void {
    this.#shown.add(m.id);
    if (m.from === this.#ownCode) this.#ours.set(m.id, { text: m.text, state: m.state });
    this.#print(messageLine(m, this.#ownCode, this.#status.name, Date.now()));
  }

  async #catchUp(): Promise<void> {
    try {
      const missed = (await this.#history()).filter((m) => !this.#shown.has(m.id) && m.from === this.#friend);
      for (const m of missed) this.#showMessage(m);
      if (missed.length > 0) this.#markReadSoon();
    } catch {
      // The daemon went away: the event stream says so.
    }
  }

  #markReadSoon(): void {
    clearTimeout(this.#readTimer);
    this.#readTimer = setTimeout(() => this.#markRead(), READ_DELAY_MS);
  }

  #markRead(): void {
    this.#call('POST', '/v1/read', { who: this.#friend }).catch(() => undefined);
  }

  #updateStatus(change: Partial<FriendStatus>): void {
    this.#status = { ...this.#status, ...change };
    this.#screen?.setStatus(statusPrompt(this.#status, Date.now()));
  }

  #daemonGone(): void {
    if (this.#stop.signal.aborted) return;
    this.#print(`the daemon stopped: the chat with ${terminalSafe(this.#status.name)} is over`);
    this.#end();
  }

  #print(line: string): void {
    this.#screen?.print(line);
  }

  #end(): void {
    this.#ended?.();
  }

  #call(method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<unknown> {
    return callDaemon(this.#dataDir, method, path, body);
  }
}
