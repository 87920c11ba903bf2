/**
 * A volunteer relay's node, as `dhtchat relay` runs it (and tests on the memory network): one datagram transport
 * split between a DHT node (to announce itself on the relay topic) and a uTP endpoint whose every incoming
 * stream is a relay half. Nothing of chat runs here: no identity, no store.
 *
 *   const host = new RelayHost({ transport, clock, random, logger, bootstrap, allowPrivate, limits });
 *   await host.start();        // joins the DHT (or not: it keeps trying), then announces every 15 min
 *   host.stats(); host.close();
 */
import { DhtNode, type DhtNodeOptions } from '../../dht/index.ts';
import {
  DatagramDemux,
  type RelayLimits,
  RelayServer,
  type RelayStats,
  UtpEndpoint,
  UtpStream,
} from '../../net/index.ts';
import type { Clock, DatagramTransport, Logger, Random } from '../../runtime/index.ts';
import { type RelayAnnouncement, RelayAnnouncer } from './relay-announcer.ts';

export interface RelayHostOptions {
  readonly transport: DatagramTransport;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly bootstrap: DhtNodeOptions['bootstrap'];
  readonly allowPrivate: boolean;
  readonly limits?: Partial<RelayLimits>;
  readonly onAnnounced?: (result: RelayAnnouncement) => void;
  readonly onJoinEvent?: DhtNodeOptions['onJoinEvent'];
}

export class RelayHost {
  readonly dht: DhtNode;
  readonly relay: RelayServer;
  readonly utp: UtpEndpoint;
  readonly #demux: DatagramDemux;
  readonly #announcer: RelayAnnouncer;
  #isStarted = false;

  constructor(opts: RelayHostOptions) {
    this.#demux = new DatagramDemux(opts.transport);
    this.dht = new DhtNode({
      transport: this.#demux.krpc,
      clock: opts.clock,
      random: opts.random,
      logger: opts.logger.child({ part: 'dht' }),
      bootstrap: opts.bootstrap,
      allowPrivate: opts.allowPrivate,
      onJoinEvent: (event) => {
        opts.onJoinEvent?.(event);
        // Announces made before the DHT was reachable were lost: make them now, not at the next tick.
        if (event.kind === 'joined' && event.isRejoin && this.#isStarted)
          void this.#announcer.announceNow().then(opts.onAnnounced);
      },
    });
    this.relay = new RelayServer({
      clock: opts.clock,
      logger: opts.logger.child({ part: 'relay' }),
      ...(opts.limits === undefined ? {} : { limits: opts.limits }),
    });
    const limits = this.relay.limits;
    // Room for every half the relay may hold, and the usual reserve for our own dials (we make none).
    const maxConnections = Math.max(1024, 2 * limits.maxPairs + limits.maxWaitingHalves + 64);
    this.utp = new UtpEndpoint({
      transport: this.#demux.utp,
      clock: opts.clock,
      random: opts.random,
      logger: opts.logger.child({ part: 'utp' }),
      maxConnections,
    });
    this.#announcer = new RelayAnnouncer({
      dht: this.dht,
      clock: opts.clock,
      logger: opts.logger,
      ...(opts.onAnnounced === undefined ? {} : { onAnnounced: opts.onAnnounced }),
    });
  }

  async start(): Promise<void> {
    this.utp.listen((socket) =>
      this.relay.accept(new UtpStream(socket, { allowHalfOpen: true }), socket.remoteAddress),
    );
    await this.dht.start().catch(() => {});
    this.#isStarted = true;
    this.#announcer.start();
  }

  stats(): RelayStats {
    return this.relay.stats();
  }

  close(): void {
    this.#announcer.close();
    this.relay.close();
    this.utp.close();
    this.dht.close();
    this.#demux.close();
  }
}
