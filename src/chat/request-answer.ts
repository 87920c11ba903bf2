/**
 * Friend requests across NATs (issue 11 §5): the recipient's dial-back meets a requester behind a filtering NAT.
 *
 * The recipient finds a requester's endpoint E on its request topic (request-beacon.ts) and dials it; behind a
 * port-restricted NAT that SYN is dropped, but it opens the recipient's own NAT towards E. So the recipient also
 * announces itself on the **answer topic** of E, and pings E a few times to keep that opening; the requester, while
 * its request is unacknowledged, looks there (its E is its public host and the port it announced) and dials what
 * it finds: that dial passes the recipient's NAT (opened towards E) and opens the requester's towards it, so the
 * request session forms, and the acceptance later comes back through the same openings.
 *
 *   answer topic = SHA-1("dhtchat/request-answer/v1" ‖ 0x00 ‖ recipient's public key ‖ compact(E) ‖ hour u32)
 *
 * Who learns the recipient's address: whoever can compute the topic, i.e. knows the recipient's code and stands
 * at E — exactly who receives the dial-back anyway (announcing on the request topic is all it takes); storage
 * nodes see one more opaque info-hash. Answers are bounded by the beacon's dial-back ration (8 a poll, 60 an hour).
 *
 * Requester's cost (docs/BENCHMARKS.md): one quick get_peers per public host (and, for 2 minutes after the hour
 * turns, the previous hour's too) per unacknowledged request, every ANSWER_TIMING.fastPollMs for fastForMs after an
 * add, then every slowPollMs until the request is acknowledged or an hour has passed since the add.
 */
import { createHash } from 'node:crypto';
import type { DhtNode } from '../dht/index.ts';
import {
  addressKey,
  type Clock,
  type Logger,
  nullLogger,
  type Timer,
  type UdpAddress,
} from '../runtime/index.ts';
import { encodeCompactAddress } from '../wire/index.ts';
import { HOUR_EPOCH_MS, hourEpoch } from './epoch.ts';
import type { Identity } from './identity.ts';
import { u32 } from './kdf.ts';
import { LABELS } from './labels.ts';
import type { ChatStore } from './store/chat-store.ts';

export const ANSWER_TIMING = {
  /** The requester's polls in the first minutes after an add (the recipient may be offline a while). */
  fastPollMs: 4000,
  fastForMs: 3 * 60_000,
  slowPollMs: 60_000,
  /** After this long without an acknowledgement the requester stops looking (its beacon announces go on). */
  giveUpAfterMs: 60 * 60_000,
  /** The recipient pings E this often, this many times, to keep its NAT's opening towards E (UDP: ~30 s). */
  keepOpenEveryMs: 8000,
  keepOpenPings: 5,
  /** The previous hour's topic is read this long after the hour turns (answers announced just before). */
  previousHourForMs: 2 * 60_000,
} as const;

/** SHA-1(label ‖ 0x00 ‖ recipient's Ed25519 key ‖ compact requester endpoint ‖ hour epoch u32). */
export function answerTopic(recipientPk: Uint8Array, requester: UdpAddress, hour: number): Buffer {
  return createHash('sha1')
    .update(LABELS.requestAnswerTopic)
    .update(Buffer.from([0]))
    .update(recipientPk)
    .update(encodeCompactAddress(requester))
    .update(u32(hour))
    .digest();
}

/**
 * E, the endpoint a requester's announces show a recipient: its public host as DHT nodes see it, and the port it
 * announces (its chat socket's). The answer topic and the relay meeting (relay-keys.ts requestMeeting) are both
 * derived from it, on both sides.
 */
export function requesterEndpoint(
  dht: Pick<DhtNode, 'externalAddress'>,
  port: number,
): UdpAddress | undefined {
  const external = dht.externalAddress();
  return external === undefined ? undefined : { host: external.host, port };
}

export interface RequestAnswersOptions {
  readonly identity: Identity;
  readonly store: ChatStore;
  readonly dht: DhtNode;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** The port our requests are announced with (the chat socket's). */
  port(): number;
  /** Is our request to this recipient still unacknowledged (the beacon's needsAnnouncing)? */
  isUnacknowledged(recipient: Buffer): boolean;
  /** Where the recipient answered from: dial it (our pending request's XX dial). */
  onAnswer(recipient: Buffer, endpoints: readonly UdpAddress[]): void;
}

export class RequestAnswers {
  readonly #opts: RequestAnswersOptions;
  readonly #log: Logger;
  /** Requests we added, by recipient (hex), and when. */
  readonly #addedMs = new Map<string, number>();
  readonly #timers = new Set<Timer>();
  #pollTimer: Timer | undefined;
  #pollDueMs = Infinity;
  #isPolling = false;
  #isStarted = false;
  #isClosed = false;

  constructor(opts: RequestAnswersOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nullLogger).child({ component: 'request-answer' });
  }

