/**
 * Friend-request beacon (docs/PROTOCOL.md "Friend requests"): how a request and its recipient meet through the DHT.
 *
 *   const beacon = new RequestBeacon({ identity, store, dht, clock, random, port: () => udpPort, onRequester });
 *   beacon.start();              // announce our pending requests; poll our own topic every minute
 *   beacon.expectRequests();     // our code was shown, we sent a request, one came: re-read fast for a while
 *   await beacon.announceNow();  // right after the user added a friend (a new pending outgoing request)
 *   beacon.setOnline(false);     // stop polling while away (announcing continues while requests are pending)
 *   await beacon.pollNow();      // one poll now; returns the endpoints it reported
 *   beacon.close();
 *
 * Requester side: for every pending outgoing request (store.requests), announce_peer on
 * requestTopic(recipientPk, hour) with our UDP port, every 10 minutes and again as soon as the hour changes.
 * Recipient side: while online, get_peers on requestTopic(ourPk, hour) for the current and the previous hour
 * (a requester's clock or last announce may lag) every minute. For quickPollForMs after a request became likely
 * (expectRequests: our code was shown, we sent a request, a request came in) it also asks the 4 closest nodes of
 * this hour's topic again every 5 s in between (no search: 48 queries a minute), so a request made then is seen
 * within seconds; otherwise a request waits for the next minute's poll, and an idle daemon does not pay ~2,900
 * queries an hour for requests nobody is making. Each endpoint found goes to onRequester, which
 * connects back with Noise XX and learns who it is. We only know addresses here, so declined or blocked keys are
 * filtered by the session layer after the handshake; our own addresses are never reported.
 *
 * A topic holds up to ~300 peers per storage node and anyone who knows our code can fill it, so what we dial is
 * rationed and sampled, never taken in the order the DHT returned (issue 10 §3): at most 8 endpoints a poll and
 * 60 an hour (persisted), one a poll from any network (IPv4 /24, IPv6 /64) and 4 an hour (a token bucket: 4 at
 * once, then one every 15 minutes), the same endpoint again only after 10 minutes. Networks are taken in random
 * order, those with an endpoint not reported this hour first, and a random endpoint of each. So a stranger
 * filling the topic from one network gets one dial a poll and about four an hour, and one holding many networks
 * competes at random with the real requesters instead of ahead of them (who also announce again every 10
 * minutes). A requester whose request was already acknowledged (needsAnnouncing) is no longer announced.
 */
import type { DhtNode, NodeInfo } from '../dht/index.ts';
import {
  addressKey,
  type Clock,
  DhtchatError,
  type Logger,
  nullLogger,
  type Random,
  type Timer,
  type UdpAddress,
} from '../runtime/index.ts';
import { RateLimiter } from '../dht/index.ts';
import { HOUR_EPOCH_MS, hourEpoch } from './epoch.ts';
import type { Identity } from './identity.ts';
import { requestTopic } from './request-topic.ts';
import { sourcePrefix } from './source-prefix.ts';
import type { ChatStore } from './store/chat-store.ts';

export const REQUEST_BEACON_TIMING = {
  announceEveryMs: 10 * 60_000,
  pollEveryMs: 60_000,
  /** The same endpoint is reported again only after this long (the connect-back may have failed). */
  repeatAfterMs: 10 * 60_000,
  maxPerPoll: 8,
  maxPerHour: 60,
  maxPerPrefixPerHour: 4,
  /**
   * Between polls, the closest nodes of the last poll's current-hour topic are asked again (get_peers, no
   * search) this often: a request announced there reaches us within seconds, not a minute (issue 11 §5).
   * Cost: quickNodes queries every quickPollMs (48 a minute) while online and within quickPollForMs of
   * expectRequests() (issue 13 §4: the idle daemon's budget).
   */
  quickPollMs: 5000,
  quickNodes: 4,
  /** How long the quick re-reads go on after expectRequests(): a friend reads our code, then adds us. */
  quickPollForMs: 20 * 60_000,
} as const;

const RATE_BUCKET = 'request-beacon/requesters';

export interface RequestBeaconOptions {
  readonly identity: Identity;
  readonly store: ChatStore;
  readonly dht: DhtNode;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  /** Our UDP port (the chat socket, shared with the DHT): what requesters announce. */
  port(): number;
  /** Our own addresses (never reported as requesters). */
  localEndpoints?(): UdpAddress[];
  /** A possible requester: connect back with Noise XX. */
  onRequester(endpoint: UdpAddress): void;
  /** Should our pending request to this recipient still be announced? (Default: yes.) */
  needsAnnouncing?(recipient: Buffer): boolean;
}

