/**
 * The daemon on a terminal: what it is doing, in plain words, one line per thing that happened.
 *
 *   dhtchat — you are Alice, friend code dhtchat:…
 *   friends: Bob, Carol
 *   joining the DHT through 4 routers…
 *   cannot reach the DHT: router.bittorrent.com, …: name not found (a typo, or no network?); retrying in 8 s
 *   on the DHT: 143 nodes
 *   Bob is online
 *   Bob: hello
 *   delivered to Bob
 *
 * Two sources: the daemon's log (the DHT's joining, warnings, closing — the same records the JSON mode prints,
 * given to this console as its Logger), and the chat node's events (names and message text, which the log never
 * carries). Everything another person chose — names, request notes, message text — goes through terminalSafe().
 * Lines from before start() (the daemon logs while it starts) wait and follow the greeting.
 */
import type { LogFields, Logger } from '../runtime/index.ts';
import type { ChatService, ContactView, MessageView, RequestView } from './chat-api-types.ts';
import { formatFileEvent } from './file-output.ts';
import { terminalSafe } from './terminal-text.ts';

export interface DaemonConsoleOptions {
  /** stdout (a terminal). */
  write(text: string): void;
  /** stderr: a fatal error. */
  writeError(text: string): void;
  /** The bootstrap list as the user gave it (host:port), for "joining the DHT through …". */
  bootstrapNames: readonly string[];
  /** How to name this data dir in a command line we suggest: '' for the default, else the directory. */
  dataDirForHints: string;
}

export interface ConsoleStart {
  readonly code: string;
  /** Our own name (profile.json), if set. */
  readonly name: string | undefined;
  readonly port: number;
  readonly apiPort: number;
  readonly chat: Pick<ChatService, 'contacts' | 'requests' | 'on'>;
}

/** Repeating the same join failure at every retry would fill the screen: after the first ones, 1 in 10. */
const JOIN_FAILURES_SHOWN_IN_FULL = 3;
const JOIN_FAILURE_REMINDER_EVERY = 10;

export class DaemonConsole {
  readonly logger: Logger;
  readonly #opts: DaemonConsoleOptions;
  #held: string[] | undefined = [];
  #chat: ConsoleStart['chat'] | undefined;
  #lastJoinFailure: string | undefined;
  #isJoinFailing = false;

