/**
 * Friend requests on one LAN (issue 11 §5, "both users behind one NAT"): BEP 14 Local Service Discovery for the
 * request topic.
 *
 * Through the DHT a recipient finds a requester at its public endpoint (request-beacon.ts); two users behind the
 * same NAT reach each other there only if the router hairpins, and many do not. So the requester also multicasts
 * its pending requests' topics on its LAN as BEP 14 announces (info-hash = requestTopic(recipient, hour), Port = our
 * chat UDP port), and a recipient listening there that sees one of its own topics (this hour or the previous)
 * dials the announce's source address at that port with Noise XX — the dial-back the beacon would have made.
 *
 *   requester: on add, then every announceFastMs for fastForMs, then every announceSlowMs while a request is
 *              pending and unacknowledged; at most MAX_LSD_INFOHASHES topics an announce
 *   recipient: every announce heard, checked against our two topics; a match is dialled back
 *
 * Who learns what: anyone on the LAN sees that the host at that address asks for some user whose code gives that
 * topic this hour (storage nodes of the topic learn as much from the announce_peer); only who knows the recipient's
 * code can tell whom. BitTorrent clients listening on 6771 see an info-hash they have no torrent for and ignore it.
 * Bounds (anyone on the LAN may send anything, and a match costs a dial and an XX handshake): announces heard are
 * rate-limited per source address, and dials go at most once per endpoint per redialMs and dialsPerHour in all.
 */
import { RateLimiter } from '../dht/index.ts';
import type { Clock, Logger, Random, Timer, UdpAddress } from '../runtime/index.ts';
import { addressKey, nullLogger } from '../runtime/index.ts';
import { decodeLsdAnnounce, encodeLsdAnnounce, MAX_LSD_INFOHASHES } from '../wire/index.ts';
import { HOUR_EPOCH_MS, hourEpoch } from './epoch.ts';
import type { Identity } from './identity.ts';
import { requestTopic } from './request-topic.ts';
import type { ChatStore } from './store/chat-store.ts';

export const LOCAL_DISCOVERY_TIMING = {
  /** A request just added: announced this often for fastForMs (the recipient may come online meanwhile). */
  announceFastMs: 15_000,
  fastForMs: 5 * 60_000,
  /** Then this often while it is pending (BEP 14 asks for no more than one announce per 5 minutes). */
  announceSlowMs: 5 * 60_000,
  /** The same requester endpoint is dialled again only after this long. */
  redialMs: 60_000,
  /** Dial-backs from LAN announces in an hour, at most. */
  dialsPerHour: 30,
} as const;
/** Announces heard from one source address: per second, and in a burst. */
const HEARD_PER_SOURCE_PER_SEC = 1;
const HEARD_PER_SOURCE_BURST = 4;

export interface LocalDiscoveryOptions {
  identity: Identity;
  store: ChatStore;
  clock: Clock;
  random: Random;
  logger?: Logger;
  /** Multicasts an announce on the LAN (the app owns the socket). */
  send(message: Buffer): void;
  /** Our chat UDP port (what a recipient dials back). */
  port(): number;
  /** Is this outgoing request still worth announcing (not yet acknowledged)? Default: yes. */
  needsAnnouncing?(recipient: Buffer): boolean;
  /** A requester found on the LAN: dial it back (Noise XX, as for the beacon's endpoints). */
  onRequester(endpoint: UdpAddress): void;
}

export class LocalDiscovery {
  readonly #opts: LocalDiscoveryOptions;
  readonly #log: Logger;
  /** Distinguishes our own announces when the LAN loops them back to us. */
  readonly #cookie: string;
  readonly #heard = new RateLimiter({
    ratePerSec: HEARD_PER_SOURCE_PER_SEC,
    burst: HEARD_PER_SOURCE_BURST,
    maxSources: 1024,
  });
  readonly #dialedMs = new Map<string, number>();
  #dialsThisHour: { hour: number; count: number } = { hour: -1, count: 0 };
  #fastUntilMs = 0;
  #timer: Timer | undefined;
  #isClosed = false;

  constructor(opts: LocalDiscoveryOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nullLogger).child({ component: 'local-discovery' });
    this.#cookie = opts.random.bytes(8).toString('hex');
  }

  start(): void {
    this.#schedule(0);
  }

  close(): void {
    this.#isClosed = true;
    this.#timer?.cancel();
  }

  /** A request was just added: announce now, and often for a while. */
  requestAdded(): void {
    if (this.#isClosed) return;
    this.#fastUntilMs = this.#opts.clock.monotonicMs() + LOCAL_DISCOVERY_TIMING.fastForMs;
    this.#schedule(0);
  }

  /** An announce heard on the LAN (remote input: never throws). */
  handle(message: Buffer, from: UdpAddress): void {
    if (this.#isClosed) return;
    const now = this.#opts.clock.monotonicMs();
    if (!this.#heard.allow(from.host, now)) return;
    const announce = decodeLsdAnnounce(message);
    if (announce === undefined || announce.cookie === this.#cookie) return;
    const hour = hourEpoch(this.#opts.clock.wallMs());
    const own = [hour, hour - 1].map((h) => requestTopic(this.#opts.identity.publicKey, h));
    if (!announce.infohashes.some((hash) => own.some((topic) => topic.equals(hash)))) return;
    const endpoint = { host: from.host, port: announce.port };
    const key = addressKey(endpoint);
    const lastMs = this.#dialedMs.get(key);
    if (lastMs !== undefined && now - lastMs < LOCAL_DISCOVERY_TIMING.redialMs) return;
    if (this.#dialsThisHour.hour !== hour) this.#dialsThisHour = { hour, count: 0 };
    if (this.#dialsThisHour.count >= LOCAL_DISCOVERY_TIMING.dialsPerHour) return;
    this.#dialsThisHour.count++;
    for (const [k, ms] of this.#dialedMs) if (now - ms >= HOUR_EPOCH_MS) this.#dialedMs.delete(k);
    this.#dialedMs.set(key, now);
    this.#log.debug({ requester: key }, 'requester found on the LAN');
    this.#opts.onRequester(endpoint);
  }

  #schedule(delayMs: number): void {
    this.#timer?.cancel();
    this.#timer = this.#opts.clock.setTimer(delayMs, () => {
      if (this.#isClosed) return;
      const hasPending = this.#announce();
      if (!hasPending) return; // nothing to say until a request is added (requestAdded starts us again)
      const isFast = this.#opts.clock.monotonicMs() < this.#fastUntilMs;
      this.#schedule(isFast ? LOCAL_DISCOVERY_TIMING.announceFastMs : LOCAL_DISCOVERY_TIMING.announceSlowMs);
    });
  }

  /** One announce of our pending requests' topics (this hour); false when there are none. */
  #announce(): boolean {
    const { store, clock } = this.#opts;
    const hour = hourEpoch(clock.wallMs());
    const topics = store.requests
      .list({ direction: 'outgoing', state: 'pending' })
      .filter((request) => this.#opts.needsAnnouncing?.(request.publicKey) ?? true)
      .slice(0, MAX_LSD_INFOHASHES)
      .map((request) => requestTopic(request.publicKey, hour));
    if (topics.length === 0) return false;
    try {
      this.#opts.send(
        encodeLsdAnnounce({ port: this.#opts.port(), infohashes: topics, cookie: this.#cookie }),
      );
    } catch (error) {
      this.#log.debug({ error: String(error) }, 'LAN announce not sent');
    }
    return true;
  }
}
