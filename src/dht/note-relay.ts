/**
 * The introducer side of the dhtchat KRPC extension (docs/ARCHITECTURE.md "Introducers"), and the receiving side.
 *
 *   dhtchat_forward {id, to: compact address, note}  →  the introducer sends  dhtchat_note {id, from, note}  to `to`
 *
 * An introducer is never a reflector: it forwards only to an address that itself queried us within
 * RECENT_QUERIER_MS (a NAT'd node pinging its introducers every ~25 s is always in), never more bytes than the
 * forward query carried (anti-amplification: the note query is re-encoded and compared), at most FORWARD_LIMITS
 * per source and per target. The note is opaque here (the chat layer seals it). The forwarded note is sent once,
 * fire-and-forget: its answer matches no transaction and is dropped as unmatched.
 */
import type { Random, UdpAddress } from '../runtime/index.ts';
import { addressKey } from '../runtime/index.ts';
import { encodeKrpc } from './krpc-codec.ts';
import type { DhtchatForwardQuery, DhtchatNoteQuery } from './krpc-message.ts';
import { RateLimiter } from './rate-limiter.ts';

/** Largest note an introducer forwards (a sealed punch note is under 80 bytes). */
export const NOTE_MAX_BYTES = 200;
/** A target must have queried us this recently (NAT mappings of UDP last 30 s to a few minutes). */
export const RECENT_QUERIER_MS = 2 * 60_000;
const MAX_RECENT_QUERIERS = 4096;
/**
 * The forwarded query has a 1-byte tid and no `v`: nobody waits for its answer, and so it is always a byte
 * shorter than the forward query that carried the note ("from" is 2 bytes longer than "to", the method name 3
 * shorter) when `from` and `to` are of one family; only an IPv6 caller asking for an IPv4 target meets the check.
 */
const TID_BYTES = 1;

export const FORWARD_LIMITS = {
  perSourcePerSec: 2,
  perSourceBurst: 10,
  perTargetPerSec: 1,
  perTargetBurst: 5,
  maxSources: 1024,
} as const;

/** A note delivered to us: `from` is the original caller as the introducer saw it, `via` the introducer. */
export interface IncomingNote {
  readonly note: Buffer;
  readonly from: UdpAddress;
  readonly via: UdpAddress;
}

export type NoteListener = (note: IncomingNote) => void;

export type ForwardOutcome = 'forwarded' | 'too-big' | 'unknown-target' | 'rate-limited' | 'amplification';

export interface NoteRelayOptions {
  readonly random: Random;
  ownId(): Buffer;
  send(bytes: Buffer, to: UdpAddress): void;
  /** The rate-limit key of a source: its host, or host:port on a test network sharing one IP. */
  sourceKey(address: UdpAddress): string;
}

export interface NoteRelayCounters {
  forwarded: number;
  refused: number;
  notesIn: number;
}

export class NoteRelay {
  readonly #opts: NoteRelayOptions;
  /** addressKey → last query time; Map order = least recently heard first. */
  readonly #recent = new Map<string, number>();
  readonly #perSource = new RateLimiter({
    ratePerSec: FORWARD_LIMITS.perSourcePerSec,
    burst: FORWARD_LIMITS.perSourceBurst,
    maxSources: FORWARD_LIMITS.maxSources,
  });
  readonly #perTarget = new RateLimiter({
    ratePerSec: FORWARD_LIMITS.perTargetPerSec,
    burst: FORWARD_LIMITS.perTargetBurst,
    maxSources: FORWARD_LIMITS.maxSources,
  });
  readonly #listeners: NoteListener[] = [];
  readonly counters: NoteRelayCounters = { forwarded: 0, refused: 0, notesIn: 0 };

  constructor(opts: NoteRelayOptions) {
    this.#opts = opts;
  }

  /** Every query we receive: its source may be a forward target for RECENT_QUERIER_MS. */
  noteQuerier(key: string, nowMs: number): void {
    this.#recent.delete(key);
    this.#recent.set(key, nowMs);
    if (this.#recent.size > MAX_RECENT_QUERIERS) {
      const oldest = this.#recent.keys().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
  }

  /** Handles an incoming dhtchat_forward: forwards the note or says why not. */
  forward(q: DhtchatForwardQuery, from: UdpAddress, nowMs: number): ForwardOutcome {
    const outcome = this.#decide(q, from, nowMs);
    if (outcome !== 'forwarded') {
      this.counters.refused++;
      return outcome;
    }
    const note: DhtchatNoteQuery = {
      kind: 'query',
      tid: this.#opts.random.bytes(TID_BYTES),
      id: this.#opts.ownId(),
      readOnly: false,
      want: [],
      method: 'dhtchat_note',
      from,
      note: q.note,
    };
    const bytes = encodeKrpc(note);
    // Never more bytes than the forward query brought (its canonical encoding: extra junk earns nothing).
    if (bytes.length > encodeKrpc(q).length) {
      this.counters.refused++;
      return 'amplification';
    }
    this.counters.forwarded++;
    this.#opts.send(bytes, q.to);
    return 'forwarded';
  }

  /** Handles an incoming dhtchat_note; false when nobody listens (the query is then answered 204). */
  deliver(q: DhtchatNoteQuery, via: UdpAddress): boolean {
    if (this.#listeners.length === 0) return false;
    this.counters.notesIn++;
    const incoming: IncomingNote = { note: Buffer.from(q.note), from: q.from, via };
    for (const listener of this.#listeners) {
      try {
        listener(incoming);
      } catch {
        // A listener's bug must not turn into a KRPC error for the introducer; the listener logs its own.
      }
    }
    return true;
  }

  onNote(listener: NoteListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  #decide(q: DhtchatForwardQuery, from: UdpAddress, nowMs: number): ForwardOutcome {
    if (q.note.length > NOTE_MAX_BYTES) return 'too-big';
    const lastMs = this.#recent.get(addressKey(q.to));
    if (lastMs === undefined || nowMs - lastMs > RECENT_QUERIER_MS) return 'unknown-target';
    if (!this.#perSource.allow(this.#opts.sourceKey(from), nowMs)) return 'rate-limited';
    if (!this.#perTarget.allow(addressKey(q.to), nowMs)) return 'rate-limited';
    return 'forwarded';
  }
}
