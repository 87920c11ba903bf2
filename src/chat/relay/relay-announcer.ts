/**
 * A volunteer relay makes itself known: announce_peer on the relay topic of the day (relay-topic.ts), with
 * implied_port so storage nodes record the port our packets come from (the relay's one UDP socket, where uTP
 * listens too). Again every announceEveryMs (BEP 5 peers expire; libtorrent keeps them 30 minutes), and at once
 * when the day turns. An announce that no node took (the DHT not reachable yet) is tried again after 30 s,
 * doubling up to the usual period.
 */
import type { DhtNode } from '../../dht/index.ts';
import { type Clock, type Logger, nullLogger, type Timer } from '../../runtime/index.ts';
import { DAY_EPOCH_MS } from '../epoch.ts';
import { RELAY_TOPIC_OVERLAP_MS, relayTopic, relayTopicDays } from './relay-topic.ts';

export const RELAY_ANNOUNCE_EVERY_MS = 15 * 60_000;
const RETRY_FIRST_MS = 30_000;

export interface RelayAnnouncement {
  readonly days: number[];
  /** Storage nodes that took the announce, over all days. */
  readonly stored: number;
}

export class RelayAnnouncer {
  readonly #dht: Pick<DhtNode, 'announcePeer'>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onAnnounced: (result: RelayAnnouncement) => void;
  #timer: Timer | undefined;
  #retryMs = RETRY_FIRST_MS;
  #isClosed = false;

  constructor(opts: {
    dht: Pick<DhtNode, 'announcePeer'>;
    clock: Clock;
    logger?: Logger;
    onAnnounced?: (result: RelayAnnouncement) => void;
  }) {
    this.#dht = opts.dht;
    this.#clock = opts.clock;
    this.#log = opts.logger ?? nullLogger;
    this.#onAnnounced = opts.onAnnounced ?? (() => {});
  }

  start(): void {
    this.#tick();
  }

  /** Announces on every topic that counts now; resolves with how many storage nodes took it. */
  async announceNow(): Promise<RelayAnnouncement> {
    const days = relayTopicDays(this.#clock.wallMs());
    const results = await Promise.all(
      days.map((day) =>
        this.#dht
          .announcePeer(relayTopic(day))
          .then((r) => r.stored)
          .catch((error: unknown) => {
            this.#log.warn({ error: String(error) }, 'relay announce failed');
            return 0;
          }),
      ),
    );
    return { days, stored: results.reduce((a, b) => a + b, 0) };
  }

  close(): void {
    this.#isClosed = true;
    this.#timer?.cancel();
  }

  #tick(): void {
    if (this.#isClosed) return;
    void this.announceNow().then((result) => {
      if (this.#isClosed) return;
      this.#onAnnounced(result);
      const isStored = result.stored > 0;
      const delayMs = isStored ? this.#untilNextMs() : this.#retryMs;
      this.#retryMs = isStored ? RETRY_FIRST_MS : Math.min(RELAY_ANNOUNCE_EVERY_MS, 2 * this.#retryMs);
      this.#timer?.cancel();
      this.#timer = this.#clock.setTimer(delayMs, () => this.#tick());
    });
  }

  /** The usual period, or just after the next day's topic starts to count (the overlap before midnight). */
  #untilNextMs(): number {
    const now = this.#clock.wallMs();
    const nextDayStartsMs =
      (Math.floor(now / DAY_EPOCH_MS) + 1) * DAY_EPOCH_MS - RELAY_TOPIC_OVERLAP_MS + 1000;
    const untilOverlapMs = nextDayStartsMs > now ? nextDayStartsMs - now : RELAY_ANNOUNCE_EVERY_MS;
    return Math.min(RELAY_ANNOUNCE_EVERY_MS, untilOverlapMs);
  }
}