  constructor(opts: DaemonConsoleOptions) {
    this.#opts = opts;
    this.logger = consoleLogger((level, fields, message) => this.#onLog(level, fields, message));
  }

  /** The greeting, then what was held back, then every chat event as it comes. */
  start(view: ConsoleStart): void {
    this.#chat = view.chat;
    const code = view.code;
    this.#opts.write(
      view.name === undefined
        ? `dhtchat — your friend code is ${code}\n`
        : `dhtchat — you are ${terminalSafe(view.name)}, friend code ${code}\n`,
    );
    this.#opts.write(`chat and DHT on UDP port ${view.port} · local API on 127.0.0.1:${view.apiPort}\n`);
    this.#opts.write(`${this.#friendsLine()}\n`);
    const waiting = view.chat.requests().length;
    if (waiting > 0) {
      this.#opts.write(
        `${waiting} friend request${waiting === 1 ? '' : 's'} waiting: ${this.#command('requests')}\n`,
      );
    }
    this.#opts.write(`${joiningLine(this.#opts.bootstrapNames)}\n`);
    for (const line of this.#held ?? []) this.#opts.write(line);
    this.#held = undefined;
    view.chat.on('message', (e) => this.#line(this.#messageLine(e.from, e.message)));
    view.chat.on('state', (e) => this.#line(this.#stateLine(e.with, e.state)));
    view.chat.on('presence', (e) => this.#line(this.#presenceLine(e.code, e.presence)));
    view.chat.on('request', (e) => this.#line(this.#requestLine(e)));
    view.chat.on('accepted', (e) => this.#line(`you and ${this.#nameOf(e.code, e)} are now friends`));
    view.chat.on('request_received', (e) =>
      this.#line(`${this.#nameOf(e.code, e)} received your friend request`),
    );
    // A transfer in words when its state changes (its progress is for `send-file --wait` and `files`).
    const fileStates = new Map<string, string>();
    view.chat.on('file', (e) => {
      if (fileStates.get(e.id) === e.state) return;
      if (fileStates.size >= 10_000) fileStates.clear();
      fileStates.set(e.id, e.state);
      const nameOf = (code: string): string | undefined =>
        this.#chat?.contacts().find((c) => c.code === code)?.name;
      // "file report.pdf from Bob: started" rather than a percentage that is stale at once.
      this.#line(
        formatFileEvent({ ...e, ...(e.state === 'transferring' ? { state: 'started' } : {}) }, nameOf),
      );
    });
    // How a session runs matters to the user only when it goes through someone else (a relay), or stops doing so.
    const relayed = new Set<string>();
    view.chat.on('path', (e) => {
      if (e.path === 'relayed') {
        relayed.add(e.code);
        this.#line(`talking to ${this.#nameOf(e.code)} through a relay`);
      } else if (relayed.delete(e.code) && e.path !== null && e.path !== 'dht') {
        this.#line(`talking to ${this.#nameOf(e.code)} directly now`);
      }
    });
    view.chat.on('group_message', (e) => {
      const group = e.name === null ? e.group.slice(0, 12) : terminalSafe(e.name);
      this.#line(`[${group}] ${this.#nameOf(e.message.from)}: ${terminalSafe(e.message.text)}`);
    });
    view.chat.on('group_invite', (e) => {
      const group = e.name === null ? e.group : `"${terminalSafe(e.name)}"`;
      this.#line(
        `${this.#nameOf(e.from)} invites you to the group ${group}: ${this.#command(`group accept ${e.group}`)}`,
      );
    });
  }

  #onLog(level: ConsoleLevel, fields: LogFields, message: string | undefined): void {
    const event = typeof fields['event'] === 'string' ? fields['event'] : undefined;
    if (event === 'fatal') {
      this.#opts.writeError(`fatal: ${terminalSafe(String(fields['error']))}\n`);
      return;
    }
    const line = this.#describe(event, fields);
    if (line !== undefined) {
      this.#line(line);
      return;
    }
    // Anything else worth a user's attention; the chat events come with names from the chat node instead.
    if ((level === 'warn' || level === 'error') && fields['part'] === undefined && event !== undefined) {
      this.#line(`warning: ${terminalSafe(event)}${details(fields)}`);
    } else if (level === 'error') {
      this.#line(`error: ${terminalSafe(message ?? event ?? 'unknown')}${details(fields)}`);
    }
  }

  /** A daemon log record in words, or undefined when it is not one we describe. */
  #describe(event: string | undefined, fields: LogFields): string | undefined {
    switch (event) {
      case 'bootstrapped': {
        // Zero nodes: the join_failed before it already said why.
        const nodes = Number(fields['nodes']);
        return nodes > 0 && !this.#isJoinFailing ? onTheDht(nodes) : '';
      }
      case 'rejoined':
        this.#isJoinFailing = false;
        this.#lastJoinFailure = undefined;
        return onTheDht(Number(fields['nodes']));
      case 'join_failed':
        return this.#joinFailedLine(fields);
      case 'rejoining':
        return `rejoining the DHT: ${terminalSafe(String(fields['reason']))}…`;
      case 'resolve_failed':
        return `cannot resolve ${terminalSafe(String(fields['host']))}: ${terminalSafe(String(fields['error']))}`;
      case 'closed':
        return `stopped (${terminalSafe(String(fields['signal']))})`;
      case 'identity_file_readable_by_others':
        return 'warning: the identity file can be read by other users of this machine (chmod 600 it)';
      case 'loose_mode': {
        const path = terminalSafe(String(fields['path']));
        const mode = terminalSafe(String(fields['mode']));
        return fields['isFixed'] === true
          ? `warning: ${path} was open to other users (mode ${mode}); made private`
          : `warning: ${path} is open to other users (mode ${mode}) and could not be made private`;
      }
      case 'port_mapped':
      case 'port_mapping_changed': {
        const external = terminalSafe(String(fields['external']));
        const how = terminalSafe(String(fields['protocol']));
        return `your router forwards ${external} to this daemon (${how}): friends can reach you there`;
      }
      case 'port_mapping_lost':
        return 'your router dropped its port forwarding for this daemon; asking again…';
      case 'profile_name_ignored':
        return `warning: the name in profile.json is not used: ${terminalSafe(String(fields['problem']))}`;
      case 'web_client_missing':
        return `warning: the web client is not built (no ${terminalSafe(String(fields['dir']))}): run npm run build`;
      case 'open_failed':
        return `cannot open the browser (${terminalSafe(String(fields['error']))}): open the link above by hand`;
      default:
        return undefined;
    }
  }

  #joinFailedLine(fields: LogFields): string {
    const reason = terminalSafe(String(fields['reason']));
    const attempt = Number(fields['attempt']);
    const retryS = Math.max(1, Math.round(Number(fields['retryInMs']) / 1000));
    const isNew = reason !== this.#lastJoinFailure;
    this.#isJoinFailing = true;
    this.#lastJoinFailure = reason;
    if (isNew || attempt <= JOIN_FAILURES_SHOWN_IN_FULL) {
      return `cannot reach the DHT: ${reason}; retrying in ${retryS} s`;
    }
    if (attempt % JOIN_FAILURE_REMINDER_EVERY === 0) {
      return `still cannot reach the DHT after ${attempt} tries: ${reason}; retrying every ${retryS} s`;
    }
    return '';
  }