  /** Requests pending at start count as added now (the recipient may come online any time). */
  start(): void {
    if (this.#isStarted || this.#isClosed) return;
    this.#isStarted = true;
    for (const r of this.#opts.store.requests.list({ direction: 'outgoing', state: 'pending' })) {
      this.#addedMs.set(r.publicKey.toString('hex'), this.#opts.clock.monotonicMs());
    }
    this.#schedule(0);
  }

  close(): void {
    this.#isClosed = true;
    this.#pollTimer?.cancel();
    for (const t of this.#timers) t.cancel();
    this.#timers.clear();
  }

  /** We just sent a request: look for the recipient's answer on the fast schedule. */
  added(recipient: Buffer): void {
    if (this.#isClosed) return;
    this.#addedMs.set(recipient.toString('hex'), this.#opts.clock.monotonicMs());
    if (this.#isStarted) this.#schedule(ANSWER_TIMING.fastPollMs);
  }

  /** Recipient side: we dial a requester back at `requester`; say where we are, and keep our NAT open to it. */
  answer(requester: UdpAddress): void {
    if (this.#isClosed) return;
    const { dht, identity, clock } = this.#opts;
    dht
      .announcePeer(answerTopic(identity.publicKey, requester, hourEpoch(clock.wallMs())), {
        port: this.#opts.port(),
      })
      .catch((err: unknown) => this.#log.debug({ err: String(err) }, 'answer announce failed'));
    for (let i = 1; i <= ANSWER_TIMING.keepOpenPings; i++) {
      const timer = clock.setTimer(i * ANSWER_TIMING.keepOpenEveryMs, () => {
        this.#timers.delete(timer);
        if (!this.#isClosed) dht.ping(requester).catch(() => undefined);
      });
      this.#timers.add(timer);
    }
  }

  /** Requester side: one look at every unacknowledged request's answer topics; returns the endpoints found. */
  async pollNow(): Promise<UdpAddress[]> {
    const { dht, clock, store } = this.#opts;
    const nowMs = clock.monotonicMs();
    const hour = hourEpoch(clock.wallMs());
    const own = this.ownEndpoint();
    const found: UdpAddress[] = [];
    const pending = store.requests
      .list({ direction: 'outgoing', state: 'pending' })
      .filter((r) => this.#isWanted(r.publicKey, nowMs));
    await Promise.all(
      pending.map(async (r) => {
        // The previous hour only just after it turned (an answer announced before the turn).
        const hours =
          clock.wallMs() % HOUR_EPOCH_MS < ANSWER_TIMING.previousHourForMs ? [hour, hour - 1] : [hour];
        const topics = own === undefined ? [] : hours.map((h) => answerTopic(r.publicKey, own, h));
        const peers = await Promise.all(
          topics.map((t) =>
            dht
              .getPeers(t, { isQuick: true })
              .then((x) => x.peers)
              .catch(() => [] as UdpAddress[]),
          ),
        );
        const unique = [...new Map(peers.flat().map((p) => [addressKey(p), p])).values()];
        if (unique.length === 0 || this.#isClosed) return;
        this.#log.debug({ endpoints: unique.map(addressKey) }, 'request answered: dialling the recipient');
        found.push(...unique);
        this.#opts.onAnswer(r.publicKey, unique);
      }),
    );
    return found;
  }

  #isWanted(recipient: Buffer, nowMs: number): boolean {
    const addedMs = this.#addedMs.get(recipient.toString('hex'));
    if (addedMs === undefined || nowMs - addedMs > ANSWER_TIMING.giveUpAfterMs) return false;
    return this.#opts.isUnacknowledged(recipient);
  }

  /** Where our requests are announced from (requesterEndpoint): what a recipient found on our request topic. */
  ownEndpoint(): UdpAddress | undefined {
    return requesterEndpoint(this.#opts.dht, this.#opts.port());
  }

  #schedule(delayMs: number): void {
    if (this.#isClosed) return;
    const dueMs = this.#opts.clock.monotonicMs() + delayMs;
    if (this.#pollTimer !== undefined && this.#pollDueMs <= dueMs) return;
    this.#pollTimer?.cancel();
    this.#pollDueMs = dueMs;
    this.#pollTimer = this.#opts.clock.setTimer(delayMs, () => {
      this.#pollTimer = undefined;
      void this.#tick();
    });
  }

  async #tick(): Promise<void> {
    if (this.#isClosed || this.#isPolling) return;
    const nowMs = this.#opts.clock.monotonicMs();
    const pending = this.#opts.store.requests
      .list({ direction: 'outgoing', state: 'pending' })
      .filter((r) => this.#isWanted(r.publicKey, nowMs));
    if (pending.length === 0) return; // added() wakes us again
    this.#isPolling = true;
    try {
      await this.pollNow();
    } finally {
      this.#isPolling = false;
    }
    const isFast = pending.some(
      (r) => nowMs - (this.#addedMs.get(r.publicKey.toString('hex')) ?? 0) < ANSWER_TIMING.fastForMs,
    );
    this.#schedule(isFast ? ANSWER_TIMING.fastPollMs : ANSWER_TIMING.slowPollMs);
  }
}