export class RequestBeacon {
  readonly #opts: RequestBeaconOptions;
  readonly #log: Logger;
  /** Endpoints reported in the last hour, and when. */
  readonly #reportedMs = new Map<string, number>();
  readonly #perPrefix = new RateLimiter({
    ratePerSec: REQUEST_BEACON_TIMING.maxPerPrefixPerHour / 3600,
    burst: REQUEST_BEACON_TIMING.maxPerPrefixPerHour,
    maxSources: 4096,
  });
  #announceTimer?: Timer;
  #pollTimer?: Timer;
  #quickTimer?: Timer;
  /** The last poll's closest nodes for this hour's topic (the quick re-reads ask them). */
  #quick: { hour: number; nodes: NodeInfo[] } | undefined;
  #isQuickPolling = false;
  /** Quick re-reads run until then (expectRequests); -Infinity: never asked for. */
  #quickUntilMs = Number.NEGATIVE_INFINITY;
  #isOnline = true;
  #isStarted = false;
  #isClosed = false;

  constructor(opts: RequestBeaconOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nullLogger).child({ component: 'request-beacon' });
  }

  start(): void {
    this.#assertOpen();
    if (this.#isStarted) return;
    this.#isStarted = true;
    this.#announceTick();
    if (this.#isOnline) this.#pollTick();
  }

  close(): void {
    this.#isClosed = true;
    this.#announceTimer?.cancel();
    this.#pollTimer?.cancel();
    this.#quickTimer?.cancel();
  }

  setOnline(isOnline: boolean): void {
    if (this.#isClosed || isOnline === this.#isOnline) return;
    this.#isOnline = isOnline;
    this.#pollTimer?.cancel();
    this.#quickTimer?.cancel();
    if (isOnline && this.#isStarted) this.#pollTick();
  }

  /**
   * A request may come soon (our code was shown, we sent one, one came in): re-read our topic every quickPollMs
   * for the next quickPollForMs. Opening the window polls at once (a request may be there already, and the quick
   * re-reads need that poll's closest nodes); calls while it is open only extend it.
   */
  expectRequests(): void {
    if (this.#isClosed) return;
    const nowMs = this.#opts.clock.monotonicMs();
    const wasOpen = this.isExpectingRequests();
    this.#quickUntilMs = Math.max(this.#quickUntilMs, nowMs + REQUEST_BEACON_TIMING.quickPollForMs);
    if (wasOpen || !this.#isStarted || !this.#isOnline) return;
    this.#pollTimer?.cancel();
    this.#pollTick();
  }

  /** Are the quick re-reads on (within quickPollForMs of expectRequests)? */
  isExpectingRequests(): boolean {
    return this.#opts.clock.monotonicMs() < this.#quickUntilMs;
  }

  /** Announces every pending outgoing request on this hour's topic; resolves with how many were stored. */
  async announceNow(): Promise<number> {
    this.#assertOpen();
    const { store, dht, clock } = this.#opts;
    const hour = hourEpoch(clock.wallMs());
    const pending = store.requests
      .list({ direction: 'outgoing', state: 'pending' })
      .filter((request) => this.#opts.needsAnnouncing?.(request.publicKey) ?? true);
    const results = await Promise.all(
      pending.map(async (request) => {
        try {
          const r = await dht.announcePeer(requestTopic(request.publicKey, hour), {
            port: this.#opts.port(),
          });
          store.requests.noteOutgoingAttempt(request.publicKey);
          return r.stored > 0;
        } catch (err) {
          this.#log.warn({ err: String(err) }, 'request announce failed');
          return false;
        }
      }),
    );
    return results.filter(Boolean).length;
  }

  /** Looks for requesters on our topic (this hour and the previous); reports and returns the new endpoints. */
  async pollNow(): Promise<UdpAddress[]> {
    this.#assertOpen();
    const { dht, clock, identity } = this.#opts;
    const hour = hourEpoch(clock.wallMs());
    const found = await Promise.all(
      [hour, hour - 1].map((h) =>
        dht
          .getPeers(requestTopic(identity.publicKey, h))
          .then((r) => {
            if (h === hour)
              this.#quick = { hour, nodes: r.closest.slice(0, REQUEST_BEACON_TIMING.quickNodes) };
            return r.peers;
          })
          .catch(() => [] as UdpAddress[]),
      ),
    );
    return this.#report(found.flat());
  }

  /** Asks the last poll's closest nodes again (no search); reports and returns the new endpoints. */
  async quickPollNow(): Promise<UdpAddress[]> {
    this.#assertOpen();
    const quick = this.#quick;
    const hour = hourEpoch(this.#opts.clock.wallMs());
    if (quick === undefined || quick.hour !== hour || quick.nodes.length === 0) return [];
    const found = await this.#opts.dht.getPeersFrom(
      quick.nodes,
      requestTopic(this.#opts.identity.publicKey, hour),
    );
    // Gone offline while it ran: a quick poll reports nothing then (setOnline(false) stops polling).
    if (!this.#isOnline) return [];
    return this.#report(found);
  }

  #report(found: UdpAddress[]): UdpAddress[] {
    // Closed while the lookups ran (the daemon stopping): the store may be closed too; nothing to report.
    if (this.#isClosed) return [];
    const { clock } = this.#opts;
    const now = clock.monotonicMs();
    for (const [key, ms] of this.#reportedMs) {
      if (now - ms >= HOUR_EPOCH_MS) this.#reportedMs.delete(key);
    }
    const fresh = this.#choose(found, now);
    for (const peer of fresh) {
      try {
        this.#opts.onRequester(peer);
      } catch (err) {
        this.#log.error({ err: String(err) }, 'onRequester threw');
      }
    }
    return fresh;
  }

  /**
   * Picks what to dial: one endpoint per network (a random one), networks in random order, those with an
   * endpoint not reported this hour first; within the per-poll, per-network and hourly limits.
   */
  #choose(candidates: UdpAddress[], now: number): UdpAddress[] {
    const own = this.#ownKeys();
    const tiers = [new Map<string, UdpAddress[]>(), new Map<string, UdpAddress[]>()];
    const seen = new Set<string>();
    for (const peer of candidates) {
      const key = addressKey(peer);
      if (own.has(key) || seen.has(key)) continue;
      seen.add(key);
      const lastMs = this.#reportedMs.get(key);
      if (lastMs !== undefined && now - lastMs < REQUEST_BEACON_TIMING.repeatAfterMs) continue;
      const tier = tiers[lastMs === undefined ? 0 : 1] as Map<string, UdpAddress[]>;
      const prefix = sourcePrefix(peer.host);
      const group = tier.get(prefix);
      if (group === undefined) tier.set(prefix, [peer]);
      else group.push(peer);
    }
    const chosen: UdpAddress[] = [];
    const pickedPrefixes = new Set<string>();
    const { random, store } = this.#opts;
    for (const tier of tiers) {
      for (const prefix of shuffle([...tier.keys()], random)) {
        if (chosen.length >= REQUEST_BEACON_TIMING.maxPerPoll) return chosen;
        if (pickedPrefixes.has(prefix)) continue;
        const group = tier.get(prefix) as UdpAddress[];
        const peer = group[random.int(group.length)] as UdpAddress;
        if (!this.#perPrefix.allow(prefix, now)) continue;
        const slot = store.requests.takeRateSlot(
          RATE_BUCKET,
          HOUR_EPOCH_MS,
          REQUEST_BEACON_TIMING.maxPerHour,
        );
        if (!slot.isAllowed) return chosen;
        pickedPrefixes.add(prefix);
        this.#reportedMs.set(addressKey(peer), now);
        chosen.push(peer);
      }
    }
    return chosen;
  }

  #ownKeys(): Set<string> {
    const port = this.#opts.port();
    const own = (this.#opts.localEndpoints?.() ?? []).map(addressKey);
    const external = this.#opts.dht.externalAddress();
    if (external !== undefined) own.push(addressKey({ host: external.host, port }));
    return new Set(own);
  }

  /** Announces now, then again in 10 minutes or just after the hour changes, whichever comes first. */
  #announceTick(): void {
    if (this.#isClosed) return;
    void this.announceNow().catch(() => {});
    // Wall time: the topics change on the hour by the wall clock (as the requesters' do).
    const now = this.#opts.clock.wallMs();
    const toNextHourMs = (hourEpoch(now) + 1) * HOUR_EPOCH_MS - now + 1000;
    const delayMs = Math.min(REQUEST_BEACON_TIMING.announceEveryMs, toNextHourMs);
    this.#announceTimer = this.#opts.clock.setTimer(delayMs, () => this.#announceTick());
  }

  #pollTick(): void {
    if (this.#isClosed || !this.#isOnline) return;
    void this.pollNow().catch((err: unknown) => this.#log.warn({ err: String(err) }, 'request poll failed'));
    this.#pollTimer = this.#opts.clock.setTimer(REQUEST_BEACON_TIMING.pollEveryMs, () => this.#pollTick());
    this.#quickTimer?.cancel();
    if (this.isExpectingRequests()) this.#quickTick();
  }

  /** Quick re-reads every quickPollMs until the next full poll (which restarts them) or the window closes. */
  #quickTick(): void {
    this.#quickTimer = this.#opts.clock.setTimer(REQUEST_BEACON_TIMING.quickPollMs, () => {
      if (this.#isClosed || !this.#isOnline || !this.isExpectingRequests()) return;
      if (!this.#isQuickPolling) {
        this.#isQuickPolling = true;
        void this.quickPollNow()
          .catch((err: unknown) => this.#log.debug({ err: String(err) }, 'quick request poll failed'))
          .finally(() => {
            this.#isQuickPolling = false;
          });
      }
      this.#quickTick();
    });
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new DhtchatError('CHAT_SERVICE_CLOSED', 'the request beacon is closed');
  }
}

/** Fisher–Yates with the injected Random. */
function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
