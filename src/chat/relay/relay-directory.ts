/**
 * The relays we know of: volunteer relays found on the DHT's relay topic (relay-topic.ts), plus any given by
 * the user (`daemon --relays`). Looked up when first needed and again when the list is older than refreshEveryMs
 * or every relay on it has failed us; never more often than minGapMs, backing off while nothing is found. A relay
 * that failed (refused, silent, its session died) is demoted for a while: still listed, after the others.
 *
 * What the DHT returns is remote input: anyone can announce anything on the topic. Kept: at most MAX_RELAYS
 * addresses, public unless allowPrivate (a peer list naming LAN hosts must not make us dial into our own
 * network), never our own. A bogus entry costs a uTP SYN that goes unanswered; the join then fails over to the
 * next relay.
 */
import { type DhtNode, isPublicHost } from '../../dht/index.ts';
import { addressKey, type Clock, type Logger, nullLogger, type UdpAddress } from '../../runtime/index.ts';
import { relayTopic, relayTopicDays } from './relay-topic.ts';

export const RELAY_DIRECTORY_TIMING = {
  refreshEveryMs: 10 * 60_000,
  /**
   * Lookups are at least this far apart, doubling while they find nothing (up to maxGapMs): a first lookup that
   * came too early (the DHT barely joined) is tried again within seconds, and a DHT with no relay on it costs us
   * one get_peers every few minutes.
   */
  minGapMs: 2000,
  maxGapMs: 5 * 60_000,
  demoteMs: 2 * 60_000,
} as const;
const MAX_RELAYS = 32;

export interface RelayDirectoryOptions {
  readonly dht: Pick<DhtNode, 'getPeers'> | undefined;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Keep private addresses (local test networks, `--allow-private`). */
  readonly allowPrivate: boolean;
  /** Relays given by the user: always listed, first. */
  readonly configured?: readonly UdpAddress[];
  /** Our own endpoints (never listed). */
  ownAddresses(): UdpAddress[];
}

export class RelayDirectory {
  readonly #opts: RelayDirectoryOptions;
  readonly #log: Logger;
  #found: UdpAddress[] = [];
  #foundAtMs = -Infinity;
  #lastLookupMs = -Infinity;
  #gapMs: number = RELAY_DIRECTORY_TIMING.minGapMs;
  #lookup: Promise<void> | undefined;
  readonly #demotedUntil = new Map<string, number>();
  #isClosed = false;

  constructor(opts: RelayDirectoryOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nullLogger).child({ component: 'relay-directory' });
  }

  /** Known relays, demoted ones last; starts a lookup in the background when the list is stale. */
  relays(): UdpAddress[] {
    const now = this.#opts.clock.monotonicMs();
    for (const [key, untilMs] of this.#demotedUntil) if (untilMs <= now) this.#demotedUntil.delete(key);
    const own = new Set(this.#opts.ownAddresses().map(addressKey));
    const all: UdpAddress[] = [];
    const seen = new Set<string>();
    for (const relay of [...(this.#opts.configured ?? []), ...this.#found]) {
      const key = addressKey(relay);
      if (seen.has(key) || own.has(key)) continue;
      seen.add(key);
      all.push(relay);
    }
    const usable = all.filter((r) => !this.#demotedUntil.has(addressKey(r)));
    if (now - this.#foundAtMs >= RELAY_DIRECTORY_TIMING.refreshEveryMs || usable.length === 0) {
      void this.refresh();
    }
    return [...usable, ...all.filter((r) => this.#demotedUntil.has(addressKey(r)))];
  }

  /** True when the relay failed us lately. */
  isDemoted(relay: UdpAddress): boolean {
    const untilMs = this.#demotedUntil.get(addressKey(relay));
    return untilMs !== undefined && untilMs > this.#opts.clock.monotonicMs();
  }

  /** The relay failed us: list it last for forMs. */
  demote(relay: UdpAddress, forMs: number = RELAY_DIRECTORY_TIMING.demoteMs): void {
    this.#demotedUntil.set(addressKey(relay), this.#opts.clock.monotonicMs() + forMs);
    if (this.#demotedUntil.size > 4 * MAX_RELAYS) {
      const oldest = this.#demotedUntil.keys().next().value as string;
      this.#demotedUntil.delete(oldest);
    }
  }

  /** Looks the relay topic up now (coalesced; at most once per minGapMs); resolves when done. */
  refresh(): Promise<void> {
    if (this.#lookup !== undefined) return this.#lookup;
    const dht = this.#opts.dht;
    const now = this.#opts.clock.monotonicMs();
    if (dht === undefined || this.#isClosed || now - this.#lastLookupMs < this.#gapMs) {
      return Promise.resolve();
    }
    this.#lastLookupMs = now;
    const run = async (): Promise<void> => {
      const lists = await Promise.all(
        relayTopicDays(this.#opts.clock.wallMs()).map((day) =>
          // Quick: NATed nodes in the DHT (dhtchat users among them) answer nobody but their own contacts; a
          // lookup must not wait on them once k nodes answered.
          dht
            .getPeers(relayTopic(day), { isQuick: true })
            .then((r) => r.peers)
            .catch(() => [] as UdpAddress[]),
        ),
      );
      if (this.#isClosed) return;
      const found: UdpAddress[] = [];
      const seen = new Set<string>();
      for (const peer of lists.flat()) {
        const key = addressKey(peer);
        if (seen.has(key) || found.length >= MAX_RELAYS) continue;
        if (peer.port === 0 || (!this.#opts.allowPrivate && !isPublicHost(peer.host))) continue;
        seen.add(key);
        found.push({ host: peer.host, port: peer.port });
      }
      this.#gapMs =
        found.length > 0
          ? RELAY_DIRECTORY_TIMING.minGapMs
          : Math.min(RELAY_DIRECTORY_TIMING.maxGapMs, 2 * this.#gapMs);
      // An empty answer (a lookup that failed) keeps what we had: those relays may well still be there.
      if (found.length > 0 || this.#found.length === 0) {
        this.#found = found;
        this.#foundAtMs = this.#opts.clock.monotonicMs();
      }
      this.#log.debug({ relays: found.length }, 'relay topic looked up');
    };
    this.#lookup = run().finally(() => {
      this.#lookup = undefined;
    });
    return this.#lookup;
  }

  close(): void {
    this.#isClosed = true;
  }
}
