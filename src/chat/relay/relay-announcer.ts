/**
 * A volunteer relay makes itself known: announce_peer on the relay topic of the day (relay-topic.ts), with
 * implied_port so storage nodes record the port our packets come from (the relay's one UDP socket, where uTP
 * listens too). Again every announceEveryMs (BEP 5 peers expire; libtorrent keeps them 30 minutes), and at once
 * when the day turns. Failures are logged and retried at the next tick.
 */
import type { DhtNode } from '../../dht/index.ts';
import { type Clock, type Logger, nullLogger, type Timer } from '../../runtime/index.ts';
import { DAY_EPOCH_MS } from '../epoch.ts';
import { RELAY_TOPIC_OVERLAP_MS, relayTopic, relayTopicDays } from './relay-topic.ts';

export const RELAY_ANNOUNCE_EVERY_MS = 15 * 60_000;

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
    const days = relayTopicDays(this.#clock.now());
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
      if (!this.#isClosed) this.#onAnnounced(result);
    });
    const now = this.#clock.now();
    // Just after the next day's topic starts to count (the overlap before midnight), so it is announced at once.
    const nextDayStartsMs =
      (Math.floor(now / DAY_EPOCH_MS) + 1) * DAY_EPOCH_MS - RELAY_TOPIC_OVERLAP_MS + 1000;
    const untilOverlapMs = nextDayStartsMs > now ? nextDayStartsMs - now : RELAY_ANNOUNCE_EVERY_MS;
    this.#timer = this.#clock.setTimer(Math.min(RELAY_ANNOUNCE_EVERY_MS, untilOverlapMs), () => this.#tick());
  }
}
