/**
 * The local API's recent chat events, numbered, so that an event stream that broke (a laptop lid, a reload,
 * EventSource's own reconnect) resumes where it stopped: the client sends the last id it saw (`Last-Event-ID`)
 * and gets every later event again before the live ones.
 *
 * An id is `<boot>-<seq>`: boot is random per daemon start, seq counts from 1. A client whose id is from another
 * boot (the daemon restarted: its events are gone) or older than the ring (it was away too long) is told to
 * reload its state (a `reset` event) instead of being fed a gap. The ring is bounded in events and in bytes,
 * since a message event carries up to 16 KiB of text.
 */
import { randomBytes } from 'node:crypto';

export interface LoggedEvent {
  readonly seq: number;
  /** `data:` payload: the event as one line of JSON. */
  readonly json: string;
}

export interface EventLogLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
}

export const DEFAULT_EVENT_LOG_LIMITS: EventLogLimits = { maxEvents: 1024, maxBytes: 8 * 1024 * 1024 };

/** What a reconnecting client gets: the events it missed, or the reason it must reload its state instead. */
export type Resume =
  | { readonly kind: 'replay'; readonly events: readonly LoggedEvent[] }
  | { readonly kind: 'reset'; readonly reason: 'restarted' | 'too-far-behind' };

type Listener = (event: LoggedEvent) => void;

export class EventLog {
  readonly boot: string;
  readonly #limits: EventLogLimits;
  readonly #ring: LoggedEvent[] = [];
  readonly #listeners = new Set<Listener>();
  #bytes = 0;
  #seq = 0;

  constructor(limits: EventLogLimits = DEFAULT_EVENT_LOG_LIMITS, boot = randomBytes(4).toString('hex')) {
    this.#limits = limits;
    this.boot = boot;
  }

  /** Numbers the event, keeps it in the ring and hands it to every live stream. */
  append(event: object): LoggedEvent {
    const logged = { seq: ++this.#seq, json: JSON.stringify(event) };
    this.#ring.push(logged);
    this.#bytes += logged.json.length;
    while (
      this.#ring.length > this.#limits.maxEvents ||
      (this.#bytes > this.#limits.maxBytes && this.#ring.length > 1)
    ) {
      this.#bytes -= this.#ring.shift()?.json.length ?? 0;
    }
    for (const listener of this.#listeners) listener(logged);
    return logged;
  }

  idOf(event: LoggedEvent): string {
    return `${this.boot}-${event.seq}`;
  }

  /** The id of the latest event (`<boot>-0` before the first). */
  currentId(): string {
    return `${this.boot}-${this.#seq}`;
  }

  /** The events after lastEventId, or why the client must reload instead. */
  resume(lastEventId: string): Resume {
    const match = /^([0-9a-f]{8})-(\d{1,15})$/.exec(lastEventId);
    if (match === null || match[1] !== this.boot) return { kind: 'reset', reason: 'restarted' };
    const seen = Number(match[2]);
    const oldest = this.#ring[0]?.seq ?? this.#seq + 1;
    // Everything after `seen` must still be here: the first one missed is seen + 1.
    if (seen > this.#seq || seen + 1 < oldest) return { kind: 'reset', reason: 'too-far-behind' };
    return { kind: 'replay', events: this.#ring.filter((e) => e.seq > seen) };
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