  #friendsLine(): string {
    const friends = this.#chat?.contacts() ?? [];
    if (friends.length === 0) {
      return `no friends yet: give your friend code to a friend, and add theirs with: ${this.#command('add <their code> --name <name>')}`;
    }
    return `friends: ${friends.map((f) => terminalSafe(f.name)).join(', ')}`;
  }

  #messageLine(from: string, message: MessageView): string {
    return `${this.#nameOf(from)}: ${terminalSafe(message.text)}`;
  }

  #stateLine(code: string, state: string): string {
    const name = this.#nameOf(code);
    switch (state) {
      case 'delivered':
        return `delivered to ${name}`;
      case 'read':
        return `${name} read your message`;
      case 'stored':
        return `${name} is offline: your message waits in the DHT for them`;
      default:
        return '';
    }
  }

  #presenceLine(code: string, presence: string): string {
    const name = this.#nameOf(code);
    if (presence === 'online') return `${name} is online`;
    if (presence === 'offline') return `${name} went offline`;
    return `${name} is ${terminalSafe(presence)}`;
  }

  #requestLine(request: RequestView): string {
    const who = request.name === undefined ? request.code : terminalSafe(request.name);
    const note = request.message === undefined ? '' : `: "${terminalSafe(request.message)}"`;
    return `friend request from ${who}${note} (accept with: ${this.#command(`accept ${request.code}`)})`;
  }

  /** A friend's name as we call them (their code when unnamed), made safe to print. */
  #nameOf(code: string, known?: ContactView): string {
    const contact = known ?? this.#chat?.contacts().find((c) => c.code === code);
    return terminalSafe(contact?.name ?? code);
  }

  #command(args: string): string {
    const dir = this.#opts.dataDirForHints;
    return dir === '' ? `dhtchat ${args}` : `dhtchat --data-dir ${shellWord(dir)} ${args}`;
  }

  /** One line; '' means "nothing to say". Held until start(). */
  #line(text: string): void {
    if (text === '') return;
    if (this.#held !== undefined) this.#held.push(`${text}\n`);
    else this.#opts.write(`${text}\n`);
  }
}

function onTheDht(nodes: number): string {
  return `on the DHT: ${nodes} node${nodes === 1 ? '' : 's'}`;
}

function joiningLine(names: readonly string[]): string {
  if (names.length === 0) return 'joining the DHT through the nodes it knew…';
  if (names.length <= 2) return `joining the DHT through ${names.map(terminalSafe).join(' and ')}…`;
  return `joining the DHT through ${names.length} routers…`;
}

/** ", key=value" for the plain fields of a warning (not the bookkeeping ones). */
function details(fields: LogFields): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'event' || key === 'level' || key === 'time' || key === 'part') continue;
    if (value === undefined || (typeof value === 'object' && value !== null)) continue;
    parts.push(`${key}=${terminalSafe(String(value))}`);
  }
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/** A path as one shell word: as is when it is plain, else single-quoted. */
function shellWord(text: string): string {
  return /^[\w./~+-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

type ConsoleLevel = 'debug' | 'info' | 'warn' | 'error';

/** A Logger whose records go to onRecord (with the fields its children add). Debug records are dropped. */
function consoleLogger(
  onRecord: (level: ConsoleLevel, fields: LogFields, message: string | undefined) => void,
  bound: LogFields = {},
): Logger {
  const at =
    (level: ConsoleLevel) =>
    (fields: LogFields, message?: string): void => {
      if (level !== 'debug') onRecord(level, { ...bound, ...fields }, message);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => consoleLogger(onRecord, { ...bound, ...fields }),
  };
}
