/**
 * Friend requests through a relay, when no direct dial-back can pass (issue 11 §5): a randomising NAT on either
 * side drops the recipient's dial-back and the requester's dial to the answer alike (request-answer.ts). Then both
 * sides meet at the relay their request ranks first (relay-keys.ts requestMeeting: from the recipient's key and the
 * requester's announced endpoint E, the inputs of the answer topic) and the request runs over the joined stream:
 *
 *   recipient: finds E on its request topic ─ joins as role 0 ─┐
 *                                                              ├─ relay ─ XX (the recipient calls) ─ request, accept
 *   requester: adds the recipient, or sees its answer ─ role 1 ┘
 *
 * Each side keeps a half waiting for WANT_WINDOW_MS.request (3 minutes) from its reason: the requester from its
 * add and from every answer it finds (polled every 4 s for 3 minutes after the add, then every minute), the
 * recipient from finding the requester (its topic is re-read every 5 s while a request is likely). The joins are
 * RelayLinks' (a second instance beside the friends'): one in flight per request, MAX_JOINS_IN_FLIGHT in all,
 * back-offs, the second-ranked relay after two no-shows. The recipient's links are bounded by the beacon's
 * dial-back ration (8 a poll, 60 an hour) and kept at most MAX_RECIPIENT_LINKS.
 *
 * What a relay learns: that someone at E meets someone (it does not learn the recipient's key: the token is a
 * hash); it relays the Noise XX handshake and the request's frames, which it cannot read.
 */
import type { Duplex } from 'node:stream';
import { addressKey, type UdpAddress } from '../../runtime/index.ts';
import { requestMeeting } from './relay-keys.ts';
import { RelayLinks, type RelayLinksOptions } from './relay-links.ts';

/** Requesters a recipient keeps meeting state for (oldest dropped first). */
const MAX_RECIPIENT_LINKS = 256;

export interface RequestRelaysOptions
  extends Pick<RelayLinksOptions, 'isEnabled' | 'identity' | 'utp' | 'clock' | 'logger' | 'directory'> {
  /** Where our requests are announced from: our public host as DHT nodes see us, our chat port (E). */
  ownRequestEndpoint(): UdpAddress | undefined;
  /** Is our request to this recipient still waiting for its daemon's acknowledgement? */
  isUnacknowledged(recipient: Buffer): boolean;
  /** The relay joined the two sides: run the request's session over the stream (SessionManager). */
  onMatched(stream: Duplex, relay: UdpAddress, isRecipient: boolean): void;
}

interface RecipientLink {
  readonly requester: UdpAddress;
  /**
   * When the relay last joined us with this requester, or its request came directly (then we stop joining for a
   * while: the session decides).
   */
  matchedAtMs: number | undefined;
}

/** After a match, the requester found again this much later is met again (that session may have failed). */
const REMATCH_AFTER_MS = 60_000;

export class RequestRelays {
  readonly #opts: RequestRelaysOptions;
  readonly #links: RelayLinks;
  /** Recipient side: the requesters found, by link key (their endpoint's text). */
  readonly #recipientLinks = new Map<string, RecipientLink>();

  constructor(opts: RequestRelaysOptions) {
    this.#opts = opts;
    this.#links = new RelayLinks({
      ...(opts.isEnabled === undefined ? {} : { isEnabled: opts.isEnabled }),
      identity: opts.identity,
      utp: opts.utp,
      clock: opts.clock,
      ...(opts.logger === undefined ? {} : { logger: opts.logger }),
      directory: opts.directory,
      meeting: (key, nowMs) => {
        const asRecipient = this.#recipientLinks.get(key.toString('hex'));
        if (asRecipient !== undefined)
          return requestMeeting(opts.identity.publicKey, asRecipient.requester, true, nowMs);
        const own = opts.ownRequestEndpoint();
        return own === undefined ? undefined : requestMeeting(key, own, false, nowMs);
      },
      // Done: the requester's request acknowledged; the recipient's link matched once (the session decides).
      sessionPath: (key) => {
        const asRecipient = this.#recipientLinks.get(key.toString('hex'));
        if (asRecipient !== undefined) return asRecipient.matchedAtMs !== undefined ? 'relayed' : undefined;
        return opts.isUnacknowledged(key) ? undefined : 'relayed';
      },
      onMatched: (key, stream, relay, isInitiator) => {
        const asRecipient = this.#recipientLinks.get(key.toString('hex'));
        if (asRecipient !== undefined) asRecipient.matchedAtMs = opts.clock.monotonicMs();
        opts.onMatched(stream, relay, isInitiator);
      },
    });
  }

  /** We asked this recipient (an add, a start with the request pending, its answer seen): wait at its relay. */
  asRequester(recipient: Buffer): void {
    if (this.#opts.isUnacknowledged(recipient)) this.#links.want(recipient, 'request');
  }

  /** A requester announced itself on our request topic at `requester`: meet it at the relay too. */
  asRecipient(requester: UdpAddress): void {
    const key = Buffer.from(addressKey(requester), 'utf8');
    const hex = key.toString('hex');
    const known = this.#recipientLinks.get(hex);
    if (known?.matchedAtMs !== undefined) {
      if (this.#opts.clock.monotonicMs() - known.matchedAtMs < REMATCH_AFTER_MS) return;
      known.matchedAtMs = undefined;
    }
    if (known === undefined) {
      if (this.#recipientLinks.size >= MAX_RECIPIENT_LINKS) {
        const oldest = this.#recipientLinks.keys().next().value;
        if (oldest !== undefined) this.#recipientLinks.delete(oldest);
      }
      const link = { requester: { host: requester.host, port: requester.port }, matchedAtMs: undefined };
      this.#recipientLinks.set(hex, link);
    }
    this.#links.want(key, 'request');
  }

  /**
   * A request arrived on a direct session from `from`: the requester there needs no relay (its host is E's host;
   * a port-keeping NAT keeps E's port too), so our halves for it stop waiting.
   */
  requestArrived(from: UdpAddress): void {
    const nowMs = this.#opts.clock.monotonicMs();
    for (const link of this.#recipientLinks.values()) {
      if (link.requester.host === from.host && link.matchedAtMs === undefined) link.matchedAtMs = nowMs;
    }
  }

  start(): void {
    this.#links.start();
  }

  close(): void {
    this.#links.close();
    this.#recipientLinks.clear();
  }
}
