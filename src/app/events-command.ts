/**
 * `dhtchat events [--json]`: follows the daemon's event stream (GET /v1/events) and prints one line per event.
 *
 * It ends in one of two ways, both exit 0: Ctrl-C or SIGTERM (quietly), or the daemon stops (the stream ends or
 * the connection breaks): one line `the daemon stopped` — there is nothing more to follow, which is no failure
 * of this command. No daemon at all at the start is the usual `error: no daemon running ...`, exit 1.
 *
 * Human lines name friends (chat-output.ts formatEvent): the contact list is read once at the start, updated
 * from each `accepted` event, and read again when an event names a code it does not know (a contact added since).
 * --json prints the event objects exactly as the daemon sent them, and `the daemon stopped` goes to stderr so
 * that stdout stays JSON lines.
 */
import type { Command } from 'commander';
import { callDaemon, followDaemonEvents } from './chat-api-client.ts';
import type { ContactView } from './chat-api-types.ts';
import { dataDirOf } from './chat-data-dir.ts';
import { formatEvent, type NameOf } from './chat-output.ts';

export const DAEMON_STOPPED_LINE = 'the daemon stopped';

export function registerEventsCommand(program: Command): void {
  program
    .command('events')
    .description(
      'follow what happens (messages, states, presence, requests, typing) until Ctrl-C or the daemon stops',
    )
    .option('--json', 'one JSON object per line: {"event",...}')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const dataDir = dataDirOf(cmd);
      const names = flags.json === true ? undefined : await FriendNames.load(dataDir);
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const end = await followDaemonEvents(
          dataDir,
          async (event) => {
            const line =
              names === undefined ? JSON.stringify(event) : formatEvent(event, await names.nameOfFor(event));
            process.stdout.write(`${line}\n`);
          },
          stop.signal,
        );
        if (end === 'daemon-gone') {
          (flags.json === true ? process.stderr : process.stdout).write(`${DAEMON_STOPPED_LINE}\n`);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** The names of the daemon's contacts by friend code, kept fresh enough for a stream of events. */
class FriendNames {
  readonly #dataDir: string;
  #names = new Map<string, string>();
  /**
   * Codes a re-read did not name (unnamed contacts): not read again for each of their events. Every code here
   * came in a friend's event (message, state, presence, typing), so it holds at most one entry per contact.
   */
  readonly #unnamed = new Set<string>();

  private constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  /** Reads the contact list once (no daemon: APP_NO_DAEMON, before anything is followed). */
  static async load(dataDir: string): Promise<FriendNames> {
    const names = new FriendNames(dataDir);
    names.#names = await names.#read();
    return names;
  }

  /** The name lookup for one event, after learning what the event tells (or re-reading the list if needed). */
  async nameOfFor(event: Record<string, unknown>): Promise<NameOf> {
    if (event['event'] === 'accepted') this.#learn(event);
    const code = friendCodeOf(event);
    if (code !== undefined && !this.#names.has(code) && !this.#unnamed.has(code)) {
      try {
        this.#names = await this.#read();
      } catch {
        // The daemon is stopping: the stream's end says so; this line shows the code.
      }
      if (!this.#names.has(code)) this.#unnamed.add(code);
    }
    return (c) => this.#names.get(c);
  }

  #learn(contact: Record<string, unknown>): void {
    const { name, code } = contact;
    if (typeof name !== 'string' || typeof code !== 'string') return;
    this.#unnamed.delete(code);
    if (name !== code) this.#names.set(code, name);
  }

  async #read(): Promise<Map<string, string>> {
    const list = (await callDaemon(this.#dataDir, 'GET', '/v1/contacts')) as ContactView[];
    // An unnamed contact's view carries its code as its name.
    return new Map(list.filter((c) => c.name !== c.code).map((c) => [c.code, c.name]));
  }
}

/** The friend an event is about; requests come from strangers, whose suggested name travels in the event. */
function friendCodeOf(event: Record<string, unknown>): string | undefined {
  const key = {
    message: 'from',
    state: 'with',
    presence: 'code',
    typing: 'code',
    file: 'with',
    path: 'code',
  }[String(event['event'])];
  const code = key === undefined ? undefined : event[key];
  return typeof code === 'string' ? code : undefined;
}
